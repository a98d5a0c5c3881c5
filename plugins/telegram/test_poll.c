/* Poll mode on the test host: the offset moves (and is saved) only after
 * every update of a batch is stored; errors back off; 409 and 429. */
#include "tg_test.h"

#include <stdlib.h>

#include <jansson.h>

#define UPD(uid, text)                                                                          \
    "{\"update_id\":" #uid ",\"message\":{\"message_id\":" #uid ",\"from\":{\"id\":7,"       \
    "\"first_name\":\"P\"},\"chat\":{\"id\":7,\"type\":\"private\"},\"date\":1,"              \
    "\"text\":\"" text "\"}}"
#define EMPTY "{\"ok\":true,\"result\":[]}"

static json_t *body_of(const sb_th_http_call *c)
{
    json_t *v = json_loads(c->body, 0, NULL);
    assert_non_null(v);
    return v;
}

static json_int_t offset_of(const sb_th_http_call *c)
{
    json_t *v = body_of(c);
    json_t *o = json_object_get(v, "offset");
    json_int_t r = o ? json_integer_value(o) : -1;
    json_decref(v);
    return r;
}

static sb_th *poller(void)
{
    sb_th *th = tg_host("poll");
    sb_th_config_set(th, "poll_timeout", "20s");
    return th;
}

static void test_offset_after_every_update_stored(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200,
                      "{\"ok\":true,\"result\":[" UPD(100, "one") "," UPD(101, "two") "]}");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    const sb_th_http_call *c = tg_last_call(th, "getUpdates");
    json_t *b = body_of(c);
    assert_null(json_object_get(b, "offset")); /* nothing confirmed yet */
    assert_int_equal(json_integer_value(json_object_get(b, "timeout")), 20);
    assert_int_equal(json_integer_value(json_object_get(b, "limit")), 100);
    assert_string_equal(json_string_value(json_array_get(json_object_get(b, "allowed_updates"), 2)),
                        "callback_query");
    json_decref(b);
    assert_true(c->timeout_ms > 20000); /* the HTTP call outlives the long poll */
    sb_th_run_pending(th);
    assert_int_equal(sb_th_inbound_count(th), 2);
    assert_string_equal(sb_th_inbound_get(th, 1)->msg.dedup_key, "u101");

    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, EMPTY);
    sb_th_inbound_complete(th, 1, SB_OK);
    sb_th_run_pending(th);
    sb_th_advance(th, 5000);
    assert_int_equal(tg_calls(th, "getUpdates"), 1); /* one still being stored */
    assert_null(sb_th_kv_peek(th, "offset", NULL));

    sb_th_inbound_complete(th, 0, SB_OK);
    assert_string_equal(sb_th_kv_peek(th, "offset", NULL), "102");
    assert_int_equal(tg_calls(th, "getUpdates"), 1); /* not before the offset is durable */
    sb_th_run_pending(th);
    assert_int_equal(tg_calls(th, "getUpdates"), 2);
    assert_int_equal(offset_of(tg_last_call(th, "getUpdates")), 102);
    sb_th_free(th);
}

static void test_not_stored_is_fetched_again(void **st)
{
    (void)st;
    sb_th *th = poller();
    const char *batch = "{\"ok\":true,\"result\":[" UPD(5, "a") "," UPD(6, "b") "]}";
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, batch);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    sb_th_inbound_complete(th, 0, SB_OK);
    sb_th_inbound_complete(th, 1, SB_ERR_IO);
    sb_th_run_pending(th);
    assert_null(sb_th_kv_peek(th, "offset", NULL));
    assert_true(sb_th_log_find(th, "not stored") >= 0);
    /* the same batch again after 1 s, from the same offset; the stored one
     * is a duplicate now */
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, batch);
    sb_th_advance(th, 999);
    assert_int_equal(tg_calls(th, "getUpdates"), 1);
    sb_th_advance(th, 1);
    assert_int_equal(tg_calls(th, "getUpdates"), 2);
    assert_int_equal(offset_of(tg_last_call(th, "getUpdates")), -1);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_inbound_count(th), 3); /* update 6 anew, 5 a duplicate */
    assert_int_equal(sb_th_inbound_get(th, 0)->duplicates, 1);
    sb_th_inbound_complete(th, 2, SB_OK);
    sb_th_run_pending(th);
    assert_string_equal(sb_th_kv_peek(th, "offset", NULL), "7");
    sb_th_free(th);
}

static void test_restart_resumes_from_saved_offset(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_kv_set(th, "offset", "4242", 4);
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, EMPTY);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    assert_int_equal(offset_of(tg_last_call(th, "getUpdates")), 4242);
    sb_th_run_pending(th);
    /* an empty answer that came back at once: the next poll waits a little */
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, EMPTY);
    assert_int_equal(tg_calls(th, "getUpdates"), 1);
    sb_th_advance(th, 500);
    assert_int_equal(tg_calls(th, "getUpdates"), 2);
    sb_th_free(th);
}

static void test_skipped_and_bad_updates_do_not_block(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200,
                      "{\"ok\":true,\"result\":[{\"update_id\":10,\"poll\":{}},"
                      "{\"update_id\":11,\"message\":{\"message_id\":1}}]}");
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, EMPTY);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_inbound_count(th), 0);
    assert_string_equal(sb_th_kv_peek(th, "offset", NULL), "12");
    assert_true(sb_th_log_find(th, "update dropped") >= 0);
    assert_int_equal(offset_of(tg_last_call(th, "getUpdates")), 12);
    sb_th_free(th);
}

static void test_backoff_doubles_to_60s(void **st)
{
    (void)st;
    sb_th *th = poller();
    for (int i = 0; i < 9; i++) sb_th_http_expect_error(th, "POST", BOT, SB_ERR_IO, "connection refused");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (size_t i = 0; i < 8; i++) {
        sb_th_run_pending(th);
        size_t before = tg_calls(th, "getUpdates");
        sb_th_advance(th, want[i] - 1);
        assert_int_equal(tg_calls(th, "getUpdates"), before);
        sb_th_advance(th, 1);
        assert_int_equal(tg_calls(th, "getUpdates"), before + 1);
    }
    /* a success resets the backoff */
    sb_th_run_pending(th);
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, "{\"ok\":true,\"result\":[" UPD(1, "x") "]}");
    sb_th_advance(th, 60000);
    sb_th_inbound_autocomplete(th, 1);
    sb_th_http_expect_error(th, "POST", BOT, SB_ERR_TIMEOUT, "timeout");
    sb_th_run_pending(th); /* stored, offset saved, the next poll times out */
    assert_string_equal(sb_th_kv_peek(th, "offset", NULL), "2");
    size_t before = tg_calls(th, "getUpdates");
    sb_th_advance(th, 1000);
    assert_int_equal(tg_calls(th, "getUpdates"), before + 1);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

static void test_429_and_409(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_http_expect(th, "POST", BOT "getUpdates", 429,
                      "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
                      "after 7\",\"parameters\":{\"retry_after\":7}}");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    sb_th_advance(th, 6999);
    assert_int_equal(tg_calls(th, "getUpdates"), 1);
    sb_th_http_expect(th, "POST", BOT "getUpdates", 409,
                      "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: terminated by "
                      "other getUpdates request; make sure that only one bot instance is running\"}");
    sb_th_advance(th, 1);
    assert_int_equal(tg_calls(th, "getUpdates"), 2);
    sb_th_run_pending(th);
    sb_log_level lvl;
    long at = sb_th_log_find(th, "409 Conflict");
    assert_true(at >= 0);
    const char *line = sb_th_log_line(th, (size_t)at, &lvl);
    assert_int_equal(lvl, SB_LOG_ERROR);
    assert_non_null(strstr(line, "only one bot instance"));
    assert_non_null(strstr(line, "webhook"));
    assert_non_null(strstr(line, "trying again in 2 s"));
    sb_th_advance(th, 1999);
    assert_int_equal(tg_calls(th, "getUpdates"), 2);
    sb_th_advance(th, 1);
    assert_int_equal(tg_calls(th, "getUpdates"), 3);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

static void test_token_never_logged(void **st)
{
    (void)st;
    sb_th *th = poller();
    /* transports may name the URL in their error */
    sb_th_http_expect_error(th, "POST", BOT, SB_ERR_IO,
                            "Failed to connect to " BOT "getUpdates: refused");
    sb_th_http_expect(th, "POST", BOT "getUpdates", 401,
                      "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    assert_true(sb_th_log_find(th, "/bot<token>/getUpdates") >= 0);
    sb_th_advance(th, 1000);
    sb_th_run_pending(th);
    assert_true(sb_th_log_find(th, "refused the token") >= 0);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

static void test_big_answer_asks_for_fewer(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_http_expect_error(th, "POST", BOT, SB_ERR_TOO_BIG, "too big");
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, EMPTY);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    json_t *b = body_of(tg_last_call(th, "getUpdates"));
    assert_int_equal(json_integer_value(json_object_get(b, "limit")), 50);
    json_decref(b);
    sb_th_free(th);
}

static void test_stop_and_reload(void **st)
{
    (void)st;
    sb_th *th = poller();
    sb_th_http_expect(th, "POST", BOT "getUpdates", 200, "{\"ok\":true,\"result\":[" UPD(3, "x") "]}");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    /* reload with a new token: the poller starts again with it; the batch
     * it gave up is fetched again (its offset never moved) */
    sb_th_config_set(th, "token", "999:other");
    sb_th_http_expect(th, "POST", API "/bot999:other/getUpdates", 200, EMPTY);
    assert_int_equal(sb_th_reload(th), SB_OK);
    const sb_th_http_call *c = sb_th_http_call_get(th, sb_th_http_call_count(th) - 1);
    assert_string_equal(c->url, API "/bot999:other/getUpdates");
    sb_th_inbound_complete(th, 0, SB_OK); /* the old batch: ignored */
    sb_th_run_pending(th);
    assert_null(sb_th_kv_peek(th, "offset", NULL));
    /* a bad reload keeps the old config */
    sb_th_config_set(th, "mode", "carrier-pigeon");
    assert_int_not_equal(sb_th_reload(th), SB_OK);
    /* stop with a poll running: cancelled, nothing after */
    size_t n = sb_th_http_call_count(th);
    sb_th_stop(th);
    sb_th_advance(th, 120000);
    assert_int_equal(sb_th_http_call_count(th), n);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_after_every_update_stored),
        cmocka_unit_test(test_not_stored_is_fetched_again),
        cmocka_unit_test(test_restart_resumes_from_saved_offset),
        cmocka_unit_test(test_skipped_and_bad_updates_do_not_block),
        cmocka_unit_test(test_backoff_doubles_to_60s),
        cmocka_unit_test(test_429_and_409),
        cmocka_unit_test(test_token_never_logged),
        cmocka_unit_test(test_big_answer_asks_for_fewer),
        cmocka_unit_test(test_stop_and_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
