/* ${NAME} and ${NAME:-default} in config values. */
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *buf; size_t len, cap; } strbuf;

static int put(strbuf *b, const char *s, size_t n)
{
    if (b->len + n > SB_ENV_MAX_VALUE) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p) return -2;
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* The text of a bad reference for the message, cut short when long. */
static void bad_ref(const char *ref, size_t n, char *why, size_t whylen)
{
    int shown = n > 40 ? 40 : (int)n;
    snprintf(why, whylen, "bad variable reference '%.*s%s'", shown, ref,
             n > 40 ? "..." : "");
}

int sb_env_expand(const char *in, char **out, char *why, size_t whylen)
{
    strbuf b = {0};
    int rc = put(&b, "", 0);
    const char *p = in;
    while (rc == 0 && *p) {
        const char *ref = strstr(p, "${");
        if (!ref) { rc = put(&b, p, strlen(p)); break; }
        rc = put(&b, p, (size_t)(ref - p));
        if (rc != 0) break;
        const char *close = strchr(ref, '}');
        if (!close) {
            snprintf(why, whylen, "unterminated ${");
            free(b.buf);
            return -1;
        }
        const char *name = ref + 2, *q = name;
        if (name_start(*q))
            while (name_char(*q)) q++;
        size_t name_len = (size_t)(q - name);
        bool has_default = q[0] == ':' && q[1] == '-';
        if (name_len == 0 || (q != close && !has_default)) {
            bad_ref(ref, (size_t)(close - ref) + 1, why, whylen);
            free(b.buf);
            return -1;
        }
        char *key = strndup(name, name_len);
        if (!key) { rc = -2; break; }
        const char *val = getenv(key);
        if (val) {
            rc = put(&b, val, strlen(val));
        } else if (has_default) {
            rc = put(&b, q + 2, (size_t)(close - (q + 2)));
        } else {
            snprintf(why, whylen, "environment variable %s is not set", key);
            free(key);
            free(b.buf);
            return -1;
        }
        free(key);
        p = close + 1;
    }
    if (rc != 0) {
        snprintf(why, whylen, rc == -1 ? "longer than 1 MiB after ${} expansion"
                                       : "out of memory");
        free(b.buf);
        return -1;
    }
    *out = b.buf;
    return 0;
}
