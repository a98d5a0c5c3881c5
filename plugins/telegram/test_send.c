/* send() on the test host: request bodies, long button ids, the split,
 * every error mapping, pacing and the queue's bound. */
#include "tg_test.h"

#include <stdlib.h>

#include <jansson.h>

#include "tg.h"

#define SENT_OK(id) "{\"ok\":true,\"result\":{\"message_id\":" #id ",\"chat\":{\"id\":42}}}"

static uint64_t send_msg(sb_th *th, const char *to, const char *text, const sb_button *b,
                         size_t nb, const char *id)
{
    sb_outbound m = {.message_id = id, .conversation_id = "c1", .client_id = "cl1",
                     .external_id = to, .text = text, .buttons = b, .n_buttons = nb};
    uint64_t op = 0;
    size_t before = sb_th_send_result_count(th);
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    assert_int_equal(sb_th_send_result_count(th), before); /* never from inside send() */
    return op;
}

/* The send result of op, after time and work have run. */
static const sb_th_send_result *result_of(sb_th *th, uint64_t op)
{
    for (size_t i = 0; i < sb_th_send_result_count(th); i++)
        if (sb_th_send_result_get(th, i)->op == op) return sb_th_send_result_get(th, i);
    return NULL;
}

static void flush(sb_th *th)
{
    sb_th_advance(th, 0);
    sb_th_run_pending(th);
}

static void test_text_with_buttons_and_long_ids(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    char long_id[81];
    memset(long_id, 'L', 80);
    long_id[80] = '\0';
    sb_button b[3] = {{"yes", "Да"}, {long_id, "Подробнее"}, {"k7", "Key-like"}};
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(555));
    uint64_t op = send_msg(th, "42", "Выберите", b, 3, "m1");
    assert_int_equal(tg_calls(th, "sendMessage"), 0); /* from the pump's timer */
    flush(th);
    const sb_th_http_call *c = tg_last_call(th, "sendMessage");
    assert_non_null(c);
    assert_string_equal(c->url, BOT "sendMessage");
    assert_string_equal(c->body,
                        "{\"chat_id\":42,\"text\":\"Выберите\",\"reply_markup\":{\"inline_keyboard\":"
                        "[[{\"text\":\"Да\",\"callback_data\":\"yes\"}],[{\"text\":\"Подробнее\","
                        "\"callback_data\":\"k1\"}],[{\"text\":\"Key-like\",\"callback_data\":\"k2\"}]]}}");
    const sb_th_send_result *r = result_of(th, op);
    assert_non_null(r);
    assert_int_equal(r->status, SB_SENT);
    assert_string_equal(r->remote_id, "555");
    assert_string_equal(sb_th_kv_peek(th, "btn:k1", NULL), long_id);
    assert_string_equal(sb_th_kv_peek(th, "btn:k2", NULL), "k7");

    /* the same long id again keeps its key */
    sb_th_advance(th, 1000);
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(556));
    send_msg(th, "42", "Ещё раз", b + 1, 1, "m2");
    flush(th);
    assert_non_null(strstr(tg_last_call(th, "sendMessage")->body, "\"callback_data\":\"k1\""));

    /* the press comes back as the original id */
    sb_th_inbound_autocomplete(th, 1);
    sb_th_http_expect(th, "POST", BOT "answerCallbackQuery", 200, OK_TRUE);
    sb_th_http_expect(th, "POST", BOT "answerCallbackQuery", 200, OK_TRUE);
    sb_th_http_expect(th, "POST", BOT "answerCallbackQuery", 200, OK_TRUE);
    const char *fmt = "{\"update_id\":%d,\"callback_query\":{\"id\":\"q%d\",\"from\":{\"id\":42},"
                      "\"message\":{\"message_id\":555,\"chat\":{\"id\":42,\"type\":\"private\"},"
                      "\"date\":1},\"data\":\"%s\"}}";
    const char *data[3] = {"k1", "k2", "yes"};
    const char *want[3] = {long_id, "k7", "yes"};
    for (int i = 0; i < 3; i++) {
        char body[512];
        snprintf(body, sizeof body, fmt, 10 + i, i, data[i]);
        const sb_th_reply *rep = tg_post(th, SECRET, body);
        sb_th_run_pending(th);
        assert_int_equal(rep->status, 200);
        assert_string_equal(sb_th_inbound_get(th, (size_t)i)->msg.button_id, want[i]);
    }
    /* a key nobody handed out is passed on as it is, with a warning */
    tg_post(th, SECRET, "{\"update_id\":20,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":42},"
                        "\"data\":\"k99\"}}");
    sb_th_http_expect(th, "POST", BOT "answerCallbackQuery", 200, OK_TRUE);
    sb_th_run_pending(th);
    assert_string_equal(sb_th_inbound_get(th, 3)->msg.button_id, "k99");
    assert_true(sb_th_log_find(th, "button key k99 is unknown") >= 0);
    sb_th_free(th);
}

static void test_keys_survive_restart(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    char long_id[70];
    memset(long_id, 'a', 69);
    long_id[69] = '\0';
    sb_button b[1] = {{long_id, "t"}};
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(1));
    send_msg(th, "42", "x", b, 1, "m1");
    flush(th);
    sb_th_stop(th);
    sb_th_http_expect(th, "POST", BOT "setWebhook", 200, OK_TRUE);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    long_id[0] = 'b'; /* a new id gets the next key, not k1 again */
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(2));
    sb_th_advance(th, 1000);
    send_msg(th, "42", "x", b, 1, "m2");
    flush(th);
    assert_non_null(strstr(tg_last_call(th, "sendMessage")->body, "\"k2\""));
    assert_string_equal(sb_th_kv_peek(th, "btn:k1", NULL) + 1, long_id + 1);
    sb_th_free(th);
}

static void test_long_text_split_and_paced(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    /* 5400 Cyrillic letters and spaces: two parts, one second apart */
    char *text = malloc(600 * 17 + 1);
    size_t o = 0;
    for (int i = 0; i < 600; i++) {
        memcpy(text + o, "слово123 ", 14);
        o += 14;
    }
    text[o] = '\0';
    sb_button b[1] = {{"ok", "OK"}};
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(10));
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(11));
    uint64_t op = send_msg(th, "42", text, b, 1, "m-long");
    flush(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 1);
    const sb_th_http_call *c1 = tg_last_call(th, "sendMessage");
    assert_null(strstr(c1->body, "reply_markup"));
    assert_string_equal(sb_th_kv_peek(th, "part:m-long", NULL), "1 10");
    sb_th_advance(th, 999);
    assert_int_equal(tg_calls(th, "sendMessage"), 1); /* one per second per chat */
    sb_th_advance(th, 1);
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 2);
    const sb_th_http_call *c2 = tg_last_call(th, "sendMessage");
    assert_non_null(strstr(c2->body, "reply_markup")); /* buttons on the last part */
    /* together the parts carry every word, each within 4096 characters */
    json_t *p1 = json_loads(c1->body, 0, NULL), *p2 = json_loads(c2->body, 0, NULL);
    const char *t1 = json_string_value(json_object_get(p1, "text"));
    const char *t2 = json_string_value(json_object_get(p2, "text"));
    assert_true(tg_utf16_len(t1, strlen(t1)) <= 4096);
    assert_int_equal(strlen(t1) + 1 + strlen(t2), o - 1);
    assert_memory_equal(t1 + strlen(t1) - 13, "слово123", 13); /* whole words */
    json_decref(p1);
    json_decref(p2);
    const sb_th_send_result *r = result_of(th, op);
    assert_int_equal(r->status, SB_SENT);
    assert_string_equal(r->remote_id, "11"); /* the last part's */
    assert_null(sb_th_kv_peek(th, "part:m-long", NULL));
    free(text);
    sb_th_free(th);
}

static void test_retry_sends_only_the_rest(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    char *text = malloc(9000);
    memset(text, 'x', 8999);
    text[4096] = ' ';
    text[8999] = '\0'; /* 3 parts: 4096, 4096, 805 */
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(1));
    sb_th_http_expect(th, "POST", BOT "sendMessage", 502, "<html>Bad Gateway</html>");
    uint64_t op = send_msg(th, "42", text, NULL, 0, "m3");
    flush(th);
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    const sb_th_send_result *r = result_of(th, op);
    assert_int_equal(r->status, SB_SEND_RETRY);
    assert_string_equal(sb_th_kv_peek(th, "part:m3", NULL), "1 1");
    /* the core tries again: parts 2 and 3 only */
    sb_th_advance(th, 5000);
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(2));
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(3));
    sb_outbound m = {.message_id = "m3", .external_id = "42", .text = text, .attempt = 2};
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    flush(th);
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 4);
    r = result_of(th, op);
    assert_int_equal(r->status, SB_SENT);
    assert_string_equal(r->remote_id, "3");
    assert_null(sb_th_kv_peek(th, "part:m3", NULL));
    free(text);
    sb_th_free(th);
}

static void test_error_mapping(void **st)
{
    (void)st;
    static const struct {
        long http;
        const char *body;
        sb_status transport;
        sb_send_status want;
        uint64_t retry_ms;
        const char *error_has;
    } k[] = {
        {429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 5\","
              "\"parameters\":{\"retry_after\":5}}", SB_OK, SB_SEND_RETRY, 5000, "Too Many Requests"},
        {403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the "
              "user\"}", SB_OK, SB_SEND_UNREACHABLE, 0, "blocked by the user"},
        {403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: user is deactivated\"}",
         SB_OK, SB_SEND_UNREACHABLE, 0, "deactivated"},
        {400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}",
         SB_OK, SB_SEND_FAILED, 0, "Bad Request: chat not found"},
        {500, "{\"ok\":false,\"error_code\":500,\"description\":\"Internal Server Error\"}", SB_OK,
         SB_SEND_RETRY, 0, "HTTP 500"},
        {502, "<html></html>", SB_OK, SB_SEND_RETRY, 0, "HTTP 502"},
        {0, NULL, SB_ERR_IO, SB_SEND_RETRY, 0, "Could not connect"},
        {0, NULL, SB_ERR_TIMEOUT, SB_SEND_RETRY, 0, "timed out"},
    };
    sb_th *th = tg_webhook_host();
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (k[i].transport == SB_OK)
            sb_th_http_expect(th, "POST", BOT "sendMessage", k[i].http, k[i].body);
        else
            sb_th_http_expect_error(th, "POST", BOT, k[i].transport,
                                    k[i].transport == SB_ERR_IO
                                        ? "Could not connect to " BOT "sendMessage"
                                        : "Operation timed out");
        uint64_t op = send_msg(th, "42", "hello", NULL, 0, "m");
        flush(th);
        const sb_th_send_result *r = result_of(th, op);
        assert_non_null(r);
        assert_int_equal(r->status, k[i].want);
        assert_int_equal(r->retry_after_ms, k[i].retry_ms);
        assert_non_null(r->error);
        if (!strstr(r->error, k[i].error_has)) fail_msg("case %zu: error '%s'", i, r->error);
        assert_null(strstr(r->error, "SECRET-tok_en"));
        assert_null(r->remote_id);
        sb_th_advance(th, k[i].retry_ms ? k[i].retry_ms : 1000);
    }
    assert_int_equal(sb_th_http_expect_left(th), 0);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

static void test_429_holds_the_chat(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    sb_th_http_expect(th, "POST", BOT "sendMessage", 429,
                      "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
                      "retry after 3\",\"parameters\":{\"retry_after\":3}}");
    send_msg(th, "42", "a", NULL, 0, "m1");
    send_msg(th, "42", "b", NULL, 0, "m2");
    send_msg(th, "43", "c", NULL, 0, "m3");
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(2)); /* to 43 */
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(3)); /* then 42 */
    flush(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 2); /* 42 got the 429, 43 went on */
    sb_th_advance(th, 2999);
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 2);
    sb_th_advance(th, 1);
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "sendMessage"), 3);
    assert_non_null(strstr(tg_last_call(th, "sendMessage")->body, "\"text\":\"b\""));
    sb_th_free(th);
}

static void test_attachments_by_url(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    sb_attachment a[2] = {{.struct_size = sizeof a[0], .kind = "image", .ref = "https://x/p.jpg"},
                          {.struct_size = sizeof a[0], .kind = "file", .ref = "https://x/d.pdf"}};
    sb_button b[1] = {{"ok", "OK"}};
    sb_outbound m = {.message_id = "ma", .external_id = "42", .attachments = a, .n_attachments = 2,
                     .buttons = b, .n_buttons = 1};
    sb_th_http_expect(th, "POST", BOT "sendPhoto", 200, SENT_OK(1));
    sb_th_http_expect(th, "POST", BOT "sendDocument", 200, SENT_OK(2));
    uint64_t op;
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    flush(th);
    assert_string_equal(tg_last_call(th, "sendPhoto")->body,
                        "{\"chat_id\":42,\"photo\":\"https://x/p.jpg\"}");
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    assert_string_equal(tg_last_call(th, "sendDocument")->body,
                        "{\"chat_id\":42,\"document\":\"https://x/d.pdf\",\"reply_markup\":"
                        "{\"inline_keyboard\":[[{\"text\":\"OK\",\"callback_data\":\"ok\"}]]}}");
    assert_string_equal(result_of(th, op)->remote_id, "2");
    sb_th_free(th);
}

static void test_rejects_what_it_cannot_carry(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const char *bad_to[] = {"abc", "", "4 2", "123456789012345678901"};
    for (size_t i = 0; i < 4; i++) {
        sb_outbound m = {.message_id = "m", .external_id = bad_to[i], .text = "x"};
        assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    }
    sb_button b[1] = {{"ok", "OK"}};
    sb_outbound m = {.message_id = "m", .external_id = "42", .buttons = b, .n_buttons = 1};
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    m.text = "  \n ";
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    char huge[400];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    sb_button hb[1] = {{huge, "t"}};
    sb_outbound hm = {.message_id = "m", .external_id = "42", .text = "x", .buttons = hb,
                      .n_buttons = 1};
    assert_int_equal(sb_th_send(th, &hm, NULL), SB_SEND_REJECTED);
    assert_int_equal(sb_th_http_call_count(th), 1); /* setWebhook only */
    /* a long id whose key cannot be stored now: retried later, not lost */
    hb[0].id = "a-button-id-that-is-longer-than-sixty-four-bytes-so-it-needs-a-key!";
    sb_th_fail_next(th, "kv_put", SB_ERR_FULL);
    uint64_t op = send_msg(th, "42", "x", hb, 1, "m");
    sb_th_advance(th, 0);
    assert_int_equal(result_of(th, op)->status, SB_SEND_RETRY);
    assert_non_null(strstr(result_of(th, op)->error, "button keys"));
    sb_th_free(th);
}

static void test_pacing_per_chat_and_global(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    size_t base = sb_th_http_call_count(th);
    /* 3 messages to one chat: 1 per second */
    for (int i = 0; i < 3; i++) {
        sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(1));
        send_msg(th, "1", "x", NULL, 0, "m");
    }
    flush(th);
    assert_int_equal(sb_th_http_call_count(th), base + 1);
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), base + 2);
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), base + 3);
    assert_int_equal(sb_th_send_result_count(th), 3);

    /* 40 chats at once: 30 in the first second, the rest in the next */
    sb_th_advance(th, 5000);
    base = sb_th_http_call_count(th);
    for (int i = 0; i < 40; i++) {
        char to[16];
        snprintf(to, sizeof to, "%d", 100 + i);
        sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(1));
        send_msg(th, to, "x", NULL, 0, "m");
    }
    flush(th);
    assert_int_equal(sb_th_http_call_count(th), base + 30);
    sb_th_advance(th, 999);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), base + 30);
    sb_th_advance(th, 1);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), base + 40);
    assert_int_equal(sb_th_send_result_count(th), 43);
    sb_th_free(th);
}

static void test_queue_bound(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    /* 30 messages to one chat fit in 30 s; the 31st would wait longer */
    uint64_t ops[30];
    for (int i = 0; i < 30; i++) ops[i] = send_msg(th, "5", "x", NULL, 0, "m");
    uint64_t op = send_msg(th, "5", "x", NULL, 0, "m31");
    assert_int_equal(sb_th_send_result_count(th), 0);
    sb_th_advance(th, 0); /* the refusal is reported from a timer */
    const sb_th_send_result *r = result_of(th, op);
    assert_non_null(r);
    assert_int_equal(r->status, SB_SEND_RETRY);
    assert_true(r->retry_after_ms >= 30000);
    assert_non_null(strstr(r->error, "queue is full"));
    /* another chat is not held back */
    sb_th_http_expect(th, "POST", BOT "sendMessage", 200, SENT_OK(9));
    op = send_msg(th, "6", "x", NULL, 0, "m");
    sb_th_advance(th, 0);
    sb_th_run_pending(th);
    assert_int_equal(result_of(th, op)->status, SB_SENT);
    /* stopping reports every waiting one as to be retried: each op once */
    sb_th_stop(th);
    assert_int_equal(sb_th_send_result_count(th), 32);
    for (int i = 0; i < 30; i++) assert_int_equal(result_of(th, ops[i])->status, SB_SEND_RETRY);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_with_buttons_and_long_ids),
        cmocka_unit_test(test_keys_survive_restart),
        cmocka_unit_test(test_long_text_split_and_paced),
        cmocka_unit_test(test_retry_sends_only_the_rest),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_429_holds_the_chat),
        cmocka_unit_test(test_attachments_by_url),
        cmocka_unit_test(test_rejects_what_it_cannot_carry),
        cmocka_unit_test(test_pacing_per_chat_and_global),
        cmocka_unit_test(test_queue_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
