/* The REST API under /api/v1 (shared/design/api.md): one prefix route, a
 * table of patterns, and the helpers every handler shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/query.h"

static const char A[] = "admin", AS[] = "admin,supervisor", ALL[] = "admin,supervisor,operator";

static const sb_rest_route k_routes[] = {
    {"POST", "auth/login", NULL, sb_rest_login},
    {"POST", "auth/logout", NULL, sb_rest_logout},
    {"GET", "openapi.json", NULL, sb_rest_openapi},
    {"GET", "me", ALL, sb_rest_me},
    {"PUT", "me/status", ALL, sb_rest_me_status},
    /* everyone reads the team (transfer, the supervisor's view); hashes
     * are never rendered */
    {"GET", "operators", ALL, sb_rest_operators},
    {"POST", "operators", A, sb_rest_operators},
    {"GET", "operators/*", ALL, sb_rest_operator},
    {"PATCH", "operators/*", A, sb_rest_operator},
    {"DELETE", "operators/*", A, sb_rest_operator},
    {"GET", "groups", ALL, sb_rest_groups},
    {"POST", "groups", A, sb_rest_groups},
    {"GET", "groups/*", ALL, sb_rest_group},
    {"PATCH", "groups/*", A, sb_rest_group},
    {"DELETE", "groups/*", A, sb_rest_group},
    {"GET", "queues", AS, sb_rest_queues},
    {"GET", "templates", ALL, sb_rest_templates},
    {"POST", "templates", AS, sb_rest_templates},
    {"GET", "templates/*", ALL, sb_rest_template},
    {"PUT", "templates/*", AS, sb_rest_template},
    {"DELETE", "templates/*", AS, sb_rest_template},
    {"GET", "plugins", A, sb_rest_plugins},
    {"GET", "conversations", ALL, sb_rest_conversations},
    {"GET", "conversations/*", ALL, sb_rest_conversation},
    {"GET", "conversations/*/messages", ALL, sb_rest_conversation_messages},
    {"POST", "conversations/*/messages", ALL, sb_rest_conversation_messages},
    {"POST", "conversations/*/take", ALL, sb_rest_conversation_action},
    {"POST", "conversations/*/assign", AS, sb_rest_conversation_action},
    {"POST", "conversations/*/transfer", ALL, sb_rest_conversation_action},
    {"POST", "conversations/*/close", ALL, sb_rest_conversation_action},
    {"PUT", "conversations/*/tags", ALL, sb_rest_conversation_tags},
    {"PATCH", "conversations/*/attributes", ALL, sb_rest_conversation_attributes},
    {"GET", "clients", ALL, sb_rest_clients},
    {"GET", "clients/*", ALL, sb_rest_client},
    {"PATCH", "clients/*", ALL, sb_rest_client},
    {"DELETE", "clients/*", A, sb_rest_client},
    {"GET", "clients/*/messages", ALL, sb_rest_client_messages},
    {"POST", "clients/*/merge", AS, sb_rest_client_merge},
    {"GET", "audit", AS, sb_rest_audit},
    {"POST", "audit/*/undo", AS, sb_rest_audit_undo},
};

const sb_rest_route *sb_api_routes(size_t *n)
{
    *n = sizeof k_routes / sizeof k_routes[0];
    return k_routes;
}

void sb_api_send_json(sb_api *api, uint64_t req_id, int status, char *json)
{
    if (!json) {
        sb_http_error(api->d.http, req_id, 500, "internal", "out of memory");
        return;
    }
    sb_http_respond(api->d.http, req_id, status, NULL, NULL, 0, json, strlen(json));
    free(json);
}

void sb_api_reply(sb_rest_ctx *c, sb_status st, int ok_status, char **outp, const char *err,
                  const char *what)
{
    char *out = outp ? *outp : NULL;
    if (outp) *outp = NULL;
    sb_api *api = c->api;
    char msg[512];
    int code = 500;
    const char *name = "internal";
    switch (st) {
    case SB_OK:
        if (ok_status == 204) {
            free(out);
            sb_http_respond(api->d.http, c->req->id, 204, NULL, NULL, 0, "", 0);
        } else {
            sb_api_send_json(api, c->req->id, ok_status, out ? out : strdup("{}"));
        }
        return;
    case SB_ERR_NOT_FOUND: code = 404; name = "not_found"; break;
    case SB_ERR_INVALID: code = 400; name = "bad_request"; break;
    case SB_ERR_TOO_BIG: code = 413; name = "too_large"; break;
    case SB_ERR_EXISTS: code = 409; name = "exists"; break;
    case SB_ERR_STATE: code = 409; name = "conflict"; break;
    case SB_ERR_FULL: code = 507; name = "storage_full"; break;
    default: break;
    }
    /* err explains bad input or a conflict; a missing object or an internal
     * failure has its own words. */
    if (err && *err && code != 404 && code != 500) snprintf(msg, sizeof msg, "%s", err);
    else if (code == 404) snprintf(msg, sizeof msg, "%s not found", what);
    else if (code == 409) snprintf(msg, sizeof msg, "%s: not allowed in its current state", what);
    else snprintf(msg, sizeof msg, "%s: %s", what, code == 500 ? "internal error" : "invalid");
    json_t *cur = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", name, "message", msg);
    if (e && cur) json_object_set_new(json_object_get(e, "error"), "current", cur);
    else json_decref(cur);
    sb_api_send_json(api, c->req->id, code, e ? json_dumps(e, JSON_COMPACT) : NULL);
    json_decref(e);
}

json_t *sb_api_body(sb_rest_ctx *c)
{
    json_error_t je;
    json_t *b = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (json_is_object(b)) return b;
    char msg[256];
    if (!b) snprintf(msg, sizeof msg, "body: not valid JSON at line %d column %d: %s", je.line,
                     je.column, je.text);
    else snprintf(msg, sizeof msg, "body: expected a JSON object");
    json_decref(b);
    sb_http_error(c->api->d.http, c->req->id, 400, "bad_request", msg);
    return NULL;
}

bool sb_api_page(sb_rest_ctx *c, size_t *limit, char *cursor, size_t cap)
{
    char buf[32];
    *limit = 50;
    long r = sb_query_get(c->req->query, "limit", buf, sizeof buf);
    if (r >= 0) {
        char *end;
        long v = strtol(buf, &end, 10);
        if (r == 0 || *end || v < 1) {
            sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                          "limit: expected a whole number from 1 to 500");
            return false;
        }
        *limit = v > 500 ? 500 : (size_t)v;
    }
    cursor[0] = 0;
    r = sb_query_get(c->req->query, "cursor", cursor, cap);
    if (r == -1) r = sb_query_get(c->req->query, "before", cursor, cap);
    if (r == -2) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request", "cursor: malformed");
        return false;
    }
    return true;
}

/* Splits "/api/v1/a/b/c" into decoded segments after "/api/v1". */
static bool split(sb_rest_ctx *c)
{
    const char *p = c->req->path + strlen("/api/v1");
    c->n_seg = 0;
    while (*p == '/') p++;
    while (*p) {
        size_t l = strcspn(p, "/");
        if (c->n_seg == SB_API_MAX_SEGS || l >= SB_API_SEG_MAX ||
            sb_url_decode(p, l, c->seg[c->n_seg], SB_API_SEG_MAX, 0) < 0)
            return false;
        c->n_seg++;
        p += l;
        while (*p == '/') p++;
    }
    return true;
}

static bool matches(const sb_rest_ctx *c, const char *pattern)
{
    size_t i = 0;
    for (const char *p = pattern; *p; i++) {
        size_t l = strcspn(p, "/");
        if (i >= c->n_seg) return false;
        if (!(l == 1 && *p == '*') && (strlen(c->seg[i]) != l || memcmp(c->seg[i], p, l) != 0))
            return false;
        p += l + (p[l] == '/');
    }
    return i == c->n_seg;
}

static void dispatch(sb_http_req *req, void *ud)
{
    sb_api *api = ud;
    sb_rest_ctx c = {.api = api, .req = req};
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    if (!split(&c)) {
        sb_http_error(api->d.http, req->id, 404, "not_found", "no such API path");
        return;
    }
    bool path_known = false;
    for (size_t i = 0; i < sizeof k_routes / sizeof k_routes[0]; i++) {
        const sb_rest_route *r = &k_routes[i];
        if (!matches(&c, r->pattern)) continue;
        path_known = true;
        if (strcmp(r->method, method) != 0) continue;
        if (!api->d.engine) {
            sb_http_error(api->d.http, req->id, 503, "unavailable", "not ready");
            return;
        }
        if (r->roles && !sb_api_require(api, req, r->roles, &c.who)) return;
        r->fn(&c);
        return;
    }
    if (path_known) sb_http_error(api->d.http, req->id, 405, "method_not_allowed",
                                  "this path does not take that method");
    else sb_http_error(api->d.http, req->id, 404, "not_found", "no such API path");
}

void sb_api_rest_init(sb_api *api)
{
    sb_http_route(api->d.http, NULL, "/api/v1", true, dispatch, api, api);
}

/* core/api/openapi.json, embedded at build time. */
extern const char sb_openapi_json[];
extern const size_t sb_openapi_json_len;

void sb_rest_openapi(sb_rest_ctx *c)
{
    sb_http_respond(c->api->d.http, c->req->id, 200, "application/json", NULL, 0,
                    sb_openapi_json, sb_openapi_json_len);
}
