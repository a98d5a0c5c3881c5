/* The echo plugin on the SDK test host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "testhost.h"

#define HOOK "/hooks/echo/main"

static const sb_plugin *echo(void)
{
    return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
}

/* A started instance with prefix ">> " and whatever else was set. */
static sb_th *started(const char *key, const char *value)
{
    sb_th *th = sb_th_new("echo", "main");
    sb_th_config_set(th, "prefix", ">> ");
    if (key) sb_th_config_set(th, key, value);
    assert_int_equal(sb_th_start(th, echo()), SB_OK);
    return th;
}

static const sb_th_reply *post(sb_th *th, const char *query, const char *text)
{
    char target[512];
    snprintf(target, sizeof target, HOOK "?%s", query);
    return sb_th_http_request(th, "POST", target, NULL, 0, text, strlen(text));
}

static const sb_th_reply *outbox(sb_th *th, const char *to)
{
    char target[256];
    snprintf(target, sizeof target, HOOK "/outbox?to=%s", to);
    return sb_th_http_request(th, "GET", target, NULL, 0, NULL, 0);
}

static void send_text(sb_th *th, const char *to, const char *text, uint64_t *op)
{
    sb_outbound m = {.message_id = "m", .external_id = to, .text = text};
    assert_int_equal(sb_th_send(th, &m, op), SB_SEND_ACCEPTED);
}

static void test_webhook_stores_then_answers(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    assert_null(sb_th_unused_config(th));
    const sb_th_reply *r = post(th, "from=al%20ice+b&id=m1", "hello");
    assert_false(r->replied); /* not before the core stored it */
    assert_int_equal(sb_th_inbound_count(th), 1);
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_int_equal(in->msg.kind, SB_IN_MESSAGE);
    assert_string_equal(in->msg.external_id, "al ice b");
    assert_string_equal(in->msg.dedup_key, "m1");
    assert_string_equal(in->msg.text, "hello");

    assert_int_equal(sb_th_inbound_complete(th, 0, SB_OK), SB_OK);
    assert_true(r->replied);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, in->message_id);
    assert_string_equal(sb_th_kv_peek(th, "count", NULL), "1");

    /* the core could not store it: the sender must deliver again */
    r = post(th, "from=bob&id=m2", "again");
    assert_int_equal(sb_th_inbound_complete(th, 1, SB_ERR_IO), SB_OK);
    assert_int_equal(r->status, 503);
    assert_string_equal(sb_th_kv_peek(th, "count", NULL), "1");
    sb_th_free(th);
}

static void test_redelivery_is_deduplicated(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    /* twice while the first is still being stored */
    const sb_th_reply *a = post(th, "from=alice&id=x1", "hi");
    const sb_th_reply *b = post(th, "id=x1&from=alice", "hi");
    assert_int_equal(sb_th_inbound_count(th), 1);
    sb_th_inbound_complete(th, 0, SB_OK);
    assert_int_equal(a->status, 200);
    assert_int_equal(b->status, 200);
    assert_string_equal(a->body, b->body);

    /* and once more after */
    sb_th_inbound_autocomplete(th, 1);
    const sb_th_reply *c = post(th, "from=alice&id=x1", "hi");
    assert_false(c->replied);
    sb_th_run_pending(th);
    assert_int_equal(c->status, 200);
    assert_string_equal(c->body, a->body);
    assert_int_equal(sb_th_inbound_count(th), 1);
    assert_int_equal(sb_th_inbound_get(th, 0)->duplicates, 2);
    assert_string_equal(sb_th_kv_peek(th, "count", NULL), "1");
    sb_th_free(th);
}

static void expect_400(sb_th *th, const char *query, const char *text,
                       const char *needle)
{
    const sb_th_reply *r = post(th, query, text);
    assert_true(r->replied);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, needle));
}

static void test_bad_webhooks(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    expect_400(th, "id=1", "hi", "missing query parameter 'from'");
    expect_400(th, "from=a", "hi", "missing query parameter 'id'");
    expect_400(th, "from=&id=1", "hi", "missing query parameter 'from'");
    expect_400(th, "from=a%zz&id=1", "hi", "malformed query parameter 'from'");
    expect_400(th, "from=a%4&id=1", "hi", "malformed query parameter 'from'");
    expect_400(th, "from=a%00b&id=1", "hi", "malformed query parameter 'from'");
    expect_400(th, "from=a&id=1", "", "the body must be the text");

    static char big[4098];
    memset(big, 'x', 4097);
    const sb_th_reply *r = post(th, "from=a&id=1", big);
    assert_int_equal(r->status, 413);
    assert_int_equal(sb_th_inbound_count(th), 0);
    big[4096] = '\0'; /* exactly the limit is fine */
    r = post(th, "from=a&id=1", big);
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);

    r = sb_th_http_request(th, "GET", HOOK "?from=a&id=2", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 405);
    sb_th_free(th);
}

static void test_send_then_outbox(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    uint64_t op1, op2;
    send_text(th, "bob", "one", &op1);
    assert_int_equal(sb_th_send_result_count(th), 0); /* never inside send */
    send_text(th, "bob", "two", &op2);
    send_text(th, "eve", "three", NULL);
    assert_int_equal(sb_th_run_pending(th), 1); /* one post for all three */
    assert_int_equal(sb_th_send_result_count(th), 3);
    const sb_th_send_result *s = sb_th_send_result_get(th, 1);
    assert_int_equal(s->op, op2);
    assert_int_equal(s->status, SB_SENT);
    assert_string_equal(s->remote_id, "echo-2");
    assert_int_equal(sb_th_send_result_get(th, 0)->op, op1);

    const sb_th_reply *r = outbox(th, "bob");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, ">> one\n>> two\n");
    assert_string_equal(outbox(th, "bob")->body, ""); /* emptied */
    assert_string_equal(outbox(th, "eve")->body, ">> three\n");
    r = sb_th_http_request(th, "GET", HOOK "/outbox", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "'to'"));

    sb_outbound no_text = {.external_id = "bob"};
    assert_int_equal(sb_th_send(th, &no_text, NULL), SB_SEND_REJECTED);
    sb_th_free(th);
}

static void test_outbox_drops_oldest(void **state)
{
    (void)state;
    sb_th *th = started("max_outbox", "2");
    send_text(th, "bob", "a", NULL);
    send_text(th, "bob", "b", NULL);
    send_text(th, "bob", "c", NULL);
    sb_th_run_pending(th);
    assert_string_equal(outbox(th, "bob")->body, ">> b\n>> c\n");
    sb_th_free(th);
}

static void expect_config_error(const char *key, const char *value,
                                const char *needle)
{
    sb_th *th = sb_th_new("echo", "main");
    sb_th_config_set(th, key, value);
    assert_int_equal(sb_th_start(th, echo()), SB_ERR_INVALID);
    assert_null(sb_th_state(th));
    assert_true(sb_th_config_error_count(th) >= 1);
    assert_non_null(strstr(sb_th_config_error(th, 0), needle));
    assert_string_equal(sb_th_http_request(th, "POST", HOOK "?from=a&id=1",
                                           NULL, 0, "x", 1)->body,
                        "{\"error\":{\"code\":\"not_found\",\"message\":"
                        "\"no such route\"}}");
    sb_th_free(th);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("prefix.text", "x", "prefix: expected a string, got a map");
    expect_config_error("max_outbox", "ten", "max_outbox: expected an integer");
    expect_config_error("max_outbox", "0", "max_outbox: must be between 1 and 100000");
    expect_config_error("prefx", ">", "prefx: unknown key");
}

static void test_count_survives_restart_and_reload(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    sb_th_inbound_autocomplete(th, 1);
    post(th, "from=a&id=1", "x");
    post(th, "from=a&id=2", "y");
    sb_th_run_pending(th);
    sb_th_stop(th);
    assert_string_equal(sb_th_kv_peek(th, "count", NULL), "2");
    assert_int_equal(sb_th_start(th, echo()), SB_OK);
    assert_true(sb_th_log_find(th, "started, 2 messages so far") >= 0);
    post(th, "from=a&id=3", "z");
    sb_th_run_pending(th);
    assert_string_equal(sb_th_kv_peek(th, "count", NULL), "3");

    sb_th_config_set(th, "prefix", "# ");
    sb_th_config_set(th, "max_outbox", "-1");
    assert_int_equal(sb_th_reload(th), SB_ERR_INVALID);
    send_text(th, "bob", "old", NULL); /* the old prefix still applies */
    sb_th_run_pending(th);
    assert_string_equal(outbox(th, "bob")->body, ">> old\n");
    sb_th_config_set(th, "max_outbox", "5");
    assert_int_equal(sb_th_reload(th), SB_OK);
    send_text(th, "bob", "hi", NULL);
    sb_th_run_pending(th);
    assert_string_equal(outbox(th, "bob")->body, "# hi\n");
    sb_th_free(th);
}

static void test_stop_answers_waiting_webhooks(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    const sb_th_reply *r = post(th, "from=a&id=1", "x");
    send_text(th, "bob", "late", NULL);
    sb_th_stop(th);
    assert_int_equal(r->status, 503); /* stored? unknown: deliver again */
    /* The post never ran; destroy freed the queued result (ASan checks). */
    assert_int_equal(sb_th_send_result_count(th), 0);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_stores_then_answers),
        cmocka_unit_test(test_redelivery_is_deduplicated),
        cmocka_unit_test(test_bad_webhooks),
        cmocka_unit_test(test_send_then_outbox),
        cmocka_unit_test(test_outbox_drops_oldest),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_count_survives_restart_and_reload),
        cmocka_unit_test(test_stop_answers_waiting_webhooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
