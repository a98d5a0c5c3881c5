#include "sign.h"

#include <ctype.h>
#include <mbedtls/md.h>
#include <string.h>

void ac_sign(const char *secret, const void *body, size_t len, char out[AC_SIG_LEN + 1])
{
    unsigned char mac[32];
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)secret,
                    strlen(secret), body, len, mac);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (int i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[AC_SIG_LEN] = 0;
}

bool ac_verify(const char *secret, const void *body, size_t len, const char *header)
{
    if (!header || strlen(header) != AC_SIG_LEN || strncmp(header, "sha256=", 7) != 0)
        return false;
    char want[AC_SIG_LEN + 1];
    ac_sign(secret, body, len, want);
    /* Every byte is compared, so timing says nothing about where they differ. */
    unsigned char diff = 0;
    for (size_t i = 7; i < AC_SIG_LEN; i++)
        diff |= (unsigned char)(tolower((unsigned char)header[i]) ^ want[i]);
    return diff == 0;
}
