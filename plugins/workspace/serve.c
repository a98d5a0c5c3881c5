/* Answers under /workspace: the embedded files, config.json, and the
 * redirect of /workspace to /workspace/. Every answer revalidates
 * (Cache-Control: no-cache + ETag), so an upgrade is picked up at the next
 * load and an unchanged file costs a 304. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "workspace.h"

/* Defence in depth: even a rendering bug cannot run injected script, since
 * only the workspace's own files may. Images and media may come from a
 * channel's file server; the API and its WebSocket are on this origin. */
#define CSP                                                                              \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "   \
    "media-src * data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; " \
    "frame-ancestors 'none'; form-action 'none'"

const workspace_asset *workspace_asset_find(const char *path)
{
    for (size_t i = 0; i < workspace_n_assets; i++)
        if (strcmp(workspace_assets[i].path, path) == 0) return &workspace_assets[i];
    return NULL;
}

const char *workspace_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } k_types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
            if (strcasecmp(dot, k_types[i].ext) == 0) return k_types[i].type;
    return "application/octet-stream";
}

int workspace_etag_matches(const char *inm, const char *etag)
{
    if (!inm) return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n == 1 && *p == '*') return 1;
        /* If-None-Match uses the weak comparison: W/"x" matches "x". */
        const char *t = p;
        if (n > 2 && t[0] == 'W' && t[1] == '/') t += 2, n -= 2;
        if (n == elen && memcmp(t, etag, n) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static const char *header(const sb_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

static void reply_body(workspace_state *s, const sb_http_request *req, const char *ctype,
                       const char *etag, const char *body, size_t len)
{
    const sb_header h[] = {
        {"ETag", etag},
        {"Cache-Control", "no-cache"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Content-Security-Policy", CSP},
    };
    size_t nh = sizeof h / sizeof h[0];
    if (workspace_etag_matches(header(req, "If-None-Match"), etag)) {
        s->host->http_reply(s->ctx, req->reply_id, 304, NULL, h, nh, NULL, 0);
        return;
    }
    s->host->http_reply(s->ctx, req->reply_id, 200, ctype, h, nh, body, len);
}

void workspace_serve(void *ud, const sb_http_request *req)
{
    workspace_state *s = ud;
    const char *sub = req->subpath;
    if (!*sub) {
        /* Relative URLs in the page resolve against /workspace/, not /. */
        char loc[600];
        if (strlen(req->path) > 280 || strlen(req->query) > 300) {
            s->host->http_error(s->ctx, req->reply_id, 414, "uri_too_long", "path or query too long");
            return;
        }
        snprintf(loc, sizeof loc, "%.280s/%s%.300s", req->path, *req->query ? "?" : "", req->query);
        const sb_header h[] = {{"Location", loc}, {"Cache-Control", "no-cache"}};
        s->host->http_reply(s->ctx, req->reply_id, 301, "text/plain; charset=utf-8", h, 2,
                            "moved to /workspace/\n", 21);
        return;
    }
    if (strcmp(sub, "/config.json") == 0) {
        reply_body(s, req, "application/json", s->config_etag, s->config_json, s->config_len);
        return;
    }
    const workspace_asset *a = workspace_asset_find(strcmp(sub, "/") == 0 ? "/index.html" : sub);
    if (!a) {
        s->host->http_error(s->ctx, req->reply_id, 404, "not_found", "no such workspace file");
        return;
    }
    reply_body(s, req, workspace_content_type(a->path), a->etag, a->data, a->len);
}
