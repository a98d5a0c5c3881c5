/* /api/v1/ws: the event stream. Every committed engine event goes to each
 * socket allowed to see it, as one text frame. Admins, supervisors and API
 * tokens see everything; an operator sees conversation and message events
 * of its groups and of what is assigned or queued to it, plus operator,
 * group, queue and template events. A socket too slow to keep up is
 * dropped by the HTTP layer's per-socket queue bound (and catches up through
 * the REST API after reconnecting), so the server never grows without limit. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/query.h"

static void ws_remove(sb_api *api, uint64_t ws_id)
{
    for (sb_ws_client **pp = &api->ws; *pp; pp = &(*pp)->next) {
        if ((*pp)->ws_id != ws_id) continue;
        sb_ws_client *c = *pp;
        *pp = c->next;
        free(c);
        return;
    }
}

static void on_message(void *ud, uint64_t ws_id, bool binary, const void *data, size_t len)
{
    sb_api *api = ud;
    /* Clients may ping at the application level to test the path end to end. */
    static const char ping[] = "{\"type\":\"ping\"}";
    if (!binary && len == sizeof ping - 1 && memcmp(data, ping, len) == 0) {
        static const char pong[] = "{\"type\":\"pong\"}";
        sb_ws_send(api->d.http, ws_id, false, pong, sizeof pong - 1);
    }
}

static void on_close(void *ud, uint64_t ws_id, int code)
{
    (void)code;
    ws_remove(ud, ws_id);
}

static void ws_open(sb_http_req *req, void *ud)
{
    sb_api *api = ud;
    char token[512];
    sb_principal who;
    bool ok = sb_query_get(req->query, "token", token, sizeof token) >= 0 &&
              sb_api_auth_token(api, token, &who);
    if (!ok && !sb_api_auth(api, req, &who)) {
        sb_http_error(api->d.http, req->id, 401, "unauthorized", "missing or invalid token");
        return;
    }
    sb_ws_client *c = calloc(1, sizeof *c);
    if (!c) {
        sb_http_error(api->d.http, req->id, 503, "unavailable", "out of memory");
        return;
    }
    c->who = who;
    static const sb_ws_handlers h = {on_message, on_close};
    if (sb_ws_accept(api->d.http, req->id, &h, api, &c->ws_id) != SB_OK) {
        free(c);
        return;
    }
    c->next = api->ws;
    api->ws = c;
}

/* What an operator needs to decide whether it may see one event. */
typedef struct {
    bool scoped;              /* about one conversation */
    const char *group_id, *operator_id, *conv_id;
    const char *also[3];      /* operators named by a transfer or a queue target */
} ev_scope;

static void scope_of(json_t *ev, ev_scope *s)
{
    memset(s, 0, sizeof *s);
    json_t *conv = json_object_get(ev, "conversation");
    if (json_is_object(conv)) {
        s->scoped = true;
        s->group_id = json_string_value(json_object_get(conv, "group_id"));
        s->operator_id = json_string_value(json_object_get(conv, "operator_id"));
    } else if (json_is_string(json_object_get(ev, "conversation_id"))) {
        s->scoped = true;
        s->conv_id = json_string_value(json_object_get(ev, "conversation_id"));
    }
    s->also[0] = json_string_value(json_object_get(ev, "from_operator_id"));
    s->also[1] = json_string_value(json_object_get(ev, "previous_operator_id"));
    s->also[2] = json_string_value(json_object_get(ev, "target_operator_id"));
}

static bool may_see(sb_api *api, const sb_ws_client *c, const ev_scope *s)
{
    /* API tokens (no user id), admins and supervisors see everything. */
    if (!s->scoped || sb_api_sees_all(&c->who) || !*c->who.user_id) return true;
    for (int i = 0; i < 3; i++)
        if (s->also[i] && strcmp(s->also[i], c->who.user_id) == 0) return true;
    if (s->conv_id) {
        bool vis = false;
        return sb_engine_conversation_visible(api->d.engine, s->conv_id, c->who.user_id, &vis) ==
                   SB_OK && vis;
    }
    return sb_engine_operator_sees(api->d.engine, c->who.user_id, s->group_id, s->operator_id);
}

static void on_event(void *ud, const sb_event *ev)
{
    sb_api *api = ud;
    /* bot.input and client.forget are for plugins: operators see the
     * message itself, and an erased client's accounts go nowhere else */
    if (!api->ws || strncmp(ev->type, "bot.", 4) == 0 || strcmp(ev->type, "client.forget") == 0)
        return;
    json_t *o = json_loadb(ev->json, ev->json_len, 0, NULL);
    ev_scope s;
    scope_of(o, &s);
    sb_ws_client *c = api->ws;
    while (c) {
        /* A failed send may drop the socket and call on_close, which frees c. */
        sb_ws_client *next = c->next;
        if (may_see(api, c, &s)) sb_ws_send(api->d.http, c->ws_id, false, ev->json, ev->json_len);
        c = next;
    }
    json_decref(o);
}

void sb_api_ws_init(sb_api *api)
{
    sb_http_route(api->d.http, "GET", "/api/v1/ws", false, ws_open, api, api);
    if (api->d.engine) sb_engine_subscribe(api->d.engine, "", on_event, api, api);
}

void sb_api_ws_stop(sb_api *api)
{
    if (api->d.engine) sb_engine_unsubscribe_owner(api->d.engine, api);
    for (sb_ws_client *c = api->ws; c; c = c->next)
        sb_ws_close(api->d.http, c->ws_id, 1001, "server stopping");
}

void sb_api_ws_free(sb_api *api)
{
    while (api->ws) {
        sb_ws_client *c = api->ws;
        api->ws = c->next;
        free(c);
    }
}
