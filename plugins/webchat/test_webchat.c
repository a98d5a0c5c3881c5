/* The web-chat plugin on the SDK test host: configuration, the visitor
 * API's checks and answers, history, live delivery and send(). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testhost.h"

#define KEY "test-site-key"

static const sb_plugin *desc(void)
{
    return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
}

static sb_th *started(const char *max_file)
{
    sb_th *th = sb_th_new("webchat", "main");
    sb_th_config_set(th, "site_key", KEY);
    sb_th_config_set(th, "file_types[0]", "image/png");
    if (max_file) sb_th_config_set(th, "max_file", max_file);
    sb_th_config_set(th, "channels[0].kind", "webchat");
    sb_th_config_set(th, "channels[0].title", "Chat");
    sb_th_config_set(th, "channels[1].kind", "telegram");
    sb_th_config_set(th, "channels[1].title", "Telegram");
    sb_th_config_set(th, "channels[1].url", "https://t.me/bank_bot?start={token}");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    return th;
}

static const sb_th_reply *req(sb_th *th, const char *method, const char *target, const char *body)
{
    return sb_th_http_request(th, method, target, NULL, 0, body, body ? strlen(body) : 0);
}

static json_t *body_of(const sb_th_reply *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    assert_non_null(j);
    return j;
}

static void assert_error(const sb_th_reply *r, int status, const char *needle)
{
    assert_true(r->replied);
    assert_int_equal(r->status, status);
    json_t *j = body_of(r);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    assert_non_null(msg);
    if (!strstr(msg, needle)) fail_msg("\"%s\" does not mention \"%s\"", msg, needle);
    json_decref(j);
}

/* A new visitor's credential (into cred, 66 bytes). */
static void new_visitor(sb_th *th, char *cred)
{
    const sb_th_reply *r = req(th, "POST", "/webchat/api/session?k=" KEY, "{}");
    assert_int_equal(r->status, 200);
    json_t *j = body_of(r);
    snprintf(cred, 66, "%s", json_string_value(json_object_get(j, "visitor")));
    assert_int_equal(strlen(cred), 65);
    json_decref(j);
}

static const sb_th_reply *post_msg(sb_th *th, const char *cred, const char *body)
{
    char target[200];
    snprintf(target, sizeof target, "/webchat/api/message?k=" KEY "&v=%s", cred);
    return req(th, "POST", target, body);
}

static void test_config_errors(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("webchat", "main");
    sb_th_config_set(th, "position", "top");
    sb_th_config_set(th, "channels[0].kind", "Tele gram");
    sb_th_config_set(th, "channels[0].title", "T");
    sb_th_config_set(th, "channels[0].url", "javascript:alert(1)");
    sb_th_config_set(th, "max_file", "1GiB");
    assert_int_not_equal(sb_th_start(th, desc()), SB_OK);
    const char *want[] = {"site_key: required", "position: expected right or left",
                          "channels[0].kind", "channels[0].url", "max_file"};
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        bool found = false;
        for (size_t i = 0; i < sb_th_config_error_count(th); i++)
            if (strstr(sb_th_config_error(th, i), want[w])) found = true;
        if (!found) fail_msg("no config error mentions %s", want[w]);
    }
    sb_th_free(th);

    th = sb_th_new("webchat", "main");
    sb_th_config_set(th, "site_key", KEY);
    for (int i = 0; i < 11; i++) {
        char p[48];
        snprintf(p, sizeof p, "channels[%d].kind", i);
        sb_th_config_set(th, p, "webchat");
        snprintf(p, sizeof p, "channels[%d].title", i);
        sb_th_config_set(th, p, "Chat");
    }
    assert_int_not_equal(sb_th_start(th, desc()), SB_OK);
    assert_non_null(strstr(sb_th_config_error(th, 0), "at most 10"));
    sb_th_free(th);
}

static void test_site_key_and_visitor_checked(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    assert_error(req(th, "POST", "/webchat/api/session", "{}"), 403, "site key");
    assert_error(req(th, "POST", "/webchat/api/session?k=forged", "{}"), 403, "site key");
    char cred[66];
    new_visitor(th, cred);
    cred[64] = cred[64] == '0' ? '1' : '0';
    assert_error(post_msg(th, cred, "{\"id\":\"a\",\"text\":\"hi\"}"), 403, "visitor");
    assert_error(post_msg(th, "short", "{\"id\":\"a\",\"text\":\"hi\"}"), 403, "visitor");
    /* a forged credential at session start gives a new visitor, not its history */
    char body[120], fresh[66];
    snprintf(body, sizeof body, "{\"visitor\":\"%s\"}", cred);
    const sb_th_reply *r = req(th, "POST", "/webchat/api/session?k=" KEY, body);
    json_t *j = body_of(r);
    snprintf(fresh, sizeof fresh, "%s", json_string_value(json_object_get(j, "visitor")));
    assert_int_not_equal(memcmp(fresh, cred, 32), 0);
    json_decref(j);
    sb_th_free(th);
}

static void test_session_gives_links_with_token(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    const sb_th_reply *r = req(th, "POST", "/webchat/api/session?k=" KEY, "{}");
    json_t *j = body_of(r);
    const char *cred = json_string_value(json_object_get(j, "visitor"));
    json_t *chans = json_object_get(json_object_get(j, "config"), "channels");
    assert_int_equal(json_array_size(chans), 2);
    const char *url = json_string_value(json_object_get(json_array_get(chans, 1), "url"));
    const char *prefix = "https://t.me/bank_bot?start=";
    assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
    const char *token = url + strlen(prefix);
    assert_int_equal(strlen(token), 22);
    char target[80];
    snprintf(target, sizeof target, "/webchat/api/start/%s", token);
    const sb_th_reply *who = req(th, "GET", target, NULL);
    assert_int_equal(who->status, 200);
    json_t *w = body_of(who);
    assert_int_equal(strncmp(json_string_value(json_object_get(w, "external_id")), cred, 32), 0);
    json_decref(w);
    /* the same visitor gets the same token again; it expires */
    char again[100];
    snprintf(again, sizeof again, "{\"visitor\":\"%s\"}", cred);
    json_t *j2 = body_of(req(th, "POST", "/webchat/api/session?k=" KEY, again));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(json_object_get(j2, "config"), "channels"), 1),
                            "url")),
                        url);
    json_decref(j2);
    sb_th_set_now(th, sb_th_now(th) + 25LL * 3600 * 1000);
    assert_int_equal(req(th, "GET", target, NULL)->status, 404);
    json_decref(j);
    sb_th_free(th);
}

static void test_message_validated_and_answered_after_commit(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    char cred[66];
    new_visitor(th, cred);
    assert_error(post_msg(th, cred, "not json"), 400, "body");
    assert_error(post_msg(th, cred, "{\"text\":\"hi\"}"), 400, "id");
    assert_error(post_msg(th, cred, "{\"id\":\"a/b\",\"text\":\"hi\"}"), 400, "id");
    assert_error(post_msg(th, cred, "{\"id\":\"a\",\"text\":\" \\n\"}"), 400, "text");
    assert_error(post_msg(th, cred, "{\"id\":\"a\",\"text\":7}"), 400, "text");
    char *big = malloc(5000);
    int n = snprintf(big, 5000, "{\"id\":\"a\",\"text\":\"");
    memset(big + n, 'x', 4097);
    strcpy(big + n + 4097, "\"}");
    assert_error(post_msg(th, cred, big), 400, "4096");
    free(big);
    assert_int_equal(sb_th_inbound_count(th), 0);

    const sb_th_reply *r = post_msg(th, cred, "{\"id\":\"m-1\",\"text\":\"<b>hi</b>\"}");
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_int_equal(strncmp(in->msg.external_id, cred, 32), 0);
    assert_string_equal(in->msg.text, "<b>hi</b>");
    assert_int_equal(sb_th_inbound_complete(th, 0, SB_OK), SB_OK);
    assert_int_equal(r->status, 200);
    json_t *j = body_of(r);
    json_t *m = json_object_get(j, "message");
    assert_int_equal(json_integer_value(json_object_get(m, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(m, "message_id")), "msg-1");
    json_decref(j);

    /* the same id again: the core says duplicate, the history has it once */
    const sb_th_reply *r2 = post_msg(th, cred, "{\"id\":\"m-1\",\"text\":\"<b>hi</b>\"}");
    sb_th_run_pending(th);
    assert_int_equal(r2->status, 200);
    json_t *j2 = body_of(r2);
    assert_true(json_is_true(json_object_get(j2, "duplicate")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j2, "message"), "seq")), 1);
    json_decref(j2);

    /* not stored: 503, nothing in the history */
    const sb_th_reply *r3 = post_msg(th, cred, "{\"id\":\"m-2\",\"text\":\"again\"}");
    sb_th_inbound_complete(th, 1, SB_ERR_IO);
    assert_int_equal(r3->status, 503);
    char key[40];
    snprintf(key, sizeof key, "h:%.32s", cred);
    const char *hist = sb_th_kv_peek(th, key, NULL);
    assert_non_null(hist);
    assert_null(strstr(hist, "again"));
    sb_th_free(th);
}

static void test_upload_limits_and_file_served(void **st)
{
    (void)st;
    sb_th *th = started("1KB");
    char cred[66], target[200];
    new_visitor(th, cred);
    snprintf(target, sizeof target, "/webchat/api/upload?k=" KEY "&v=%s&id=f1&name=a%%20b.png", cred);
    char big[1001];
    memset(big, 'x', sizeof big);
    sb_header png = {"Content-Type", "image/png"}, html = {"Content-Type", "text/html"};
    assert_error(sb_th_http_request(th, "POST", target, &png, 1, big, 1001), 413, "1000 bytes");
    assert_error(sb_th_http_request(th, "POST", target, &html, 1, "<b>", 3), 415, "Content-Type");
    assert_error(sb_th_http_request(th, "POST", target, &png, 1, NULL, 0), 400, "empty");
    assert_int_equal(sb_th_inbound_count(th), 0);

    const sb_th_reply *r = sb_th_http_request(th, "POST", target, &png, 1, big, 1000);
    assert_int_equal(sb_th_inbound_count(th), 1);
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_int_equal(in->msg.n_attachments, 1);
    assert_string_equal(in->msg.attachments[0].kind, "image");
    assert_string_equal(in->msg.attachments[0].name, "a b.png");
    assert_int_equal(in->msg.attachments[0].size, 1000);
    const char *ref = in->msg.attachments[0].ref;
    assert_int_equal(strncmp(ref, "/webchat/api/file/main/", 23), 0);
    sb_th_inbound_complete(th, 0, SB_OK);
    assert_int_equal(r->status, 200);
    const sb_th_reply *f = req(th, "GET", ref, NULL);
    assert_int_equal(f->status, 200);
    assert_int_equal(f->body_len, 1000);
    assert_string_equal(f->content_type, "image/png");
    assert_int_equal(req(th, "GET", "/webchat/api/file/main/00000000000000000000000000000000", NULL)->status,
                     404);
    sb_th_free(th);
}

static sb_outbound out_msg(const char *external_id, const char *id, const char *text)
{
    static const sb_button rate[] = {{"sb:rate:1", "1"}, {"sb:rate:5", "5"}};
    return (sb_outbound){.struct_size = sizeof(sb_outbound), .message_id = id,
                         .conversation_id = "c1", .client_id = "cl1", .external_id = external_id,
                         .text = text, .buttons = rate, .n_buttons = 2};
}

static void test_send_reaches_poll_and_socket(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    char cred[66], vid[33], target[200];
    new_visitor(th, cred);
    snprintf(vid, sizeof vid, "%.32s", cred);
    snprintf(target, sizeof target, "/webchat/api/poll?k=" KEY "&v=%s&after=0&wait=20000", cred);
    const sb_th_reply *poll = req(th, "GET", target, NULL);
    assert_false(poll->replied);
    snprintf(target, sizeof target, "/webchat/api/ws?k=" KEY "&v=%s&after=0", cred);
    const sb_th_reply *up = sb_th_ws_connect(th, target);
    const sb_th_ws *ws = sb_th_ws_for(th, up);
    assert_non_null(ws);

    sb_outbound m = out_msg(vid, "out-1", "<script>x</script>");
    uint64_t op;
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    assert_int_equal(sb_th_send_result_count(th), 0);
    sb_th_run_pending(th); /* the history is durable: now it is sent */
    assert_int_equal(sb_th_send_result_count(th), 1);
    assert_int_equal(sb_th_send_result_get(th, 0)->status, SB_SENT);
    assert_int_equal(poll->status, 200);
    json_t *j = body_of(poll);
    json_t *item = json_array_get(json_object_get(j, "messages"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "text")), "<script>x</script>");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(item, "buttons"), 1), "id")),
                        "sb:rate:5");
    json_decref(j);
    assert_int_equal(ws->n_sent, 1);
    assert_non_null(strstr(ws->sent[0].text, "out-1"));

    /* a retry of the same message is sent again, not stored twice */
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    sb_th_advance(th, 0);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_count(th), 2);
    assert_int_equal(sb_th_send_result_get(th, 1)->status, SB_SENT);
    assert_int_equal(ws->n_sent, 1);

    sb_outbound bad = out_msg("not-a-visitor", "out-2", "x");
    assert_int_equal(sb_th_send(th, &bad, &op), SB_SEND_REJECTED);

    /* typing over the socket reaches the core, throttled */
    const char *t1 = "{\"type\":\"typing\",\"text\":\"he\"}";
    const char *t2 = "{\"type\":\"typing\",\"text\":\"hel\"}";
    sb_th_ws_peer_send(th, ws->id, 0, t1, strlen(t1));
    sb_th_ws_peer_send(th, ws->id, 0, t2, strlen(t2));
    assert_int_equal(sb_th_typing_count(th), 1);
    sb_th_advance(th, 400);
    sb_th_ws_peer_send(th, ws->id, 0, t2, strlen(t2));
    assert_int_equal(sb_th_typing_count(th), 2);
    assert_string_equal(sb_th_typing_get(th, 1)->text, "hel");
    assert_string_equal(sb_th_typing_get(th, 1)->external_id, vid);
    sb_th_free(th);
}

static void test_poll_deadline_and_stop(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    char cred[66], target[200];
    new_visitor(th, cred);
    snprintf(target, sizeof target, "/webchat/api/poll?k=" KEY "&v=%s&after=0&wait=5000", cred);
    const sb_th_reply *p1 = req(th, "GET", target, NULL);
    sb_th_advance(th, 4999);
    assert_false(p1->replied);
    sb_th_advance(th, 1);
    assert_int_equal(p1->status, 200);
    json_t *j = body_of(p1);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 0);
    json_decref(j);
    const sb_th_reply *p2 = req(th, "GET", target, NULL);
    sb_th_stop(th);
    assert_int_equal(p2->status, 503);
    sb_th_free(th);
}

static void test_history_survives_restart_and_is_bounded(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("webchat", "main");
    sb_th_config_set(th, "site_key", KEY);
    sb_th_config_set(th, "history_max", "3");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    char cred[66], vid[33], id[16];
    new_visitor(th, cred);
    snprintf(vid, sizeof vid, "%.32s", cred);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "o-%d", i);
        sb_outbound m = out_msg(vid, id, id);
        assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_ACCEPTED);
    }
    sb_th_run_pending(th);
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    char body[100];
    snprintf(body, sizeof body, "{\"visitor\":\"%s\"}", cred);
    json_t *j = body_of(req(th, "POST", "/webchat/api/session?k=" KEY, body));
    assert_string_equal(json_string_value(json_object_get(j, "visitor")), cred);
    json_t *msgs = json_object_get(j, "messages");
    assert_int_equal(json_array_size(msgs), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "id")), "o-2");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 5);
    json_decref(j);
    sb_th_free(th);
}

static void test_pages_served(void **st)
{
    (void)st;
    sb_th *th = started(NULL);
    const sb_th_reply *js = req(th, "GET", "/webchat/widget.js", NULL);
    assert_int_equal(js->status, 200);
    assert_non_null(strstr(js->body, "sb-launcher"));
    const sb_th_reply *demo = req(th, "GET", "/webchat/demo", NULL);
    assert_int_equal(demo->status, 200);
    assert_non_null(strstr(demo->body, "data-site-key=\"" KEY "\""));
    assert_int_equal(req(th, "GET", "/webchat/nothing", NULL)->status, 404);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_site_key_and_visitor_checked),
        cmocka_unit_test(test_session_gives_links_with_token),
        cmocka_unit_test(test_message_validated_and_answered_after_commit),
        cmocka_unit_test(test_upload_limits_and_file_served),
        cmocka_unit_test(test_send_reaches_poll_and_socket),
        cmocka_unit_test(test_poll_deadline_and_stop),
        cmocka_unit_test(test_history_survives_restart_and_is_bounded),
        cmocka_unit_test(test_pages_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
