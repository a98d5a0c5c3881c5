/* Webhook mode on the test host: setWebhook, the secret header, answers
 * only after the commit, bad bodies, button presses and edits. */
#include "tg_test.h"

#include <stdlib.h>

#define MSG(uid, mid, text)                                                                     \
    "{\"update_id\":" #uid ",\"message\":{\"message_id\":" #mid ",\"from\":{\"id\":42,"      \
    "\"is_bot\":false,\"first_name\":\"A\"},\"chat\":{\"id\":42,\"type\":\"private\"},"       \
    "\"date\":1700000000,\"text\":\"" text "\"}}"

static void test_set_webhook_at_start(void **st)
{
    (void)st;
    sb_th *th = tg_host("webhook");
    /* the first attempt fails: retried after 1 s */
    sb_th_http_expect(th, "POST", BOT "setWebhook", 500,
                      "{\"ok\":false,\"error_code\":500,\"description\":\"Internal Server Error\"}");
    sb_th_http_expect(th, "POST", BOT "setWebhook", 200, OK_TRUE);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    assert_null(sb_th_unused_config(th));
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "setWebhook"), 1);
    assert_true(sb_th_log_find(th, "setWebhook") >= 0);
    sb_th_advance(th, 999);
    assert_int_equal(tg_calls(th, "setWebhook"), 1);
    sb_th_advance(th, 1);
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "setWebhook"), 2);
    const sb_th_http_call *c = tg_last_call(th, "setWebhook");
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->url, BOT "setWebhook");
    assert_string_equal(c->body, "{\"url\":\"https://sb.example/hooks/telegram/main\","
                                 "\"secret_token\":\"" SECRET "\",\"allowed_updates\":"
                                 "[\"message\",\"edited_message\",\"callback_query\"]}");
    assert_true(sb_th_log_find(th, "webhook set") >= 0);
    assert_int_equal(tg_calls(th, "getUpdates"), 0);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

static void test_secret_checked_exactly(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const char *wrong[] = {NULL, "", "s3cret_Token-", "s3cret_Token-12", "S3CRET_TOKEN-1",
                           SECRET " "};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        const sb_th_reply *r = tg_post(th, wrong[i], MSG(1, 1, "hi"));
        assert_true(r->replied);
        assert_int_equal(r->status, 403);
        assert_non_null(strstr(r->body, "forbidden"));
    }
    assert_int_equal(sb_th_inbound_count(th), 0);
    /* header names are case-insensitive */
    sb_header h[1] = {{"x-telegram-bot-api-secret-token", SECRET}};
    const char *body = MSG(2, 2, "hi");
    const sb_th_reply *r = sb_th_http_request(th, "POST", HOOK, h, 1, body, strlen(body));
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);
    sb_th_free(th);
}

static void test_answered_after_commit(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const sb_th_reply *r = tg_post(th, SECRET, MSG(1000, 5, "hi"));
    assert_false(r->replied); /* not before the core stored it */
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_string_equal(in->msg.dedup_key, "u1000");
    assert_string_equal(in->msg.external_id, "42");
    assert_string_equal(in->msg.text, "hi");
    assert_string_equal(in->msg.name, "A");
    assert_int_equal(sb_th_inbound_complete(th, 0, SB_OK), SB_OK);
    assert_int_equal(r->status, 200);

    /* the same update again: a duplicate, answered 200, nothing new */
    r = tg_post(th, SECRET, MSG(1000, 5, "hi"));
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    assert_int_equal(sb_th_inbound_count(th), 1);
    assert_int_equal(sb_th_inbound_get(th, 0)->duplicates, 1);

    /* not stored: Telegram must deliver it again */
    r = tg_post(th, SECRET, MSG(1001, 6, "again"));
    assert_int_equal(sb_th_inbound_complete(th, 1, SB_ERR_IO), SB_OK);
    assert_int_equal(r->status, 503);
    /* and the redelivery is a new try */
    r = tg_post(th, SECRET, MSG(1001, 6, "again"));
    assert_int_equal(sb_th_inbound_count(th), 3);
    assert_int_equal(sb_th_inbound_complete(th, 2, SB_OK), SB_OK);
    assert_int_equal(r->status, 200);
    sb_th_free(th);
}

static void test_bad_bodies(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const sb_th_reply *r = tg_post(th, SECRET, "{\"update_id\": ");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "not valid JSON"));
    r = tg_post(th, SECRET, "[]");
    assert_int_equal(r->status, 400);
    r = tg_post(th, SECRET, "{\"update_id\":5,\"message\":{\"message_id\":1,\"text\":\"x\"}}");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "chat.id"));
    /* unknown update types are not errors: 200, logged at debug */
    r = tg_post(th, SECRET, "{\"update_id\":6,\"poll\":{\"id\":\"1\"}}");
    assert_int_equal(r->status, 200);
    sb_log_level lvl;
    long at = sb_th_log_find(th, "update 6 skipped");
    assert_true(at >= 0);
    sb_th_log_line(th, (size_t)at, &lvl);
    assert_int_equal(lvl, SB_LOG_DEBUG);
    /* content the channel does not carry (a sticker) too */
    r = tg_post(th, SECRET, "{\"update_id\":7,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,"
                            "\"type\":\"private\"},\"sticker\":{\"file_id\":\"x\"}}}");
    assert_int_equal(r->status, 200);
    assert_int_equal(sb_th_inbound_count(th), 0);
    /* the core refuses what it cannot store: 400 */
    sb_th_fail_next(th, "inbound", SB_ERR_INVALID);
    r = tg_post(th, SECRET, MSG(8, 1, "x"));
    assert_int_equal(r->status, 400);
    /* the core cannot take it now: 503, Telegram retries */
    sb_th_fail_next(th, "inbound", SB_ERR_IO);
    r = tg_post(th, SECRET, MSG(9, 1, "x"));
    assert_int_equal(r->status, 503);
    char *big = malloc(1024 * 1024 + 2);
    memset(big, ' ', 1024 * 1024 + 1);
    big[1024 * 1024 + 1] = '\0';
    r = tg_post(th, SECRET, big);
    assert_int_equal(r->status, 413);
    free(big);
    sb_th_free(th);
}

static void test_button_press_answered(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const char *cb = "{\"update_id\":1001,\"callback_query\":{\"id\":\"4382\",\"from\":{\"id\":42,"
                     "\"first_name\":\"A\"},\"message\":{\"message_id\":7,\"chat\":{\"id\":42,"
                     "\"type\":\"private\"},\"date\":1,\"text\":\"Pick\"},\"chat_instance\":\"1\","
                     "\"data\":\"yes\"}}";
    const sb_th_reply *r = tg_post(th, SECRET, cb);
    assert_int_equal(tg_calls(th, "answerCallbackQuery"), 0); /* not before it is stored */
    assert_string_equal(sb_th_inbound_get(th, 0)->msg.button_id, "yes");
    sb_th_http_expect(th, "POST", BOT "answerCallbackQuery", 200, OK_TRUE);
    sb_th_inbound_complete(th, 0, SB_OK);
    assert_int_equal(r->status, 200);
    assert_string_equal(tg_last_call(th, "answerCallbackQuery")->body,
                        "{\"callback_query_id\":\"4382\"}");
    sb_th_run_pending(th);
    /* a redelivery is not answered twice */
    r = tg_post(th, SECRET, cb);
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    assert_int_equal(tg_calls(th, "answerCallbackQuery"), 1);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_edit_names_original(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    sb_th_inbound_autocomplete(th, 1);
    tg_post(th, SECRET, MSG(500, 31, "helo"));
    sb_th_run_pending(th);
    const char *edit = "{\"update_id\":502,\"edited_message\":{\"message_id\":31,\"from\":{\"id\":42,"
                       "\"first_name\":\"A\"},\"chat\":{\"id\":42,\"type\":\"private\"},\"date\":1,"
                       "\"edit_date\":2,\"text\":\"hello\"}}";
    const sb_th_reply *r = tg_post(th, SECRET, edit);
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    const sb_th_inbound *in = sb_th_inbound_get(th, 1);
    assert_int_equal(in->msg.kind, SB_IN_EDIT);
    assert_string_equal(in->msg.edit_of, "u500");
    assert_string_equal(in->msg.dedup_key, "u502");
    assert_string_equal(in->msg.text, "hello");
    /* an edit of a message never seen names no stored message */
    edit = "{\"update_id\":503,\"edited_message\":{\"message_id\":99,\"chat\":{\"id\":42,"
           "\"type\":\"private\"},\"date\":1,\"text\":\"x\"}}";
    tg_post(th, SECRET, edit);
    sb_th_run_pending(th);
    assert_string_equal(sb_th_inbound_get(th, 2)->msg.edit_of, "m42:99");
    sb_th_free(th);
}

static void test_contact_and_media(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    sb_th_inbound_autocomplete(th, 1);
    tg_post(th, SECRET, "{\"update_id\":1,\"message\":{\"message_id\":1,\"from\":{\"id\":42,"
                        "\"first_name\":\"A\"},\"chat\":{\"id\":42,\"type\":\"private\"},\"date\":1,"
                        "\"contact\":{\"phone_number\":\"79001234567\",\"first_name\":\"A\","
                        "\"user_id\":42}}}");
    tg_post(th, SECRET, "{\"update_id\":2,\"message\":{\"message_id\":2,\"chat\":{\"id\":42,"
                        "\"type\":\"private\"},\"date\":1,\"document\":{\"file_id\":\"BQACAgI\","
                        "\"file_unique_id\":\"x\",\"file_name\":\"a.pdf\",\"mime_type\":"
                        "\"application/pdf\",\"file_size\":10},\"caption\":\"see\"}}");
    sb_th_run_pending(th);
    const sb_th_inbound *c = sb_th_inbound_get(th, 0), *d = sb_th_inbound_get(th, 1);
    assert_int_equal(c->msg.kind, SB_IN_CONTACT);
    assert_string_equal(c->msg.phone, "+79001234567");
    assert_int_equal(d->msg.n_attachments, 1);
    /* the url operators open it at (with their token) */
    assert_string_equal(d->msg.attachments[0].ref, "/api/v1/channels/telegram/main/files/BQACAgI");
    assert_string_equal(d->msg.attachments[0].kind, "file");
    assert_string_equal(d->msg.attachments[0].name, "a.pdf");
    assert_string_equal(d->msg.text, "see");
    sb_th_free(th);
}

static void test_poll_mode_has_no_webhook(void **st)
{
    (void)st;
    sb_th *th = tg_host(NULL);
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, "{\"ok\":true,\"result\":[]}");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    const sb_th_reply *r = tg_post(th, SECRET, MSG(1, 1, "x"));
    assert_int_equal(r->status, 404);
    sb_th_free(th);
}

static void test_stop_with_update_waiting(void **st)
{
    (void)st;
    sb_th *th = tg_webhook_host();
    const sb_th_reply *r = tg_post(th, SECRET, MSG(1, 1, "x"));
    assert_false(r->replied);
    sb_th_stop(th); /* the done runs with SB_ERR_CANCELLED: no 200 */
    assert_true(!r->replied || r->status == 503);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_webhook_at_start),
        cmocka_unit_test(test_secret_checked_exactly),
        cmocka_unit_test(test_answered_after_commit),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_button_press_answered),
        cmocka_unit_test(test_edit_names_original),
        cmocka_unit_test(test_contact_and_media),
        cmocka_unit_test(test_poll_mode_has_no_webhook),
        cmocka_unit_test(test_stop_with_update_waiting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
