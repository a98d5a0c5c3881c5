/* The test host's ABI 1.1 additions: API routes with roles, WebSockets,
 * bots and typing; driven through the probe plugin (probe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "probe.h"

/* ---- API routes (1.1) ------------------------------------------------------------------ */

static char who[128];
static void on_api(void *ud, const sb_http_request *req)
{
    assert_true(SB_REQ_HAS(req, auth_user));
    snprintf(who, sizeof who, "%s %s|%s|%s", (const char *)ud, req->subpath,
             req->auth_role ? req->auth_role : "-", req->auth_user ? req->auth_user : "-");
    H->http_reply(C, req->reply_id, 200, NULL, NULL, 0, NULL, 0);
}

static void test_api_routes(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->struct_size, sizeof(sb_host));
    assert_int_equal(H->abi_minor, 1);
    assert_true(SB_HOST_HAS(H, client_typing));
    unsigned api = SB_ROUTE_API;
    assert_int_equal(H->http_route(C, "GET", "/kb", api, on_api, "open"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/op", api | SB_ROUTE_AUTH_OPERATOR, on_api, "op"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/sup", api | SB_ROUTE_AUTH_SUPERVISOR, on_api, "sup"), SB_OK);
    assert_int_equal(H->http_route(C, NULL, "/adm", api | SB_ROUTE_PREFIX | SB_ROUTE_AUTH_ADMIN,
                                   on_api, "adm"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/h", 0, on_api, "hook"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/x", api | SB_ROUTE_PAGE, on_api, "x"), SB_ERR_INVALID);
    assert_int_equal(H->http_route(C, "GET", "", api, on_api, "x"), SB_ERR_EXISTS);
    assert_int_equal(H->http_route(C, "GET", "/ws", api, on_api, "x"), SB_ERR_EXISTS);
    assert_int_equal(H->http_route(C, "GET", "/x", 64, on_api, "x"), SB_ERR_INVALID);

    who[0] = 0;
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/kb", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "open |-|-");
    who[0] = 0;
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/api/v1/op", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 401);
    assert_string_equal(r->body, "{\"error\":{\"code\":\"unauthorized\",\"message\":"
                                 "\"a valid bearer token is required\"}}");
    assert_string_equal(who, ""); /* the handler did not run */

    assert_int_equal(sb_th_http_auth(th, "root", "u"), SB_ERR_INVALID);
    assert_int_equal(sb_th_http_auth(th, "operator", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_th_http_auth(th, "operator", "op-1"), SB_OK);
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/op", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "op |operator|op-1");
    r = sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_string_equal(r->body, "{\"error\":{\"code\":\"forbidden\",\"message\":"
                                 "\"supervisors and admins only\"}}");
    sb_th_http_request(th, "GET", "/hooks/probe/p1/h", NULL, 0, NULL, 0);
    assert_string_equal(who, "hook |-|-"); /* no caller outside the API */

    sb_th_http_auth(th, "supervisor", "boss");
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "sup |supervisor|boss");
    r = sb_th_http_request(th, "DELETE", "/api/v1/adm/1", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_non_null(strstr(r->body, "\"admins only\""));
    sb_th_http_auth(th, "admin", "ci-token");
    assert_int_equal(sb_th_http_request(th, "DELETE", "/api/v1/adm/1", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "adm /1|admin|ci-token");
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0)->status, 200);
    assert_int_equal(sb_th_http_request(th, "POST", "/api/v1/kb", NULL, 0, NULL, 0)->status, 405);
    sb_th_http_auth(th, NULL, NULL);
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/adm", NULL, 0, NULL, 0)->status, 401);
    sb_th_free(th);
}

/* ---- WebSockets (1.1) ------------------------------------------------------------------- */

static uint64_t ws_last;
static char ws_got[64];
static int ws_closes, ws_code, ws_binary;

static void on_ws_msg(void *ud, uint64_t id, int binary, const char *data, size_t len)
{
    (void)ud;
    snprintf(ws_got, sizeof ws_got, "%.*s", (int)len, data);
    ws_binary = binary;
    assert_int_equal(H->ws_send(C, id, data, len), SB_OK); /* echo */
}
static void on_ws_close(void *ud, uint64_t id, int code)
{
    (void)ud, (void)id;
    ws_closes++;
    ws_code = code;
}
static void on_ws_req(void *ud, const sb_http_request *req)
{
    (void)ud;
    ws_last = H->ws_accept(C, req->reply_id, on_ws_msg, on_ws_close, NULL);
}

static void test_websockets(void **state)
{
    (void)state;
    sb_th *th = up();
    ws_closes = 0;
    assert_int_equal(H->http_route(C, NULL, "/ws", 0, on_ws_req, NULL), SB_OK);
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/hooks/probe/p1/ws", NULL, 0, NULL, 0);
    assert_int_equal(ws_last, 0); /* no upgrade headers */
    assert_int_equal(r->status, 400);
    assert_null(sb_th_ws_for(th, r));
    sb_header up_post[] = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Key", "k"}};
    sb_th_http_request(th, "POST", "/hooks/probe/p1/ws", up_post, 2, NULL, 0);
    assert_int_equal(ws_last, 0); /* not a GET */
    assert_int_equal(sb_th_fail_next(th, "ws_accept", SB_ERR_NOMEM), SB_OK);
    r = sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    assert_int_equal(ws_last, 0);
    assert_false(r->replied);

    r = sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    assert_int_not_equal(ws_last, 0);
    assert_int_equal(r->status, 101);
    const sb_th_ws *a = sb_th_ws_for(th, r);
    assert_ptr_equal(a, sb_th_ws_get(th, 0));
    assert_int_equal(sb_th_ws_count(th), 1);
    assert_int_equal(a->id, ws_last);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 0, "hello", 5), SB_OK);
    assert_string_equal(ws_got, "hello");
    assert_int_equal(ws_binary, 0);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 1, "\x01\x02", 2), SB_OK);
    assert_int_equal(ws_binary, 1);
    for (int i = 0; i < 10; i++) H->ws_send(C, a->id, "x", 1); /* grows the list */
    assert_int_equal(a->n_sent, 12);
    assert_string_equal(a->sent[0].text, "hello");
    assert_int_equal(a->sent[1].len, 2);
    assert_int_equal(sb_th_ws_peer_close(th, a->id, 4000), SB_OK);
    assert_int_equal(ws_closes, 1);
    assert_int_equal(ws_code, 4000);
    assert_false(a->open);
    assert_int_equal(a->close_code, 4000);
    assert_int_equal(H->ws_send(C, a->id, "x", 1), SB_ERR_HANDLE);
    assert_int_equal(H->ws_close(C, a->id, 1000, NULL), SB_ERR_HANDLE);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 0, "x", 1), SB_ERR_HANDLE);
    assert_int_equal(sb_th_ws_peer_close(th, a->id, 1000), SB_ERR_HANDLE);

    /* the plugin closes: on_close follows at run_pending, never inside */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *b = sb_th_ws_get(th, 1);
    assert_int_equal(H->ws_close(C, b->id, 1005, NULL), SB_ERR_INVALID);
    char reason[130];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    assert_int_equal(H->ws_close(C, b->id, 1000, reason), SB_ERR_INVALID);
    assert_int_equal(H->ws_close(C, b->id, 0, "bye"), SB_OK); /* 0: 1000 */
    assert_int_equal(H->ws_close(C, b->id, 1001, NULL), SB_OK); /* closing */
    assert_int_equal(H->ws_send(C, b->id, "x", 1), SB_ERR_STATE);
    assert_int_equal(ws_closes, 1);
    assert_true(b->plugin_closed);
    assert_string_equal(b->plugin_reason, "bye");
    assert_int_equal(sb_th_run_pending(th), 1);
    assert_int_equal(ws_closes, 2);
    assert_int_equal(ws_code, 1000);
    assert_int_equal(H->ws_send(C, b->id, "x", 1), SB_ERR_HANDLE);

    /* a slow peer: SB_ERR_FULL closes it with 1008 */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *c = sb_th_ws_get(th, 2);
    sb_th_fail_next(th, "ws_send", SB_ERR_FULL);
    assert_int_equal(H->ws_send(C, c->id, "x", 1), SB_ERR_FULL);
    assert_int_equal(c->n_sent, 0);
    sb_th_run_pending(th);
    assert_int_equal(ws_code, 1008);
    assert_int_equal(ws_closes, 3);

    /* open or closing at stop: on_close(1001) before stop(), as in the core */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *d = sb_th_ws_get(th, 3), *e = sb_th_ws_get(th, 4);
    assert_int_equal(H->ws_close(C, e->id, 3001, NULL), SB_OK);
    assert_int_equal(sb_th_ws_peer_close(th, d->id, 0), SB_OK);
    assert_int_equal(ws_code, 1005);
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *f = sb_th_ws_get(th, 5);
    sb_th_stop(th);
    assert_int_equal(ws_closes, 6);
    assert_int_equal(e->close_code, 1001);
    assert_int_equal(f->close_code, 1001);
    assert_false(f->open);
    sb_th_free(th);
}

/* ---- bots (1.1) ------------------------------------------------------------------------- */

static sb_status bot_answer = SB_OK;
static sb_status bot_event_fn(void *s, const sb_bot_event *ev)
{
    (void)s;
    if (bot_answer != SB_OK) return bot_answer;
    sb_button b[] = {{"yes", "Yes"}, {"no", "No"}};
    char text[64];
    snprintf(text, sizeof text, "you said %s", ev->text ? ev->text : "nothing");
    return H->bot_reply(C, ev->conversation_id, text, b, 2);
}

static sb_plugin bot = {
    SB_PLUGIN_HEADER("probe", "0", SB_KIND_BOT),
    .init = probe_init, .bot_event = bot_event_fn,
};

static void test_bots(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "b1");
    bot_answer = SB_OK;
    assert_int_equal(sb_th_start(th, &bot), SB_OK);
    sb_bot_event ev = {.kind = SB_BOT_START, .conversation_id = "c1",
                       .client_id = "cl1", .channel = "telegram", .instance = "main",
                       .message_id = "m1", .text = "hi", .message_json = "{}"};
    assert_int_equal(sb_th_bot_event(th, &ev), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), 1);
    const sb_th_bot_action *a = sb_th_bot_action_get(th, 0);
    assert_int_equal(a->kind, SB_TH_BOT_REPLY);
    assert_string_equal(a->conversation_id, "c1");
    assert_string_equal(a->text, "you said hi");
    assert_int_equal(a->n_buttons, 2);
    assert_string_equal(a->buttons[1].id, "no");
    assert_string_equal(a->buttons[1].title, "No");

    /* argument checks */
    sb_button many[21];
    for (int i = 0; i < 21; i++) many[i] = (sb_button){"id", "t"};
    sb_button bad_id = {"", "t"};
    assert_int_equal(H->bot_reply(C, "c1", NULL, NULL, 0), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, many, 21), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, &bad_id, 1), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "", "t", NULL, 0), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, many, 20), SB_OK);
    const char *bad_json[] = {NULL, "", "[]", "{\"a\":{}}", "{\"a\":[1]}", "{\"a\":1,}",
                              "{a:1}", "{\"a\":01}", "{\"a\":tru}", "{\"a\":\"x} ",
                              "{\"a\":1} x", "{\"a\":\"\\q\"}"};
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++)
        assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CLIENT, bad_json[i]),
                         SB_ERR_INVALID);
    assert_int_equal(H->bot_set_attributes(C, "c1", (sb_scope)7, "{}"), SB_ERR_INVALID);
    assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CONVERSATION,
                     " { \"plan\" : \"gold\\u00e9\", \"n\": -1.5e3, \"vip\": true, \"x\": null } "),
                     SB_OK);
    assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CLIENT, "{}"), SB_OK);
    char tag[66];
    memset(tag, 't', 65);
    tag[65] = 0;
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, tag), SB_ERR_INVALID);
    tag[64] = 0;
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, tag), SB_OK);
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, ""), SB_ERR_INVALID);
    assert_int_equal(sb_th_fail_next(th, "bot_add_tag", SB_ERR_IO), SB_OK);
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, "x"), SB_ERR_IO);
    char reason[514];
    memset(reason, 'r', 513);
    reason[513] = 0;
    assert_int_equal(H->bot_handoff(C, "c1", NULL, NULL, 0, reason), SB_ERR_INVALID);
    assert_int_equal(sb_th_bot_action_count(th), 5); /* reply x2, attrs x2, tag */
    a = sb_th_bot_action_get(th, 2);
    assert_int_equal(a->kind, SB_TH_BOT_ATTRIBUTES);
    assert_int_equal(a->scope, SB_SCOPE_CONVERSATION);
    assert_non_null(strstr(a->json, "\"vip\": true"));
    a = sb_th_bot_action_get(th, 4);
    assert_int_equal(a->kind, SB_TH_BOT_TAG);
    assert_int_equal(strlen(a->tag), 64);

    /* hand-off: the conversation is no longer the bot's */
    reason[512] = 0;
    assert_true(sb_th_conversation_held(th, "c1"));
    assert_int_equal(H->bot_handoff(C, "c1", "sales", "german", 3, reason), SB_OK);
    assert_false(sb_th_conversation_held(th, "c1"));
    a = sb_th_bot_action_get(th, 5);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(a->group_id, "sales");
    assert_string_equal(a->skill, "german");
    assert_int_equal(a->skill_level, 3);
    assert_int_equal(strlen(a->reason), 512);
    assert_int_equal(H->bot_reply(C, "c1", "late", NULL, 0), SB_ERR_STATE);
    assert_int_equal(H->bot_close(C, "c1", 0), SB_ERR_STATE);
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_STATE);
    assert_true(sb_th_log_find(th, "conversation c1 is no longer held") >= 0);

    /* close with rating; a NULL group and skill */
    assert_int_equal(H->bot_close(C, "c2", 1), SB_OK);
    assert_int_equal(sb_th_bot_action_get(th, 6)->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(sb_th_bot_action_get(th, 6)->ask_rating, 1);
    assert_int_equal(H->bot_handoff(C, "c2", NULL, NULL, 0, NULL), SB_ERR_STATE);
    assert_int_equal(H->bot_handoff(C, "c3", NULL, NULL, 0, NULL), SB_OK);
    assert_null(sb_th_bot_action_get(th, 7)->group_id);
    sb_th_conversation_release(th, "c4"); /* an operator took it */
    assert_int_equal(H->bot_add_tag(C, "c4", SB_SCOPE_CONVERSATION, "x"), SB_ERR_STATE);
    assert_null(sb_th_bot_action_get(th, 8));

    /* a failing bot hands the conversation to operators */
    bot_answer = SB_ERR_IO;
    ev.conversation_id = "c5";
    ev.kind = SB_BOT_MESSAGE;
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_IO);
    assert_false(sb_th_conversation_held(th, "c5"));
    ev.conversation_id = NULL;
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_INVALID);

    /* conversation_get */
    char buf[64];
    size_t len = 0;
    const char *js = "{\"conversation\":{\"id\":\"c1\"},\"client\":{\"id\":\"cl1\"}}";
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    sb_th_conversation_set(th, "c1", "{}");
    sb_th_conversation_set(th, "c1", js); /* replaces */
    assert_int_equal(H->conversation_get(C, "c1", buf, strlen(js), &len), SB_ERR_TOO_BIG);
    assert_int_equal(len, strlen(js));
    assert_int_equal(H->conversation_get(C, "c1", NULL, 0, &len), SB_ERR_TOO_BIG);
    assert_int_equal(H->conversation_get(C, "c1", buf, strlen(js) + 1, &len), SB_OK);
    assert_string_equal(buf, js);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, NULL), SB_ERR_INVALID);
    sb_th_fail_next(th, "conversation_get", SB_ERR_IO);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_IO);
    sb_th_conversation_set(th, "c1", NULL);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    sb_th_free(th);

    /* a channel holds no conversation, but may read them; it has no bot_event */
    th = up();
    assert_int_equal(H->bot_reply(C, "c1", "t", NULL, 0), SB_ERR_STATE);
    assert_true(sb_th_log_find(th, "this instance is no bot") >= 0);
    sb_th_conversation_set(th, "c1", "{}");
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_OK);
    ev.conversation_id = "c1";
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_UNSUPPORTED);
    sb_th_free(th);
}

/* ---- typing (1.1) ------------------------------------------------------------------------ */

static void test_typing(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->client_typing(C, "u1", "hel"), SB_OK);
    assert_int_equal(H->client_typing(C, "u1", ""), SB_OK);
    assert_int_equal(H->client_typing(C, "", "x"), SB_ERR_INVALID);
    assert_int_equal(H->client_typing(C, "u1", NULL), SB_ERR_INVALID);
    char big[1100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big + 1022, "\xc3\xa9", 2); /* fits: bytes 1022..1023 */
    assert_int_equal(H->client_typing(C, "u2", big), SB_OK);
    memcpy(big + 1023, "\xc3\xa9", 2); /* straddles 1024: cut before it */
    assert_int_equal(H->client_typing(C, "u2", big), SB_OK);
    sb_th_fail_next(th, "client_typing", SB_ERR_NOT_FOUND);
    assert_int_equal(H->client_typing(C, "u3", "x"), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_th_typing_count(th), 4);
    assert_string_equal(sb_th_typing_get(th, 0)->external_id, "u1");
    assert_string_equal(sb_th_typing_get(th, 0)->text, "hel");
    assert_string_equal(sb_th_typing_get(th, 1)->text, "");
    assert_int_equal(strlen(sb_th_typing_get(th, 2)->text), 1024);
    assert_int_equal(strlen(sb_th_typing_get(th, 3)->text), 1023);
    assert_null(sb_th_typing_get(th, 4));
    sb_th_free(th);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
    const struct CMUnitTest tests[] = {
        T(test_api_routes), T(test_websockets), T(test_bots), T(test_typing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
