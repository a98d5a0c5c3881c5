#include "api/password.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SALT_LEN 16
#define KEY_LEN 32

static int derive(const char *pw, const unsigned char *salt, size_t slen, unsigned iter,
                  unsigned char key[KEY_LEN])
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pw, strlen(pw), salt, slen,
                                       iter, KEY_LEN, key);
    mbedtls_md_free(&md);
    return rc;
}

int sb_password_hash(const char *pw, unsigned iter, char *out, size_t cap)
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    unsigned char s64[32], k64[64];
    size_t sl, kl;
    if (strlen(pw) > SB_PASSWORD_MAX || iter == 0) return -1;
    if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt) return -1;
    if (derive(pw, salt, sizeof salt, iter, key) != 0) return -1;
    if (mbedtls_base64_encode(s64, sizeof s64, &sl, salt, sizeof salt) != 0 ||
        mbedtls_base64_encode(k64, sizeof k64, &kl, key, sizeof key) != 0)
        return -1;
    int n = snprintf(out, cap, "pbkdf2-sha256$%u$%.*s$%.*s", iter, (int)sl, s64, (int)kl, k64);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

bool sb_password_verify(const char *pw, const char *enc)
{
    unsigned iter;
    char s64[64], k64[96];
    if (!enc || strlen(pw) > SB_PASSWORD_MAX ||
        sscanf(enc, "pbkdf2-sha256$%u$%63[^$]$%95s", &iter, s64, k64) != 3 || iter == 0 ||
        iter > 10000000)
        return false;
    unsigned char salt[48], want[72], got[KEY_LEN];
    size_t sl, wl;
    if (mbedtls_base64_decode(salt, sizeof salt, &sl, (unsigned char *)s64, strlen(s64)) != 0 ||
        mbedtls_base64_decode(want, sizeof want, &wl, (unsigned char *)k64, strlen(k64)) != 0 ||
        wl != KEY_LEN || derive(pw, salt, sl, iter, got) != 0)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < KEY_LEN; i++) diff |= (unsigned char)(got[i] ^ want[i]);
    return diff == 0;
}
