#include "signature.h"

#include <ctype.h>
#include <mbedtls/md.h>
#include <string.h>
#include <strings.h>

void sbp_sign(const char *secret, const void *body, size_t len, char out[SBP_SIG_LEN + 1])
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
    out[SBP_SIG_LEN] = 0;
}

bool sbp_verify(const char *secret, const void *body, size_t len, const char *header)
{
    if (!header || strlen(header) != SBP_SIG_LEN || strncmp(header, "sha256=", 7) != 0)
        return false;
    char want[SBP_SIG_LEN + 1];
    sbp_sign(secret, body, len, want);
    /* Every byte is compared, so timing says nothing about where they differ. */
    unsigned char diff = 0;
    for (size_t i = 7; i < SBP_SIG_LEN; i++)
        diff |= (unsigned char)(tolower((unsigned char)header[i]) ^ want[i]);
    return diff == 0;
}

static void sha256(const char *s, unsigned char out[32])
{
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)s, strlen(s),
               out);
}

bool sbp_bearer_ok(const char *token, const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return false;
    const char *given = authorization + 7;
    while (*given == ' ') given++;
    unsigned char a[32], b[32];
    sha256(given, a);
    sha256(token, b);
    unsigned char diff = 0;
    for (int i = 0; i < 32; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0 && *token;
}
