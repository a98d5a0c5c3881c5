/* The REST API under /api/v1 (shared/design/api.md). One prefix route, split
 * here by path segments: ids are opaque strings in the URL. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/query.h"

#define MAX_SEGS 6
#define MAX_BUTTONS 20

void sb_api_send_json(sb_api *api, uint64_t req_id, int status, char *json)
{
    if (!json) {
        sb_http_error(api->d.http, req_id, 500, "internal", "out of memory");
        return;
    }
    sb_http_respond(api->d.http, req_id, status, NULL, NULL, 0, json, strlen(json));
    free(json);
}

void sb_api_send_status(sb_api *api, uint64_t req_id, sb_status st, const char *what)
{
    char msg[256];
    switch (st) {
    case SB_ERR_NOT_FOUND:
        snprintf(msg, sizeof msg, "%s not found", what);
        sb_http_error(api->d.http, req_id, 404, "not_found", msg);
        break;
    case SB_ERR_INVALID:
        snprintf(msg, sizeof msg, "%s: invalid", what);
        sb_http_error(api->d.http, req_id, 400, "bad_request", msg);
        break;
    case SB_ERR_TOO_BIG:
        snprintf(msg, sizeof msg, "%s: too large", what);
        sb_http_error(api->d.http, req_id, 413, "too_large", msg);
        break;
    case SB_ERR_STATE:
        snprintf(msg, sizeof msg, "%s: not allowed in its current state", what);
        sb_http_error(api->d.http, req_id, 409, "conflict", msg);
        break;
    default:
        sb_http_error(api->d.http, req_id, 503, "unavailable", "storage is not available");
    }
}

/* "?limit=" (default 50, max 500) and "?before=" for history pages. */
static bool page_args(sb_api *api, sb_http_req *req, size_t *limit, char *before, size_t cap)
{
    char buf[32];
    *limit = 50;
    long r = sb_query_get(req->query, "limit", buf, sizeof buf);
    if (r >= 0) {
        char *end;
        long v = strtol(buf, &end, 10);
        if (r == 0 || *end || v < 1) {
            sb_http_error(api->d.http, req->id, 400, "bad_request",
                          "limit: expected a whole number from 1 to 500");
            return false;
        }
        *limit = v > 500 ? 500 : (size_t)v;
    }
    before[0] = 0;
    r = sb_query_get(req->query, "before", before, cap);
    if (r == -1) r = sb_query_get(req->query, "cursor", before, cap);
    if (r == -2) {
        sb_http_error(api->d.http, req->id, 400, "bad_request", "before: malformed cursor");
        return false;
    }
    return true;
}

static void post_message(sb_api *api, sb_http_req *req, const char *conv_id)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!json_is_object(body)) {
        char msg[256];
        snprintf(msg, sizeof msg, "body: expected a JSON object (%s)", jerr.text);
        sb_http_error(api->d.http, req->id, 400, "bad_request", msg);
        json_decref(body);
        return;
    }
    json_t *text = json_object_get(body, "text"), *buttons = json_object_get(body, "buttons");
    const char *err = NULL;
    sb_button b[MAX_BUTTONS];
    size_t nb = 0;
    if (!json_is_string(text) || json_string_length(text) == 0)
        err = "text: required, a non-empty string";
    else if (buttons && !json_is_null(buttons) &&
             (!json_is_array(buttons) || json_array_size(buttons) > MAX_BUTTONS))
        err = "buttons: expected an array of at most 20 {id, title}";
    for (size_t i = 0; !err && json_is_array(buttons) && i < json_array_size(buttons); i++) {
        json_t *it = json_array_get(buttons, i);
        b[nb].id = json_string_value(json_object_get(it, "id"));
        b[nb].title = json_string_value(json_object_get(it, "title"));
        if (!b[nb].id || !b[nb].title || !*b[nb].id) err = "buttons[]: id and title required";
        nb++;
    }
    if (err) {
        sb_http_error(api->d.http, req->id, 400, "bad_request", err);
        json_decref(body);
        return;
    }
    sb_reply r = {.conversation_id = conv_id, .author_kind = "operator", .text =
                  json_string_value(text), .buttons = b, .n_buttons = nb};
    char *out = NULL;
    sb_status st = sb_engine_reply(api->d.engine, &r, &out);
    json_decref(body);
    if (st != SB_OK) sb_api_send_status(api, req->id, st, "conversation");
    else sb_api_send_json(api, req->id, 202, out);
}

/* Splits "/api/v1/a/b/c" into segments after "/api/v1". */
static size_t split(const char *path, char seg[MAX_SEGS][128])
{
    size_t n = 0;
    const char *p = path + strlen("/api/v1");
    while (*p == '/') p++;
    while (*p && n < MAX_SEGS) {
        size_t l = strcspn(p, "/");
        if (l >= 128) return MAX_SEGS + 1;
        if (sb_url_decode(p, l, seg[n], 128, 0) < 0) return MAX_SEGS + 1;
        n++;
        p += l;
        while (*p == '/') p++;
    }
    return *p ? MAX_SEGS + 1 : n;
}

static void dispatch(sb_http_req *req, void *ud)
{
    sb_api *api = ud;
    char seg[MAX_SEGS][128], before[64];
    size_t n = split(req->path, seg), limit;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    char *out = NULL;
    sb_status st;
    if (!api->d.engine) {
        sb_http_error(api->d.http, req->id, 503, "unavailable", "not ready");
        return;
    }
    if (n == 1 && strcmp(seg[0], "plugins") == 0 && get) {
        if (sb_api_require(api, req, "admin", NULL))
            sb_api_send_json(api, req->id, 200, sb_plugins_json(api->d.plugins));
        return;
    }
    if (n >= 2 && (strcmp(seg[0], "conversations") == 0 || strcmp(seg[0], "clients") == 0)) {
        bool conv = seg[0][1] == 'o';
        if (!sb_api_require(api, req, "admin,supervisor,operator", NULL)) return;
        if (n == 2 && get) {
            st = conv ? sb_engine_conversation_json(api->d.engine, seg[1], &out)
                      : sb_engine_client_json(api->d.engine, seg[1], &out);
            if (st == SB_OK) sb_api_send_json(api, req->id, 200, out);
            else sb_api_send_status(api, req->id, st, conv ? "conversation" : "client");
            return;
        }
        if (n == 3 && strcmp(seg[2], "messages") == 0 && get) {
            if (!page_args(api, req, &limit, before, sizeof before)) return;
            const char *b = before[0] ? before : NULL;
            st = conv ? sb_engine_conversation_messages(api->d.engine, seg[1], b, limit, &out)
                      : sb_engine_client_messages(api->d.engine, seg[1], b, limit, &out);
            if (st == SB_OK) sb_api_send_json(api, req->id, 200, out);
            else sb_api_send_status(api, req->id, st, conv ? "conversation" : "client");
            return;
        }
        if (conv && n == 3 && strcmp(seg[2], "messages") == 0 && post) {
            post_message(api, req, seg[1]);
            return;
        }
    }
    sb_http_error(api->d.http, req->id, 404, "not_found", "no such API path or method");
}

void sb_api_rest_init(sb_api *api)
{
    sb_http_route(api->d.http, NULL, "/api/v1", true, dispatch, api, api);
}
