/* Test host: the plugin's HTTP routes, requests sent to them by the test
 * (with the API's caller and its checks), and the replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "th_internal.h"

typedef struct route {
    char *method; /* NULL: any */
    char *full;   /* the whole path the route answers */
    unsigned flags;
    sb_http_handler handler;
    void *ud;
} route;

typedef struct request {
    sb_th_reply pub; /* first: the test holds a pointer to it */
    uint64_t id;
    int abandoned;
    int upgrade;     /* a GET with the WebSocket upgrade headers */
} request;

#define AUTH_FLAGS \
    (SB_ROUTE_AUTH_OPERATOR | SB_ROUTE_AUTH_SUPERVISOR | SB_ROUTE_AUTH_ADMIN)

static void route_free(route *r)
{
    free(r->method);
    free(r->full);
    free(r);
}

static sb_status h_http_route(sb_ctx *ctx, const char *method, const char *path,
                              unsigned flags, sb_http_handler handler, void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "http_route");
    if (!th) return SB_ERR_HANDLE;
    /* AUTH flags count on API routes only (ignored elsewhere, as in the
     * core). /api/v1 itself and /api/v1/ws are the core's. */
    unsigned api = flags & SB_ROUTE_API;
    if (!path || (*path && *path != '/') || !handler ||
        (flags & ~(unsigned)(SB_ROUTE_PAGE | SB_ROUTE_PREFIX | SB_ROUTE_API |
                             AUTH_FLAGS)) ||
        (api && (flags & SB_ROUTE_PAGE)))
        return SB_ERR_INVALID;
    if (api && (!*path || strcmp(path, "/ws") == 0)) return SB_ERR_EXISTS;
    sb_status st = sb_thi_fault(th, "http_route");
    if (st != SB_OK) return st;
    char *full = api ? sb_thi_printf("/api/v1%s", path)
                 : flags & SB_ROUTE_PAGE
                     ? sb_thi_printf("/%s%s", th->plugin_name, path)
                     : sb_thi_printf("/hooks/%s/%s%s", th->plugin_name,
                                     th->instance, path);
    for (size_t i = 0; i < th->routes.n; i++) {
        const route *r = th->routes.v[i];
        if (strcmp(r->full, full) == 0 &&
            (r->flags & SB_ROUTE_PREFIX) == (flags & SB_ROUTE_PREFIX) &&
            (r->method == method ||
             (r->method && method && strcmp(r->method, method) == 0))) {
            free(full);
            return SB_ERR_EXISTS;
        }
    }
    route *r = sb_thi_alloc(sizeof *r);
    r->method = sb_thi_strdup(method);
    r->full = full;
    r->flags = flags;
    r->handler = handler;
    r->ud = ud;
    sb_thi_push(&th->routes, r);
    return SB_OK;
}

/* ---- replies ----------------------------------------------------------------- */

static request *find_open(sb_th *th, uint64_t id, const char *fn)
{
    for (size_t i = 0; i < th->requests.n; i++) {
        request *q = th->requests.v[i];
        if (q->id != id) continue;
        if (!q->pub.replied && !q->abandoned) return q;
        break;
    }
    sb_thi_log(th, SB_LOG_WARN, "testhost: %s: request %llu is answered, "
               "gone or unknown", fn, (unsigned long long)id);
    return NULL;
}

static void fill(request *q, int status, const char *ctype,
                 const sb_header *hs, size_t n, const void *body, size_t len)
{
    q->pub.replied = 1;
    q->pub.status = status;
    q->pub.content_type = sb_thi_strdup(ctype);
    if (n) {
        sb_header *copy = sb_thi_alloc(n * sizeof *copy);
        for (size_t i = 0; i < n; i++) {
            copy[i].name = sb_thi_strdup(hs[i].name);
            copy[i].value = sb_thi_strdup(hs[i].value);
        }
        q->pub.headers = copy;
        q->pub.n_headers = n;
    }
    q->pub.body = sb_thi_memdup(body, len);
    q->pub.body_len = len;
}

static sb_status h_http_reply(sb_ctx *ctx, uint64_t reply_id, int status,
                              const char *ctype, const sb_header *hs, size_t n,
                              const void *body, size_t len)
{
    sb_th *th = sb_thi_enter(ctx, "http_reply");
    if (!th) return SB_ERR_HANDLE;
    if (status < 100 || status > 599 || (n && !hs) || (len && !body))
        return SB_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!hs[i].name || !hs[i].value) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "http_reply");
    if (st != SB_OK) return st;
    request *q = find_open(th, reply_id, "http_reply");
    if (!q) return SB_ERR_HANDLE;
    fill(q, status, ctype, hs, n, body, len);
    return SB_OK;
}

/* Writes s JSON-escaped (no quotes) to out, or only measures it when out
 * is NULL; returns the length. */
static size_t json_escape(char *out, const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            if (out) out[n] = '\\', out[n + 1] = (char)c;
            n += 2;
        } else if (c < 0x20) {
            if (out) snprintf(out + n, 7, "\\u%04x", c);
            n += 6;
        } else {
            if (out) out[n] = (char)c;
            n++;
        }
    }
    return n;
}

/* {"error":{"code":...,"message":...}} as the core's API answers. */
static char *error_body(const char *code, const char *message, size_t *len)
{
    static const char a[] = "{\"error\":{\"code\":\"", b[] = "\",\"message\":\"",
                      c[] = "\"}}";
    size_t n = sizeof a - 1 + json_escape(NULL, code) + sizeof b - 1 +
               json_escape(NULL, message) + sizeof c - 1;
    char *s = sb_thi_alloc(n + 1), *p = s;
    memcpy(p, a, sizeof a - 1), p += sizeof a - 1;
    p += json_escape(p, code);
    memcpy(p, b, sizeof b - 1), p += sizeof b - 1;
    p += json_escape(p, message);
    memcpy(p, c, sizeof c);
    *len = n;
    return s;
}

static void fill_error(request *q, int status, const char *code,
                       const char *message)
{
    size_t len;
    char *body = error_body(code, message, &len);
    fill(q, status, "application/json", NULL, 0, body, len);
    free(body);
}

static sb_status h_http_error(sb_ctx *ctx, uint64_t reply_id, int status,
                              const char *code, const char *message)
{
    sb_th *th = sb_thi_enter(ctx, "http_error");
    if (!th) return SB_ERR_HANDLE;
    if (status < 100 || status > 599 || !code || !message) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "http_error");
    if (st != SB_OK) return st;
    request *q = find_open(th, reply_id, "http_error");
    if (!q) return SB_ERR_HANDLE;
    fill_error(q, status, code, message);
    return SB_OK;
}

const sb_th_reply *sb_thi_http_upgrade(sb_th *th, uint64_t reply_id,
                                       sb_status *st)
{
    request *q = find_open(th, reply_id, "ws_accept");
    if (!q) {
        *st = SB_ERR_HANDLE;
        return NULL;
    }
    if (!q->upgrade) {
        fill_error(q, 400, "bad_request", "not a WebSocket upgrade request");
        *st = SB_ERR_INVALID;
        return NULL;
    }
    fill(q, 101, NULL, NULL, 0, NULL, 0);
    *st = SB_OK;
    return &q->pub;
}

/* ---- requests from the test ------------------------------------------------- */

static const char *header(const sb_header *hs, size_t n, const char *name)
{
    for (size_t i = 0; hs && i < n; i++)
        if (hs[i].name && hs[i].value && strcasecmp(hs[i].name, name) == 0)
            return hs[i].value;
    return NULL;
}

static int is_upgrade(const char *method, const sb_header *hs, size_t n)
{
    const char *up = header(hs, n, "Upgrade"), *key = header(hs, n, "Sec-WebSocket-Key");
    return strcmp(method, "GET") == 0 && up && strcasecmp(up, "websocket") == 0 &&
           key && *key;
}

sb_status sb_th_http_auth(sb_th *th, const char *role, const char *user)
{
    if (role && (!user || (strcmp(role, "admin") != 0 &&
                           strcmp(role, "supervisor") != 0 &&
                           strcmp(role, "operator") != 0)))
        return SB_ERR_INVALID;
    free(th->auth_role);
    free(th->auth_user);
    th->auth_role = sb_thi_strdup(role);
    th->auth_user = role ? sb_thi_strdup(user) : NULL;
    return SB_OK;
}

/* The core's check of an API route's AUTH flags; 1 when the caller may
 * pass, else q is answered 401 or 403. */
static int auth_passes(const sb_th *th, const route *r, request *q)
{
    unsigned f = r->flags & AUTH_FLAGS;
    if (!f) return 1;
    const char *role = th->auth_role;
    if (!role) {
        fill_error(q, 401, "unauthorized", "a valid bearer token is required");
        return 0;
    }
    int admin = strcmp(role, "admin") == 0;
    int ok = (f & SB_ROUTE_AUTH_ADMIN) ? admin
             : (f & SB_ROUTE_AUTH_SUPERVISOR) ? admin || strcmp(role, "supervisor") == 0
                                              : 1;
    if (ok) return 1;
    fill_error(q, 403, "forbidden", (f & SB_ROUTE_AUTH_ADMIN)
                                        ? "admins only"
                                        : "supervisors and admins only");
    return 0;
}

/* The best route for path and method: exact beats prefix, longer beats
 * shorter. *path_known tells a 405 from a 404 when there is none. */
static const route *match(const sb_th *th, const char *method, const char *path,
                          const char **sub, int *path_known)
{
    const route *best = NULL;
    size_t best_rank = 0;
    *path_known = 0;
    for (size_t i = 0; i < th->routes.n; i++) {
        const route *r = th->routes.v[i];
        size_t fl = strlen(r->full);
        int exact = strcmp(path, r->full) == 0;
        if (!exact && !((r->flags & SB_ROUTE_PREFIX) &&
                        strncmp(path, r->full, fl) == 0 &&
                        (path[fl] == '/' || r->full[fl - 1] == '/')))
            continue;
        *path_known = 1;
        if (r->method && strcmp(r->method, method) != 0) continue;
        size_t rank = fl * 2 + 1 + !(r->flags & SB_ROUTE_PREFIX);
        if (rank > best_rank) {
            best = r;
            best_rank = rank;
            *sub = path + fl;
        }
    }
    return best;
}

const sb_th_reply *sb_th_http_request(sb_th *th, const char *method,
                                      const char *target,
                                      const sb_header *headers,
                                      size_t n_headers, const void *body,
                                      size_t body_len)
{
    sb_thi_loop_only(th, "sb_th_http_request");
    request *q = sb_thi_alloc(sizeof *q);
    q->id = ++th->next_reply_id;
    sb_thi_push(&th->requests, q);

    const char *qm = strchr(target, '?');
    char *path = qm ? sb_thi_memdup(target, (size_t)(qm - target))
                    : sb_thi_strdup(target);
    const char *sub = "";
    int path_known;
    const route *r = th->ctx.live ? match(th, method, path, &sub, &path_known)
                                  : (path_known = 0, NULL);
    if (!r) {
        if (path_known) fill_error(q, 405, "method_not_allowed", "method not allowed");
        else fill_error(q, 404, "not_found", "no such route");
        free(path);
        return &q->pub;
    }
    int api = (r->flags & SB_ROUTE_API) != 0;
    if (api && !auth_passes(th, r, q)) {
        free(path);
        return &q->pub;
    }
    q->upgrade = is_upgrade(method, headers, n_headers);
    /* Fresh copies freed right after the call: a plugin keeping a borrowed
     * pointer reads freed memory, which AddressSanitizer reports. */
    char *body_copy = sb_thi_memdup(body, body ? body_len : 0);
    char *method_copy = sb_thi_strdup(method), *sub_copy = sb_thi_strdup(sub);
    char *query = sb_thi_strdup(qm ? qm + 1 : "");
    char *role = api ? sb_thi_strdup(th->auth_role) : NULL;
    char *user = api ? sb_thi_strdup(th->auth_user) : NULL;
    sb_http_request req = {
        .struct_size = sizeof req, .method = method_copy, .path = path,
        .subpath = sub_copy, .query = query, .headers = headers,
        .n_headers = headers ? n_headers : 0, .body = body_copy,
        .body_len = body ? body_len : 0, .peer = "127.0.0.1:40000",
        .reply_id = q->id, .auth_role = role, .auth_user = user};
    r->handler(r->ud, &req);
    free(role);
    free(user);
    free(body_copy);
    free(method_copy);
    free(sub_copy);
    free(query);
    free(path);
    return &q->pub;
}

void sb_th_http_abandon(sb_th *th, const sb_th_reply *reply)
{
    for (size_t i = 0; i < th->requests.n; i++) {
        request *q = th->requests.v[i];
        if (&q->pub == reply) q->abandoned = 1;
    }
}

void sb_thi_http_drop_routes(sb_th *th)
{
    for (size_t i = 0; i < th->routes.n; i++) route_free(th->routes.v[i]);
    th->routes.n = 0;
}

void sb_thi_route_free(sb_th *th)
{
    sb_thi_http_drop_routes(th);
    free(th->routes.v);
    for (size_t i = 0; i < th->requests.n; i++) {
        request *q = th->requests.v[i];
        for (size_t k = 0; k < q->pub.n_headers; k++) {
            free((char *)q->pub.headers[k].name);
            free((char *)q->pub.headers[k].value);
        }
        free((sb_header *)q->pub.headers);
        free((char *)q->pub.content_type);
        free((char *)q->pub.body);
        free(q);
    }
    free(th->requests.v);
    free(th->auth_role);
    free(th->auth_user);
}

void sb_thi_route_fill(sb_host *h)
{
    h->http_route = h_http_route;
    h->http_reply = h_http_reply;
    h->http_error = h_http_error;
}
