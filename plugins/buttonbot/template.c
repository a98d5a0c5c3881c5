/* Template rendering with per-context escaping. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;
    size_t len, cap;
    int cut;
} buf;

static int put(buf *b, const char *s, size_t n)
{
    if (b->len + n > BB_MAX_RENDER) {
        n = BB_MAX_RENDER - b->len;
        b->cut = 1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static int put_escaped(buf *b, const char *v, bb_escape esc)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)v; *s && !b->cut; s++) {
        char tmp[8];
        size_t n = 0;
        unsigned c = *s;
        if (esc == BB_ESC_URL) {
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~')
                tmp[n++] = (char)c;
            else
                tmp[n++] = '%', tmp[n++] = hex[c >> 4], tmp[n++] = hex[c & 15];
        } else if (esc == BB_ESC_JSON) {
            if (c == '"' || c == '\\') tmp[n++] = '\\', tmp[n++] = (char)c;
            else if (c == '\n') tmp[n++] = '\\', tmp[n++] = 'n';
            else if (c == '\r') tmp[n++] = '\\', tmp[n++] = 'r';
            else if (c == '\t') tmp[n++] = '\\', tmp[n++] = 't';
            else if (c < 0x20) n = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", c);
            else tmp[n++] = (char)c;
        } else {
            tmp[n++] = (char)c;
        }
        if (put(b, tmp, n) != 0) return -1;
    }
    return 0;
}

/* Parses the placeholder starting at t ("{{"): sets ns/name and returns the
 * length through "}}", or 0 when malformed. */
static size_t placeholder(const char *t, char *ns, char *name)
{
    const char *p = t + 2;
    while (*p == ' ') p++;
    size_t i = 0;
    while ((p[i] >= 'a' && p[i] <= 'z') && i < 15) i++;
    if (p[i] != '.' || i == 0) return 0;
    memcpy(ns, p, i);
    ns[i] = 0;
    if (strcmp(ns, "client") && strcmp(ns, "conversation") && strcmp(ns, "secret")) return 0;
    p += i + 1;
    i = 0;
    while (((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
            (p[i] >= '0' && p[i] <= '9') || p[i] == '_') && i < 64)
        i++;
    if (i == 0) return 0;
    memcpy(name, p, i);
    name[i] = 0;
    p += i;
    while (*p == ' ') p++;
    if (p[0] != '}' || p[1] != '}') return 0;
    return (size_t)(p + 2 - t);
}

int bb_template_check(const char *t, char *err, size_t errlen)
{
    char ns[16], name[65];
    for (const char *p = t; (p = strstr(p, "{{")); ) {
        size_t n = placeholder(p, ns, name);
        if (!n) {
            snprintf(err, errlen, "bad placeholder at \"%.24s\": expected "
                     "{{client.NAME}}, {{conversation.NAME}} or {{secret.NAME}}", p);
            return -1;
        }
        p += n;
    }
    return 0;
}

void bb_template_each(const char *t, void (*fn)(void *ud, const char *ns, const char *name),
                      void *ud)
{
    char ns[16], name[65];
    for (const char *p = t; p && (p = strstr(p, "{{")); ) {
        size_t n = placeholder(p, ns, name);
        if (n) fn(ud, ns, name);
        p += n ? n : 2;
    }
}

char *bb_template_render(const char *t, bb_escape esc, bb_lookup_fn lookup, void *ud)
{
    buf b = {0};
    if (put(&b, "", 0) != 0) return NULL;
    char ns[16], name[65];
    const char *p = t;
    while (*p && !b.cut) {
        const char *o = strstr(p, "{{");
        if (!o) {
            if (put(&b, p, strlen(p)) != 0) goto fail;
            break;
        }
        if (put(&b, p, (size_t)(o - p)) != 0) goto fail;
        size_t n = placeholder(o, ns, name);
        if (!n) {  /* checked at load; kept literally if it ever gets here */
            if (put(&b, o, 2) != 0) goto fail;
            p = o + 2;
            continue;
        }
        const char *v = lookup(ud, ns, name);
        /* A secret is trusted config, often a base URL: not URL-encoded. */
        bb_escape e = esc == BB_ESC_URL && !strcmp(ns, "secret") ? BB_ESC_NONE : esc;
        if (v && put_escaped(&b, v, e) != 0) goto fail;
        p = o + n;
    }
    return b.p;
fail:
    free(b.p);
    return NULL;
}
