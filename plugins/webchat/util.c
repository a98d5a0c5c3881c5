/* Small HTTP helpers for the visitor API: headers, query values, CORS and
 * JSON answers that a page on another origin can read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wc.h"

const char *wc_header(const sb_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool wc_query(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = q; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t o = 0;
            for (size_t i = nl + 1; i < len; i++) {
                char c = p[i];
                if (c == '+') c = ' ';
                else if (c == '%') {
                    int a = i + 2 < len ? hexval(p[i + 1]) : -1, b = a >= 0 ? hexval(p[i + 2]) : -1;
                    if (a < 0 || b < 0) return false;
                    c = (char)(a * 16 + b);
                    i += 2;
                }
                if (c == 0 || o + 1 >= cap) return false;
                out[o++] = c;
            }
            out[o] = 0;
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

size_t wc_cors(const wc_state *s, const sb_http_request *r, sb_header *hdr, bool *allowed)
{
    const char *origin = wc_header(r, "Origin");
    *allowed = true;
    /* Without an Origin the caller is the same page or not a browser; the
     * list only keeps other sites' pages from embedding this widget. */
    if (!origin) return 0;
    if (s && s->cfg.n_origins) {
        *allowed = false;
        for (size_t i = 0; i < s->cfg.n_origins; i++)
            if (strcmp(s->cfg.origins[i], origin) == 0) *allowed = true;
        if (!*allowed) return 0;
    }
    hdr[0] = (sb_header){"Access-Control-Allow-Origin", origin};
    hdr[1] = (sb_header){"Access-Control-Allow-Methods", "GET, POST, OPTIONS"};
    hdr[2] = (sb_header){"Access-Control-Allow-Headers", "Content-Type"};
    hdr[3] = (sb_header){"Vary", "Origin"};
    return 4;
}

void wc_reply_json(const sb_host *h, sb_ctx *ctx, const sb_http_request *r, const wc_state *s,
                   int status, json_t *j)
{
    sb_header hdr[5];
    bool allowed;
    wc_cors(s, r, hdr, &allowed);
    wc_reply_to(h, ctx, r->reply_id, allowed ? wc_header(r, "Origin") : NULL, status, j);
}

void wc_reply_to(const sb_host *h, sb_ctx *ctx, uint64_t reply_id, const char *origin,
                 int status, json_t *j)
{
    sb_header hdr[3];
    size_t n = 0;
    if (origin) {
        hdr[n++] = (sb_header){"Access-Control-Allow-Origin", origin};
        hdr[n++] = (sb_header){"Vary", "Origin"};
    }
    hdr[n++] = (sb_header){"Cache-Control", "no-store"};
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        h->http_error(ctx, reply_id, 500, "internal", "out of memory");
        return;
    }
    h->http_reply(ctx, reply_id, status, "application/json; charset=utf-8", hdr, n, text,
                  strlen(text));
    free(text);
}

void wc_reply_error(const sb_host *h, sb_ctx *ctx, const sb_http_request *r, const wc_state *s,
                    int status, const char *code, const char *message)
{
    wc_reply_json(h, ctx, r, s, status,
                  json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}
