/* Routing over time and across restarts: transfer, auto-close, reassign
 * after no reply, the offline grace period, and queues rebuilt from the
 * store. */
#include "routing_harness.h"

static harness *setup(const sb_engine_options *opt, const char *group_json)
{
    harness *h = h_open(opt);
    h->on_send = r_accept;
    r_group(h, group_json);
    r_default(h, "support");
    return h;
}

static bool conv_status_is(harness *h, void *ud)
{
    const char **want = ud; /* {conv, status} */
    char buf[64];
    return strcmp(r_field(h, want[0], "status", buf), want[1]) == 0;
}

static void wait_status(harness *h, const char *conv, const char *status, int ms)
{
    const char *want[2] = {conv, status};
    if (!h_run_until(h, conv_status_is, want, ms)) fail_msg("%s not %s after %d ms", conv, status, ms);
}

static void transfer_to_operator_group_and_offline_operator(void **state)
{
    harness *h = setup(NULL, "{\"id\":\"support\",\"max_per_operator\":5}");
    r_group(h, "{\"id\":\"sales\",\"strategy\":\"least_busy\"}");
    char a[24], b[24], s1[24], c[32], buf[64], err[160], *out = NULL;
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_op(h, "{\"login\":\"s1\",\"groups\":[\"sales\"]}", s1);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", c);
    assert_string_equal(r_field(h, c, "operator_id", buf), a);

    /* to an online operator: assigned to it, both told */
    r_status(h, b, "online");
    sb_transfer t = {.operator_id = b, .by = a, .note = "billing question"};
    assert_int_equal(sb_engine_conversation_transfer(h->e, c, &t, &out, err, sizeof err), SB_OK);
    json_t *r = h_parse(out);
    assert_string_equal(h_str(r, "result"), "assigned");
    assert_string_equal(h_str(r, "conversation.operator_id"), b);
    json_decref(r);
    h_step(h);
    json_t *ev = h_last_event(h, "conversation.transferred");
    assert_string_equal(h_str(ev, "from_operator_id"), a);
    assert_string_equal(h_str(ev, "to_operator_id"), b);
    assert_int_equal(r_load(h, a), 0);
    assert_int_equal(r_load(h, b), 1);

    /* to a group: routed there by its strategy (s1 is offline: queued) */
    t = (sb_transfer){.group_id = "sales", .by = b};
    assert_int_equal(sb_engine_conversation_transfer(h->e, c, &t, &out, err, sizeof err), SB_OK);
    r = h_parse(out);
    assert_string_equal(h_str(r, "result"), "queued");
    assert_string_equal(h_str(r, "reason"), "nobody_online");
    assert_string_equal(h_str(r, "conversation.group_id"), "sales");
    json_decref(r);
    assert_int_equal(r_load(h, b), 0);
    r_status(h, s1, "online");
    assert_string_equal(r_field(h, c, "operator_id", buf), s1);

    /* to an offline operator: queued for it, and it gets it when back */
    r_status(h, a, "offline");
    t = (sb_transfer){.operator_id = a, .by = s1};
    assert_int_equal(sb_engine_conversation_transfer(h->e, c, &t, &out, err, sizeof err), SB_OK);
    r = h_parse(out);
    assert_string_equal(h_str(r, "result"), "queued");
    assert_string_equal(h_str(r, "reason"), "offline");
    assert_string_equal(h_str(r, "conversation.queued_for_operator_id"), a);
    json_decref(r);
    assert_string_equal(r_field(h, c, "status", buf), "queued");
    r_status(h, a, "online");
    assert_string_equal(r_field(h, c, "operator_id", buf), a);

    /* the history kept each move */
    char *page = NULL;
    assert_int_equal(sb_engine_conversation_messages(h->e, c, NULL, 50, &page), SB_OK);
    json_t *p = h_parse(page);
    size_t notes = 0, i;
    json_t *m;
    json_array_foreach(json_object_get(p, "items"), i, m)
        notes += h_str(m, "event") && strcmp(h_str(m, "event"), "transfer") == 0;
    assert_int_equal(notes, 3);
    json_decref(p);

    /* bad input */
    t = (sb_transfer){.operator_id = a, .group_id = "sales"};
    assert_int_equal(sb_engine_conversation_transfer(h->e, c, &t, &out, err, sizeof err), SB_ERR_INVALID);
    t = (sb_transfer){.group_id = "nope"};
    assert_int_equal(sb_engine_conversation_transfer(h->e, c, &t, &out, err, sizeof err), SB_ERR_NOT_FOUND);
    h_close(h);
}

static void idle_conversations_close_with_the_close_message(void **state)
{
    harness *h = setup(NULL, "{\"id\":\"support\",\"close_after\":300,"
                             "\"close_message\":\"Closed for inactivity, write again any time\"}");
    char a[24], c[32], m[32], buf[64];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", c);
    h_run_for(h, 150);
    h_reply(h, c, "hello, how can I help?", m); /* activity moves the deadline */
    h_run_for(h, 200);
    assert_string_equal(r_field(h, c, "status", buf), "assigned");
    wait_status(h, c, "closed", 1000);
    assert_int_equal(r_load(h, a), 0);
    h_run_for(h, 30);
    assert_int_equal(r_sends_with(h, "Closed for inactivity"), 1);
    json_t *ev = h_last_event(h, "conversation.closed");
    assert_string_equal(h_str(ev, "reason"), "idle");
    json_t *cj = r_conv(h, c);
    assert_non_null(h_str(cj, "closed_at"));
    assert_non_null(h_str(cj, "first_response_at"));
    json_decref(cj);
    /* the client writes again: a new conversation, the same operator */
    char c2[32];
    r_write(h, "main", "u-1", NULL, "one more thing", c2);
    assert_string_not_equal(c2, c);
    assert_string_equal(r_field(h, c2, "operator_id", buf), a);
    h_close(h);
}

static void unanswered_conversation_goes_to_the_next_operator(void **state)
{
    harness *h = setup(NULL, "{\"id\":\"support\",\"reassign_after\":250}");
    char a[24], b[24], c[32], c2[32], m[32], buf[64];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", c);
    r_write(h, "main", "u-2", NULL, "hi", c2);
    assert_string_equal(r_field(h, c, "operator_id", buf), a);
    /* a answers the second one only */
    h_reply(h, c2, "hello", m);
    r_status(h, b, "online");
    h_run_for(h, 450);
    assert_string_equal(r_field(h, c, "operator_id", buf), b);
    assert_string_equal(r_field(h, c2, "operator_id", buf), a);
    json_t *ev = h_last_event(h, "conversation.assigned");
    assert_string_equal(h_str(ev, "reason"), "reassign");
    assert_string_equal(h_str(ev, "previous_operator_id"), a);
    h_close(h);
}

static void offline_operator_keeps_conversations_for_the_grace_period(void **state)
{
    sb_engine_options opt = {.offline_grace_ms = 300};
    harness *h = setup(&opt, "{\"id\":\"support\"}");
    char a[24], b[24], c[32], c2[32], buf[64];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", c);
    r_write(h, "main", "u-2", NULL, "hi", c2);
    /* back within the grace period: nothing moves */
    r_status(h, a, "offline");
    h_run_for(h, 100);
    r_status(h, a, "online");
    h_run_for(h, 350);
    assert_string_equal(r_field(h, c, "operator_id", buf), a);
    /* gone for good: after the grace period they go to b, then the queue */
    char body[] = "{\"max_conversations\":1}", *out = NULL, err[64];
    assert_int_equal(sb_engine_operator_update(h->e, b, body, strlen(body), NULL, &out, err, sizeof err), SB_OK);
    free(out);
    r_status(h, b, "online");
    r_status(h, a, "offline");
    h_run_for(h, 100);
    assert_string_equal(r_field(h, c, "operator_id", buf), a);
    wait_status(h, c2, "queued", 1000);
    assert_string_equal(r_field(h, c, "operator_id", buf), b); /* the older one first */
    assert_int_equal(r_position(h, c2), 1);
    assert_int_equal(r_load(h, a), 0);
    h_close(h);
}

static void queue_survives_a_restart(void **state)
{
    sb_engine_options opt = {.offline_grace_ms = 200};
    harness *h = setup(&opt, "{\"id\":\"support\",\"max_per_operator\":1,\"close_after\":400}");
    char a[24], c[5][32], buf[64];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_status(h, a, "online");
    for (int i = 0; i < 5; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "u-%d", i);
        r_write(h, "main", ext, NULL, "hi", c[i]);
    }
    char *out = NULL;
    assert_int_equal(sb_engine_conversation_set_priority(h->e, c[4], 5, &out), SB_OK);
    free(out);
    h_step(h);
    h_restart(h);
    /* the queue, its order (priority first) and the load came back */
    assert_string_equal(r_field(h, c[0], "operator_id", buf), a);
    assert_int_equal(r_load(h, a), 1);
    assert_int_equal(r_position(h, c[4]), 1);
    assert_int_equal(r_position(h, c[1]), 2);
    assert_int_equal(r_position(h, c[3]), 4);
    char *st = NULL;
    assert_int_equal(sb_engine_queue_stats(h->e, "support", &st), SB_OK);
    json_t *sj = h_parse(st);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(sj, "items"), 0), "waiting")), 4);
    json_decref(sj);
    /* and its timers: the idle one closes, the head of the queue moves in */
    wait_status(h, c[0], "closed", 1500);
    assert_string_equal(r_field(h, c[4], "operator_id", buf), a);
    assert_int_equal(r_position(h, c[1]), 1);
    /* an offline operator's grace survives a restart too */
    r_status(h, a, "offline");
    h_restart(h);
    wait_status(h, c[4], "queued", 1500);
    assert_int_equal(r_position(h, c[4]), 1); /* priority 5 stays in front */
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfer_to_operator_group_and_offline_operator),
        cmocka_unit_test(idle_conversations_close_with_the_close_message),
        cmocka_unit_test(unanswered_conversation_goes_to_the_next_operator),
        cmocka_unit_test(offline_operator_keeps_conversations_for_the_grace_period),
        cmocka_unit_test(queue_survives_a_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
