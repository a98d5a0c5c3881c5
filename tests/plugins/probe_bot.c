/* Test fixture for ABI 1.1: a bot and a user of API routes and WebSockets.
 * Client texts drive it: "operator" hands off (to config `group`), "fail"
 * answers the event with an error (the core must hand off), "close" closes
 * with a rating request, "attr" sets attributes and tags, "info" replies
 * with the client id from conversation_get, anything else is echoed with a
 * button. Routes: GET /api/v1/probe/whoami (any role), GET
 * /api/v1/probe/admin (admins), GET /api/v1/probe/open (no auth needed,
 * tells who called if anyone), GET /probe_bot/ws (a WebSocket that answers
 * every message in upper case ASCII, and "bye" with a close). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchboard/plugin.h>

typedef struct {
    const sb_host *h;
    sb_ctx *c;
    const char *group;
} probe;

static void whoami(void *ud, const sb_http_request *req)
{
    probe *p = ud;
    char body[256];
    int ok = SB_REQ_HAS(req, auth_user);
    int n = snprintf(body, sizeof body, "{\"role\":\"%s\",\"user\":\"%s\"}",
                     ok && req->auth_role ? req->auth_role : "",
                     ok && req->auth_user ? req->auth_user : "");
    p->h->http_reply(p->c, req->reply_id, 200, "application/json", NULL, 0, body, (size_t)n);
}

static void ws_msg(void *ud, uint64_t id, int binary, const char *data, size_t len)
{
    probe *p = ud;
    (void)binary;
    if (len == 3 && memcmp(data, "bye", 3) == 0) {
        p->h->ws_close(p->c, id, 1000, "bye");
        return;
    }
    char buf[512];
    size_t n = len < sizeof buf ? len : sizeof buf;
    for (size_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)data[i]);
    p->h->ws_send(p->c, id, buf, n);
}

static void ws_open(void *ud, const sb_http_request *req)
{
    probe *p = ud;
    p->h->ws_accept(p->c, req->reply_id, ws_msg, NULL, p);
}

static sb_status on_event(void *st, const sb_bot_event *ev)
{
    probe *p = st;
    const char *t = ev->text ? ev->text : "";
    char buf[4096];
    if (strcmp(t, "operator") == 0)
        return p->h->bot_handoff(p->c, ev->conversation_id, p->group, NULL, 0, "the client asked");
    if (strcmp(t, "fail") == 0) return SB_ERR_IO;
    if (strcmp(t, "close") == 0) return p->h->bot_close(p->c, ev->conversation_id, 1);
    if (strcmp(t, "attr") == 0) {
        sb_status s = p->h->bot_set_attributes(p->c, ev->conversation_id, SB_SCOPE_CLIENT,
                                               "{\"plan\":\"gold\"}");
        if (s == SB_OK)
            s = p->h->bot_set_attributes(p->c, ev->conversation_id, SB_SCOPE_CONVERSATION,
                                         "{\"topic\":\"cards\"}");
        if (s == SB_OK) s = p->h->bot_add_tag(p->c, ev->conversation_id, SB_SCOPE_CLIENT, "vip");
        if (s == SB_OK)
            s = p->h->bot_add_tag(p->c, ev->conversation_id, SB_SCOPE_CONVERSATION, "bot-seen");
        return s == SB_OK ? p->h->bot_reply(p->c, ev->conversation_id, "done", NULL, 0) : s;
    }
    if (strcmp(t, "info") == 0) {
        size_t len = 0;
        sb_status s = p->h->conversation_get(p->c, ev->conversation_id, buf, sizeof buf, &len);
        if (s != SB_OK) return s;
        const char *k = strstr(buf, "\"client\":{");
        return p->h->bot_reply(p->c, ev->conversation_id, k ? k : "no client", NULL, 0);
    }
    sb_button b = {.id = "probe:again", .title = "Again"};
    snprintf(buf, sizeof buf, "%s: %s%s", ev->kind == SB_BOT_START ? "start" : "echo", t,
             ev->button_id ? ev->button_id : "");
    return p->h->bot_reply(p->c, ev->conversation_id, buf, &b, 1);
}

static sb_status init(const sb_host *h, sb_ctx *c, void **st)
{
    if (!SB_HOST_HAS(h, bot_reply) || !SB_HOST_HAS(h, ws_accept)) return SB_ERR_UNSUPPORTED;
    probe *p = calloc(1, sizeof *p);
    if (!p) return SB_ERR_NOMEM;
    p->h = h;
    p->c = c;
    *st = p;
    if (h->config_string(c, "group", &p->group) == SB_ERR_INVALID) return SB_ERR_INVALID;
    sb_status s = h->http_route(c, "GET", "/probe/whoami",
                                SB_ROUTE_API | SB_ROUTE_AUTH_OPERATOR, whoami, p);
    if (s == SB_OK)
        s = h->http_route(c, "GET", "/probe/admin", SB_ROUTE_API | SB_ROUTE_AUTH_ADMIN, whoami, p);
    if (s == SB_OK) s = h->http_route(c, "GET", "/probe/open", SB_ROUTE_API, whoami, p);
    if (s == SB_OK) s = h->http_route(c, "GET", "/ws", SB_ROUTE_PAGE, ws_open, p);
    return s;
}

static void destroy(void *st) { free(st); }

static const sb_plugin desc = {
    SB_PLUGIN_HEADER("probe_bot", "1.0.0", SB_KIND_BOT),
    .init = init,
    .destroy = destroy,
    .bot_event = on_event,
};

SB_PLUGIN_EXPORT(desc)
