/* Small helpers: UTF-8 safe cuts, RFC 3339 times, query parameters, ids. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>

#include "textbot.h"

size_t tbp_utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    /* back off continuation bytes so the cut lands before a lead byte */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

char *tbp_strndup_utf8(const char *s, size_t max)
{
    size_t n = tbp_utf8_cut(s, max);
    char *o = malloc(n + 1);
    if (!o) return NULL;
    memcpy(o, s, n);
    o[n] = 0;
    return o;
}

void tbp_rfc3339(int64_t ms, char out[32])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int tbp_query_param(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query ? query : "";
    while (*p) {
        const char *end = strchr(p, '&');
        if (!end) end = p + strlen(p);
        if ((size_t)(end - p) >= kl && !strncmp(p, key, kl) && (p[kl] == '=' || p + kl == end)) {
            const char *v = p + kl + (p[kl] == '=');
            size_t o = 0;
            while (v < end) {
                char c = *v++;
                if (c == '+') c = ' ';
                else if (c == '%') {
                    if (end - v < 2 || hexval(v[0]) < 0 || hexval(v[1]) < 0) return -1;
                    c = (char)(hexval(v[0]) * 16 + hexval(v[1]));
                    v += 2;
                    if (!c) return -1;
                }
                if (o + 1 >= cap) return -1;
                out[o++] = c;
            }
            out[o] = 0;
            return 1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

int tbp_valid_id(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= TB_ID_MAX;
}
