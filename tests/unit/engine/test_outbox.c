/* The outbox: delivery, retries and backoff, failures, timeouts, the rate
 * limit and restarts. Times are short (tens to hundreds of ms). */
#include "harness.h"

typedef struct stats_q {
    const char *plugin, *instance;
    sb_outbox_stats got;
    int found;
} stats_q;

static void stats_cb(void *ud, const sb_outbox_stats *s)
{
    stats_q *q = ud;
    if (strcmp(s->plugin, q->plugin) == 0 && strcmp(s->instance, q->instance) == 0) {
        q->got = *s;
        q->found++;
    }
}

static sb_outbox_stats stats(harness *h, const char *plugin, const char *instance)
{
    stats_q q = {.plugin = plugin, .instance = instance};
    sb_engine_outbox_stats(h->e, stats_cb, &q);
    assert_int_equal(q.found, 1);
    return q.got;
}

static void result(harness *h, size_t send, sb_send_status st, const char *remote,
                   uint64_t retry_after, const char *error)
{
    assert_int_equal(sb_engine_send_result(h->e, h->sends[send].op, st, remote, retry_after, error),
                     SB_OK);
}

static sb_send_accept sent_at_once(harness *h, const h_send *s, bool *transient)
{
    assert_int_equal(sb_engine_send_result(h->e, s->op, SB_SENT, "r", 0, NULL), SB_OK);
    return SB_SEND_ACCEPTED;
}

static sb_send_accept reject(harness *h, const h_send *s, bool *transient)
{
    return SB_SEND_REJECTED;
}

static sb_send_accept reject_for_now(harness *h, const h_send *s, bool *transient)
{
    *transient = true;
    return SB_SEND_REJECTED;
}

static bool event_count(harness *h, void *ud)
{
    const char *type = ud;
    return h_count_events(h, type) > 0;
}

static bool sent_to_other(harness *h, void *ud)
{
    return h->n_sends && strcmp(h->sends[h->n_sends - 1].instance, "other") == 0;
}

/* A harness (opt may be NULL) where client u-1's conversation (id in conv)
 * got the reply `text` (id in msg), already handed to the channel as
 * sends[0]. */
static harness *open_sent(const sb_engine_options *opt, const char *text, char *conv, char *msg)
{
    harness *h = h_open(opt);
    h_conversation(h, "u-1", conv);
    h_reply(h, conv, text, msg);
    h_wait_sends(h, 1, 1000);
    return h;
}

static void reply_is_sent_after_commit_and_updated(void **state)
{
    harness *h = h_open(NULL);
    char conv[32], msg[32], st[64];
    h_conversation(h, "u-1", conv);
    h_reply(h, conv, "Здравствуйте!", msg);
    /* not handed to the channel before its batch commits */
    ev_run(h->loop, EVRUN_NOWAIT);
    assert_int_equal(h->n_sends, 0);
    assert_int_equal(stats(h, "apichannel", "main").pending, 1);
    h_wait_sends(h, 1, 1000);
    const h_send *s = &h->sends[0];
    assert_string_equal(s->message_id, msg);
    assert_string_equal(s->plugin, "apichannel");
    assert_string_equal(s->instance, "main");
    assert_string_equal(s->external_id, "u-1");
    assert_string_equal(s->text, "Здравствуйте!");
    assert_int_equal(s->attempt, 1);
    assert_string_equal(h_delivery(h, msg, st), "pending");

    assert_int_equal(sb_engine_send_result(h->e, s->op, (sb_send_status)9, NULL, 0, NULL), SB_ERR_INVALID);
    result(h, 0, SB_SENT, "remote-9", 0, NULL);
    assert_int_equal(sb_engine_send_result(h->e, s->op, SB_SENT, NULL, 0, NULL), SB_ERR_HANDLE);
    assert_int_equal(sb_engine_send_result(h->e, 12345, SB_SENT, NULL, 0, NULL), SB_ERR_HANDLE);
    assert_true(h_run_until(h, event_count, (void *)"message.updated", 1000));
    json_t *ev = h_last_event(h, "message.updated");
    assert_string_equal(h_str(ev, "message.id"), msg);
    assert_string_equal(h_str(ev, "message.delivery.status"), "sent");
    assert_string_equal(h_delivery(h, msg, st), "sent");
    sb_outbox_stats o = stats(h, "apichannel", "main");
    assert_int_equal(o.pending, 0);
    assert_int_equal(o.sent, 1);
    assert_int_equal(o.failures, 0);
    h_run_for(h, 50);
    assert_int_equal(h->n_sends, 1);
    h_close(h);
}

static void retry_after_is_honoured(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 10};
    char conv[32], msg[32], st[64];
    harness *h = open_sent(&opt, "hi", conv, msg);
    int64_t t0 = h_now();
    result(h, 0, SB_SEND_RETRY, NULL, 200, "429 Too Many Requests");
    h_wait_sends(h, 2, 2000);
    assert_true(h->sends[1].at_ms - t0 >= 200);
    assert_int_equal(h->sends[1].attempt, 2);
    assert_string_equal(h->sends[1].message_id, msg);
    assert_string_equal(h_delivery(h, msg, st), "pending");
    assert_int_equal(stats(h, "apichannel", "main").retries, 1);
    result(h, 1, SB_SENT, "r", 0, NULL);
    h_step(h);
    assert_string_equal(h_delivery(h, msg, st), "sent");
    h_close(h);
}

static void backoff_grows_and_is_capped(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 40, .retry_max_ms = 10000};
    harness *h = h_open(&opt);
    char conv[32], msg[32];
    h_conversation(h, "u-1", conv);
    h_reply(h, conv, "hi", msg);
    int64_t gap[3];
    for (size_t i = 0; i < 3; i++) {
        h_wait_sends(h, i + 1, 2000);
        int64_t t = h_now();
        result(h, i, SB_SEND_RETRY, NULL, 0, "502");
        h_wait_sends(h, i + 2, 2000);
        gap[i] = h->sends[i + 1].at_ms - t;
    }
    /* 40, 80, 160 ms, each +-20%: without the doubling the later ones
     * would come at 48 ms at most */
    assert_true(gap[0] >= 32);
    assert_true(gap[1] >= 64);
    assert_true(gap[2] >= 128);
    assert_int_equal(h->sends[3].attempt, 4);
    h_close(h);

    sb_engine_options capped = {.retry_base_ms = 100, .retry_max_ms = 100};
    h = h_open(&capped);
    h_conversation(h, "u-1", conv);
    h_reply(h, conv, "hi", msg);
    for (size_t i = 0; i < 3; i++) {
        h_wait_sends(h, i + 1, 2000);
        int64_t t = h_now();
        result(h, i, SB_SEND_RETRY, NULL, 0, "502");
        h_wait_sends(h, i + 2, 2000);
        gap[i] = h->sends[i + 1].at_ms - t;
    }
    /* the third would be 400 ms uncapped; capped it is 100 +-20% */
    assert_true(gap[2] >= 80 && gap[2] < 300);
    h_close(h);
}

static void permanent_failures(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 10, .max_attempts = 2};
    harness *h = h_open(&opt);
    char conv[32], msg[32], st[64];
    h_conversation(h, "u-1", conv);

    /* the channel's verdict */
    h_reply(h, conv, "one", msg);
    h_wait_sends(h, 1, 1000);
    result(h, 0, SB_SEND_FAILED, NULL, 0, "400 chat not found");
    h_step(h);
    json_t *m = h_get(h, sb_engine_message_json, msg);
    assert_string_equal(h_str(m, "delivery.status"), "failed");
    assert_string_equal(h_str(m, "delivery.error"), "400 chat not found");
    json_decref(m);

    /* too many transient failures */
    h_reply(h, conv, "two", msg);
    h_wait_sends(h, 2, 1000);
    result(h, 1, SB_SEND_RETRY, NULL, 0, "503");
    h_wait_sends(h, 3, 1000);
    result(h, 2, SB_SEND_RETRY, NULL, 0, "503 again");
    h_step(h);
    m = h_get(h, sb_engine_message_json, msg);
    assert_string_equal(h_str(m, "delivery.status"), "failed");
    assert_string_equal(h_str(m, "delivery.error"), "gave up after 2 attempts: 503 again");
    json_decref(m);

    /* refused by send() itself */
    h->on_send = reject;
    h_reply(h, conv, "three", msg);
    h_wait_sends(h, 4, 1000);
    h_step(h);
    m = h_get(h, sb_engine_message_json, msg);
    assert_string_equal(h_str(m, "delivery.status"), "failed");
    assert_string_equal(h_str(m, "delivery.error"), "rejected by the channel");
    json_decref(m);

    h_run_for(h, 100);
    assert_int_equal(h->n_sends, 4);
    sb_outbox_stats o = stats(h, "apichannel", "main");
    assert_int_equal(o.pending, 0);
    assert_int_equal(o.failures, 3);
    assert_int_equal(o.retries, 1);
    assert_int_equal(h_count_events(h, "message.updated"), 3);
    (void)st;
    h_close(h);
}

static void unreachable_marks_the_identity(void **state)
{
    char conv[32], msg[32], st[64];
    harness *h = open_sent(NULL, "hi", conv, msg);
    result(h, 0, SB_SEND_UNREACHABLE, NULL, 0, "403 bot was blocked by the user");
    h_step(h);
    assert_string_equal(h_delivery(h, msg, st), "failed");
    json_t *m = h_get(h, sb_engine_message_json, msg);
    json_t *cl = h_get(h, sb_engine_client_json, h_str(m, "client_id"));
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(cl, "identities"), 0),
                                             "unreachable")));
    json_t *ev = h_last_event(h, "client.updated");
    assert_non_null(ev);
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(json_object_get(ev, "client"), "identities"), 0), "unreachable")));
    json_decref(cl);

    /* writing again makes the client reachable */
    sb_inbound in = h_msg("u-1", "again", "I unblocked you");
    h_done d;
    h_inbound(h, "apichannel", "main", &in, &d);
    cl = h_get(h, sb_engine_client_json, h_str(m, "client_id"));
    assert_true(json_is_false(json_object_get(json_array_get(json_object_get(cl, "identities"), 0),
                                              "unreachable")));
    json_decref(cl);
    json_decref(m);
    h_close(h);
}

static void no_sender_transient_reject_and_timeout_retry(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 20, .retry_max_ms = 40, .send_timeout_ms = 100};
    harness *h = h_open(&opt);
    char conv[32], msg[32], st[64];
    h_conversation(h, "u-1", conv);

    sb_engine_set_sender(h->e, NULL, NULL);
    h_reply(h, conv, "hi", msg);
    h_run_for(h, 150);
    assert_int_equal(h->n_sends, 0);
    assert_true(stats(h, "apichannel", "main").retries >= 2);

    /* the channel is back but not running yet */
    h->on_send = reject_for_now;
    sb_engine_set_sender(h->e, h_sender, h);
    h_wait_sends(h, 2, 1000);
    assert_true(h->sends[1].attempt > h->sends[0].attempt);
    assert_string_equal(h_delivery(h, msg, st), "pending");

    /* accepted, then silence: the deadline counts as a transient failure */
    h->on_send = NULL;
    size_t first = h->n_sends;
    h_wait_sends(h, first + 1, 1000);
    int64_t t0 = h->sends[first].at_ms;
    h_wait_sends(h, first + 2, 1000);
    assert_true(h->sends[first + 1].at_ms - t0 >= 100);
    assert_int_equal(h->sends[first + 1].attempt, h->sends[first].attempt + 1);
    /* the late answer to the timed-out send is refused; the new one counts */
    assert_int_equal(sb_engine_send_result(h->e, h->sends[first].op, SB_SENT, NULL, 0, NULL),
                     SB_ERR_HANDLE);
    result(h, first + 1, SB_SENT, "r", 0, NULL);
    h_step(h);
    assert_string_equal(h_delivery(h, msg, st), "sent");
    h_close(h);
}

static void rate_limit_spreads_sends(void **state)
{
    harness *h = h_open(NULL);
    char conv[32], other[32], msg[32];
    h_conversation(h, "u-1", conv);
    sb_engine_set_rate(h->e, "apichannel", "main", 20); /* one per 50 ms */
    h->on_send = sent_at_once;
    int64_t t0 = h_now();
    for (int i = 0; i < 5; i++) h_reply(h, conv, "burst", msg);
    h_wait_sends(h, 5, 3000);
    /* send k not before slot k: the first slot is no earlier than t0 */
    for (int k = 1; k < 5; k++) {
        int64_t after = h->sends[k].at_ms - t0;
        if (after < 50 * k) fail_msg("send %d after %lld ms, before its slot", k, (long long)after);
    }
    assert_string_equal(h->sends[4].message_id, msg);
    assert_int_equal(stats(h, "apichannel", "main").sent, 5);

    /* another instance is not held back by this one's limit */
    sb_inbound in = h_msg("u-2", "o-1", "hello");
    h_done d;
    h_inbound(h, "apichannel", "other", &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    h_copy(other, sizeof other, h_str(m, "conversation_id"));
    json_decref(m);
    for (int i = 0; i < 6; i++) h_reply(h, conv, "slow", msg); /* the last one 250 ms out */
    h_reply(h, other, "fast", msg);
    assert_true(h_run_until(h, sent_to_other, NULL, 1000));
    size_t fast = h->n_sends - 1;
    assert_string_equal(h->sends[fast].message_id, msg);
    /* it went out at once, ahead of (at least) five of the slow ones */
    assert_true(fast <= 6);
    h_wait_sends(h, 12, 2000);
    h_close(h);
}

static void restart_resumes_not_before_next_at(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 10, .send_timeout_ms = 150};
    char conv[32], msg[32], st[64];
    harness *h = open_sent(&opt, "hi", conv, msg);
    int64_t t0 = h_now();
    result(h, 0, SB_SEND_RETRY, NULL, 300, "429");
    h_restart(h);
    assert_int_equal(stats(h, "apichannel", "main").pending, 1);
    h_wait_sends(h, 2, 3000);
    assert_true(h->sends[1].at_ms - t0 >= 300);
    assert_int_equal(h->sends[1].attempt, 2);
    assert_string_equal(h->sends[1].message_id, msg);

    /* in flight when the process stopped: sent again after its deadline */
    int64_t t1 = h->sends[1].at_ms;
    h_restart(h);
    h_wait_sends(h, 3, 3000);
    /* its deadline is 150 ms from just before send() was called (not
     * at once after the restart); allow for the time between the two */
    assert_true(h->sends[2].at_ms - t1 >= 100);
    assert_string_equal(h->sends[2].message_id, msg);
    assert_int_equal(h->sends[2].attempt, 3);
    /* an op of the previous process means nothing now */
    assert_int_equal(sb_engine_send_result(h->e, h->sends[1].op, SB_SENT, NULL, 0, NULL),
                     SB_ERR_HANDLE);
    result(h, 2, SB_SENT, "r", 0, NULL);
    h_step(h);
    assert_string_equal(h_delivery(h, msg, st), "sent");
    assert_int_equal(stats(h, "apichannel", "main").pending, 0);
    h_run_for(h, 200);
    assert_int_equal(h->n_sends, 3);
    h_close(h);
}

static void uncommitted_entries_wait_even_when_the_timer_fires(void **state)
{
    sb_engine_options opt = {.retry_base_ms = 10};
    char conv[32], first[32], second[32];
    harness *h = open_sent(&opt, "first", conv, first);
    result(h, 0, SB_SEND_RETRY, NULL, 50, "429");
    h_step(h);
    usleep(80 * 1000);
    /* the timer is due; a new reply sits in the open batch */
    h_reply(h, conv, "second", second);
    ev_run(h->loop, EVRUN_NOWAIT);
    assert_int_equal(h->n_sends, 2);
    assert_string_equal(h->sends[1].message_id, first);
    /* and goes once committed */
    h_wait_sends(h, 3, 1000);
    assert_string_equal(h->sends[2].message_id, second);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reply_is_sent_after_commit_and_updated),
        cmocka_unit_test(retry_after_is_honoured),
        cmocka_unit_test(backoff_grows_and_is_capped),
        cmocka_unit_test(permanent_failures),
        cmocka_unit_test(unreachable_marks_the_identity),
        cmocka_unit_test(no_sender_transient_reject_and_timeout_retry),
        cmocka_unit_test(rate_limit_spreads_sends),
        cmocka_unit_test(restart_resumes_not_before_next_at),
        cmocka_unit_test(uncommitted_entries_wait_even_when_the_timer_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
