/* Visitor identities and messenger start tokens. A visitor's credential is
 * "<vid>.<mac>": vid is 128 random bits (the client's external_id, seen by
 * operators), mac an HMAC of it under the instance's secret, so the
 * credential cannot be derived from what operators see. */
#include <mbedtls/md.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "wc.h"

static const char k_hex[] = "0123456789abcdef";

bool wc_random(void *buf, size_t n)
{
    return getrandom(buf, n, 0) == (ssize_t)n;
}

bool wc_hex_id(char *out, size_t n)
{
    unsigned char b[64];
    if (n > sizeof b || !wc_random(b, n)) return false;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = k_hex[b[i] >> 4];
        out[2 * i + 1] = k_hex[b[i] & 15];
    }
    out[2 * n] = 0;
    return true;
}

/* The credential of vid: "<vid>.<first 128 bits of HMAC-SHA256 in hex>". */
static void credential(const wc_state *s, const char *vid, char cred[WC_VISITOR_LEN + 1])
{
    unsigned char mac[32];
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), s->secret, sizeof s->secret,
                    (const unsigned char *)vid, WC_VID_HEX, mac);
    memcpy(cred, vid, WC_VID_HEX);
    cred[WC_VID_HEX] = '.';
    for (int i = 0; i < 16; i++) {
        cred[WC_VID_HEX + 1 + 2 * i] = k_hex[mac[i] >> 4];
        cred[WC_VID_HEX + 2 + 2 * i] = k_hex[mac[i] & 15];
    }
    cred[WC_VISITOR_LEN] = 0;
}

bool wc_visitor_new(const wc_state *s, char vid[WC_VID_HEX + 1], char cred[WC_VISITOR_LEN + 1])
{
    if (!wc_hex_id(vid, WC_VID_HEX / 2)) return false;
    credential(s, vid, cred);
    return true;
}

bool wc_visitor_check(const wc_state *s, const char *cred, char vid[WC_VID_HEX + 1])
{
    if (!cred || strlen(cred) != WC_VISITOR_LEN || cred[WC_VID_HEX] != '.') return false;
    for (size_t i = 0; i < WC_VID_HEX; i++)
        if (!strchr(k_hex, cred[i]) || !cred[i]) return false;
    char want[WC_VISITOR_LEN + 1], v[WC_VID_HEX + 1];
    memcpy(v, cred, WC_VID_HEX);
    v[WC_VID_HEX] = 0;
    credential(s, v, want);
    /* Compared in full, so timing says nothing of where they differ. */
    unsigned char diff = 0;
    for (size_t i = 0; i < WC_VISITOR_LEN; i++) diff |= (unsigned char)(want[i] ^ cred[i]);
    if (diff) return false;
    memcpy(vid, v, WC_VID_HEX + 1);
    return true;
}

/* Token records: "t:<token>" -> "<vid> <expiry ms>"; "vt:<vid>" -> token. */
static bool token_read(wc_state *s, const char *token, char vid[WC_VID_HEX + 1], long long *exp)
{
    char key[8 + WC_TOKEN_LEN], val[80];
    size_t len = 0;
    int kl = snprintf(key, sizeof key, "t:%s", token);
    if (s->host->kv_get(s->ctx, key, (size_t)kl, val, sizeof val - 1, &len) != SB_OK) return false;
    val[len] = 0;
    return sscanf(val, "%32[0-9a-f] %lld", vid, exp) == 2 && strlen(vid) == WC_VID_HEX;
}

bool wc_token_lookup(wc_state *s, const char *token, char vid[WC_VID_HEX + 1])
{
    long long exp = 0;
    if (!token || strlen(token) != WC_TOKEN_LEN) return false;
    for (const char *p = token; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    if (!token_read(s, token, vid, &exp)) return false;
    if (exp <= s->host->now_ms(s->ctx)) {
        char key[8 + WC_TOKEN_LEN];
        int kl = snprintf(key, sizeof key, "t:%s", token);
        s->host->kv_del(s->ctx, key, (size_t)kl, NULL, NULL);
        return false;
    }
    return true;
}

bool wc_token_for(wc_state *s, const char *vid, char token[WC_TOKEN_LEN + 1])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sb_host *h = s->host;
    char vkey[8 + WC_VID_HEX], got[WC_VID_HEX + 1];
    int vkl = snprintf(vkey, sizeof vkey, "vt:%s", vid);
    size_t len = 0;
    long long exp = 0;
    int64_t now = h->now_ms(s->ctx);
    /* Reused while more than half its life is left, so a link shown now
     * still works when the visitor taps it a while later. */
    if (h->kv_get(s->ctx, vkey, (size_t)vkl, token, WC_TOKEN_LEN, &len) == SB_OK &&
        len == WC_TOKEN_LEN) {
        token[WC_TOKEN_LEN] = 0;
        if (token_read(s, token, got, &exp) && strcmp(got, vid) == 0 &&
            exp - now > (long long)(s->cfg.token_ttl_ms / 2))
            return true;
        if (exp) {
            char key[8 + WC_TOKEN_LEN];
            int kl = snprintf(key, sizeof key, "t:%s", token);
            h->kv_del(s->ctx, key, (size_t)kl, NULL, NULL);
        }
    }
    unsigned char b[WC_TOKEN_LEN]; /* 6 bits of each: 132 random bits */
    if (!wc_random(b, sizeof b)) return false;
    for (int i = 0; i < WC_TOKEN_LEN; i++) token[i] = b64[b[i] & 63];
    token[WC_TOKEN_LEN] = 0;
    char key[8 + WC_TOKEN_LEN], val[80];
    int kl = snprintf(key, sizeof key, "t:%s", token);
    int vl = snprintf(val, sizeof val, "%s %lld", vid, (long long)(now + (int64_t)s->cfg.token_ttl_ms));
    return h->kv_put(s->ctx, key, (size_t)kl, val, (size_t)vl, NULL, NULL) == SB_OK &&
           h->kv_put(s->ctx, vkey, (size_t)vkl, token, WC_TOKEN_LEN, NULL, NULL) == SB_OK;
}
