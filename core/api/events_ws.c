/* /api/v1/ws: the event stream. Every committed engine event is sent to
 * each authorised socket as one text frame. A socket too slow to keep up
 * is dropped by the HTTP layer's per-socket queue bound (and reconnects to
 * catch up through the REST API), so the server never grows without limit. */
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
        free(c->role);
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
    const char *role = NULL;
    if (sb_query_get(req->query, "token", token, sizeof token) >= 0)
        role = sb_api_auth_token(api, token);
    if (!role) role = sb_api_auth(api, req);
    if (!role) {
        sb_http_error(api->d.http, req->id, 401, "unauthorized", "missing or invalid token");
        return;
    }
    sb_ws_client *c = calloc(1, sizeof *c);
    if (!c || !(c->role = strdup(role))) {
        free(c);
        sb_http_error(api->d.http, req->id, 503, "unavailable", "out of memory");
        return;
    }
    static const sb_ws_handlers h = {on_message, on_close};
    if (sb_ws_accept(api->d.http, req->id, &h, api, &c->ws_id) != SB_OK) {
        free(c->role);
        free(c);
        return;
    }
    c->next = api->ws;
    api->ws = c;
}

static void on_event(void *ud, const sb_event *ev)
{
    sb_api *api = ud;
    sb_ws_client *c = api->ws;
    while (c) {
        /* A failed send may drop the socket and call on_close, which frees c. */
        sb_ws_client *next = c->next;
        sb_ws_send(api->d.http, c->ws_id, false, ev->json, ev->json_len);
        c = next;
    }
}

void sb_api_ws_init(sb_api *api)
{
    sb_http_route(api->d.http, "GET", "/api/v1/ws", false, ws_open, api, api);
    if (api->d.engine) sb_engine_subscribe(api->d.engine, "", on_event, api, api);
}

void sb_api_ws_free(sb_api *api)
{
    if (api->d.engine) sb_engine_unsubscribe_owner(api->d.engine, api);
    while (api->ws) {
        sb_ws_client *c = api->ws;
        api->ws = c->next;
        sb_ws_close(api->d.http, c->ws_id, 1001, "server stopping");
        free(c->role);
        free(c);
    }
}
