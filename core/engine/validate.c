#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are refused,
 * as jansson refuses them when the text is rendered later. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

bool sb_eng_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(p + i, n - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

sb_status sb_eng_check_str(const char *s, size_t max, bool required)
{
    if (!s) return required ? SB_ERR_INVALID : SB_OK;
    size_t n = strnlen(s, max + 1);
    if (n == 0 && required) return SB_ERR_INVALID;
    if (n > max) return SB_ERR_TOO_BIG;
    return sb_eng_utf8_valid(s, n) ? SB_OK : SB_ERR_INVALID;
}

sb_status sb_eng_phone_norm(const char *in, char out[24])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == 20) return SB_ERR_INVALID;
            out[n++] = *p;
        } else if (!strchr("+()-. ", *p)) {
            return SB_ERR_INVALID;
        }
    }
    if (n < 3) return SB_ERR_INVALID;
    out[n] = '\0';
    return SB_OK;
}

sb_status sb_eng_email_norm(const char *in, char out[256])
{
    size_t n = strnlen(in, 255), at = 0, ats = 0;
    if (n == 0 || n > 254) return SB_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c == 0x7f) return SB_ERR_INVALID;
        if (c == '@') { ats++; at = i; }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    if (ats != 1 || at == 0 || at == n - 1) return SB_ERR_INVALID;
    return sb_eng_utf8_valid(out, n) ? SB_OK : SB_ERR_INVALID;
}

char *sb_eng_sanitize(const char *s, size_t max)
{
    if (!s) return NULL;
    size_t n = strnlen(s, max);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (!l) { out[o++] = '?'; i++; continue; }
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    out[o] = '\0';
    return out;
}

size_t sb_eng_key_join(unsigned char *buf, size_t cap, const char *a, const char *b,
                       const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    size_t n = la + 1 + lb + (c ? 1 + lc : 0);
    if (n > cap) return 0;
    memcpy(buf, a, la);
    buf[la] = '\0';
    memcpy(buf + la + 1, b, lb);
    if (c) {
        buf[la + 1 + lb] = '\0';
        memcpy(buf + la + 2 + lb, c, lc);
    }
    return n;
}
