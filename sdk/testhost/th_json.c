/* Test host: the check of bot_set_attributes' JSON object, a flat object of
 * scalars, without a JSON library (the SDK needs none). */
#include <string.h>

#include "th_internal.h"

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static int hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at p ('"' first); the position after it, or NULL. */
static const char *string(const char *p)
{
    for (p++; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20) return NULL; /* also the end */
        if (*p != '\\') continue;
        p++;
        if (*p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (!hex(p[i])) return NULL;
            p += 4;
        } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
            return NULL;
        }
    }
    return p + 1;
}

static const char *digits(const char *p)
{
    if (*p < '0' || *p > '9') return NULL;
    while (*p >= '0' && *p <= '9') p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *number(const char *p)
{
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (!(p = digits(p))) return NULL;
    if (*p == '.' && !(p = digits(p + 1))) return NULL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(p = digits(p))) return NULL;
    }
    return p;
}

static const char *scalar(const char *p)
{
    static const char *const words[] = {"true", "false", "null"};
    if (*p == '"') return string(p);
    for (size_t i = 0; i < 3; i++)
        if (strncmp(p, words[i], strlen(words[i])) == 0) return p + strlen(words[i]);
    return number(p);
}

int sb_thi_json_flat_object(const char *s)
{
    if (!s) return 0;
    const char *p = ws(s);
    if (*p++ != '{') return 0;
    p = ws(p);
    if (*p != '}') {
        for (;;) {
            if (*p != '"' || !(p = string(p))) return 0;
            p = ws(p);
            if (*p++ != ':') return 0;
            if (!(p = scalar(ws(p)))) return 0;
            p = ws(p);
            if (*p == '}') break;
            if (*p++ != ',') return 0;
            p = ws(p);
        }
    }
    return *ws(p + 1) == '\0';
}
