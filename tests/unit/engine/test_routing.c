/* Routing: limits and queues, draining, strategies, manual groups, sticky
 * operators, simultaneous takes. */
#include "routing_harness.h"

static harness *setup(const char *group_json)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    r_group(h, group_json);
    r_default(h, "support");
    return h;
}

static void assignment_up_to_limits_then_queue_with_positions(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"strategy\":\"least_busy\",\"max_per_operator\":2}");
    char a[24], c[4][32], buf[64];
    r_op(h, "{\"login\":\"anna\",\"groups\":[\"support\"],\"max_conversations\":5}", a);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", c[0]);
    r_write(h, "main", "u-2", NULL, "hi", c[1]);
    r_write(h, "main", "u-3", NULL, "hi", c[2]);
    r_write(h, "main", "u-4", NULL, "hi", c[3]);
    /* the group's limit (2) is below the operator's own (5) */
    assert_string_equal(r_field(h, c[0], "status", buf), "assigned");
    assert_string_equal(r_field(h, c[0], "operator_id", buf), a);
    assert_string_equal(r_field(h, c[1], "operator_id", buf), a);
    assert_string_equal(r_field(h, c[2], "status", buf), "queued");
    assert_string_equal(r_field(h, c[2], "group_id", buf), "support");
    assert_int_equal(r_position(h, c[2]), 1);
    assert_int_equal(r_position(h, c[3]), 2);
    assert_int_equal(r_load(h, a), 2);
    /* each queued client was told its place and a wait, through its channel */
    h_run_for(h, 50);
    assert_int_equal(r_sends_with(h, "Вы 1-й в очереди"), 1);
    assert_int_equal(r_sends_with(h, "Вы 2-й в очереди"), 1);
    assert_int_equal(r_sends_with(h, "ожидание около"), 2);
    assert_true(h_count_events(h, "conversation.queued") >= 2);
    json_t *qs = h_last_event(h, "queue.stats");
    assert_non_null(qs);
    assert_int_equal(json_integer_value(json_object_get(qs, "waiting")), 2);

    /* closing one frees a place: the head of the queue moves up at once,
     * and the one behind it hears its new position */
    char *out = NULL;
    assert_int_equal(sb_engine_conversation_close(h->e, c[0], a, &out), SB_OK);
    free(out);
    assert_string_equal(r_field(h, c[2], "operator_id", buf), a);
    assert_int_equal(r_position(h, c[3]), 1);
    h_run_for(h, 50);
    assert_int_equal(r_sends_with(h, "Вы 1-й в очереди"), 2);
    /* close twice: a conflict, with the conversation */
    assert_int_equal(sb_engine_conversation_close(h->e, c[0], a, &out), SB_ERR_STATE);
    json_t *cj = h_parse(out);
    assert_string_equal(h_str(cj, "status"), "closed");
    json_decref(cj);
    h_close(h);
}

static void draining_when_an_operator_comes_online_holds_the_limit(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"max_per_operator\":3}");
    char a[24], c[8][32], buf[64];
    r_op(h, "{\"login\":\"anna\",\"groups\":[\"support\"],\"max_conversations\":10}", a);
    for (int i = 0; i < 8; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "u-%d", i);
        r_write(h, "main", ext, NULL, "hi", c[i]);
    }
    h_run_for(h, 30);
    /* nobody online: told so, once each */
    assert_int_equal(r_sends_with(h, "нет свободных операторов"), 8);
    for (int i = 0; i < 8; i++) assert_int_equal(r_position(h, c[i]), i + 1);
    size_t before = h->n_sends;
    r_status(h, a, "online");
    /* exactly its limit, oldest first; the rest move up */
    for (int i = 0; i < 3; i++) assert_string_equal(r_field(h, c[i], "status", buf), "assigned");
    for (int i = 3; i < 8; i++) assert_int_equal(r_position(h, c[i]), i - 2);
    assert_int_equal(r_load(h, a), 3);
    /* new positions told at milestones only: 4->1, 5->2, 6->3, 7->4, 8->5 */
    h_run_for(h, 50);
    assert_int_equal(h->n_sends - before, 5);
    assert_int_equal(r_sends_with(h, "Вы 1-й в очереди"), 1);
    assert_int_equal(r_sends_with(h, "Вы 5-й в очереди"), 1);
    h_close(h);
}

static void least_busy_spreads_and_prefers_the_idle(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"max_per_operator\":5}");
    char op[3][24], c[6][32], buf[64];
    const char *logins[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"login\":\"%s\",\"groups\":[\"support\"]}", logins[i]);
        r_op(h, body, op[i]);
        r_status(h, op[i], "online");
    }
    for (int i = 0; i < 6; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "u-%d", i);
        r_write(h, "main", ext, NULL, "hi", c[i]);
    }
    for (int i = 0; i < 3; i++) assert_int_equal(r_load(h, op[i]), 2);
    /* op b finishes one: the next goes to b, the least busy */
    char *out = NULL;
    for (int i = 0; i < 6; i++) {
        if (strcmp(r_field(h, c[i], "operator_id", buf), op[1]) == 0) {
            assert_int_equal(sb_engine_conversation_close(h->e, c[i], op[1], &out), SB_OK);
            free(out);
            break;
        }
    }
    char n[32];
    r_write(h, "main", "u-new", NULL, "hi", n);
    assert_string_equal(r_field(h, n, "operator_id", buf), op[1]);
    h_close(h);
}

static void round_robin_takes_turns(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"strategy\":\"round_robin\",\"max_per_operator\":5}");
    char op[3][24], buf[64];
    for (int i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"login\":\"rr%d\",\"groups\":[\"support\"]}", i);
        r_op(h, body, op[i]);
        r_status(h, op[i], "online");
    }
    /* ids grow with creation: the turn goes a, b, c, a, b, c */
    for (int i = 0; i < 6; i++) {
        char ext[16], c[32];
        snprintf(ext, sizeof ext, "u-%d", i);
        r_write(h, "main", ext, NULL, "hi", c);
        assert_string_equal(r_field(h, c, "operator_id", buf), op[i % 3]);
    }
    /* an operator at its limit is skipped, the turn goes on */
    char *out = NULL, b[] = "{\"max_conversations\":2}", err[128];
    assert_int_equal(sb_engine_operator_update(h->e, op[0], b, strlen(b), NULL, &out, err, sizeof err), SB_OK);
    free(out);
    char c7[32], c8[32];
    r_write(h, "main", "u-7", NULL, "hi", c7);
    r_write(h, "main", "u-8", NULL, "hi", c8);
    assert_string_equal(r_field(h, c7, "operator_id", buf), op[1]);
    assert_string_equal(r_field(h, c8, "operator_id", buf), op[2]);
    h_close(h);
}

static void longest_idle_prefers_the_oldest_assignment(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"strategy\":\"longest_idle\",\"max_per_operator\":5}");
    char a[24], b[24], c1[32], c2[32], c3[32], buf[64], *out = NULL;
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_status(h, a, "online");
    r_status(h, b, "online");
    r_write(h, "main", "u-1", NULL, "hi", c1);
    usleep(3000);
    r_write(h, "main", "u-2", NULL, "hi", c2);
    assert_string_equal(r_field(h, c1, "operator_id", buf), a);
    assert_string_equal(r_field(h, c2, "operator_id", buf), b);
    /* b is now the less busy, but a waited longer since its last one */
    assert_int_equal(sb_engine_conversation_close(h->e, c2, b, &out), SB_OK);
    free(out);
    usleep(3000);
    r_write(h, "main", "u-3", NULL, "hi", c3);
    assert_string_equal(r_field(h, c3, "operator_id", buf), a);
    h_close(h);
}

static void skills_match_the_required_level(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"strategy\":\"skills\",\"max_per_operator\":5,"
                       "\"required_skill\":{\"name\":\"english\",\"level\":4}}");
    char lo[24], hi[24], c1[32], c2[32], buf[64], *out = NULL, err[128];
    r_op(h, "{\"login\":\"lo\",\"groups\":[\"support\"],\"skills\":{\"english\":2}}", lo);
    r_op(h, "{\"login\":\"hi\",\"groups\":[\"support\"],\"skills\":{\"english\":5,\"german\":1}}", hi);
    r_status(h, lo, "online");
    r_status(h, hi, "online");
    /* the group needs english >= 4: only hi qualifies, even when busier */
    r_write(h, "main", "u-1", NULL, "hi", c1);
    r_write(h, "main", "u-2", NULL, "hi", c2);
    assert_string_equal(r_field(h, c1, "operator_id", buf), hi);
    assert_string_equal(r_field(h, c2, "operator_id", buf), hi);
    /* hi full (limit 2 now): the next waits rather than going to lo */
    char b[] = "{\"max_conversations\":2}";
    assert_int_equal(sb_engine_operator_update(h->e, hi, b, strlen(b), NULL, &out, err, sizeof err), SB_OK);
    free(out);
    char c3[32];
    r_write(h, "main", "u-3", NULL, "hi", c3);
    assert_string_equal(r_field(h, c3, "status", buf), "queued");
    /* the conversation's own requirement (attributes) overrides the group's */
    char attrs[] = "{\"skill\":\"english\",\"skill_level\":1}";
    assert_int_equal(sb_engine_conversation_patch_attributes(h->e, c3, attrs, strlen(attrs), &out, err, sizeof err), SB_OK);
    free(out);
    assert_string_equal(r_field(h, c3, "operator_id", buf), lo);
    h_close(h);
}

static void manual_waits_for_a_take_and_one_take_wins(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"strategy\":\"manual\"}");
    char a[24], b[24], c[32], buf[64], *out = NULL;
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_status(h, a, "online");
    r_status(h, b, "online");
    r_write(h, "main", "u-1", NULL, "hi", c);
    h_run_for(h, 20);
    assert_string_equal(r_field(h, c, "status", buf), "queued");
    assert_int_equal(r_position(h, c), 1);
    /* two takes in the same loop iteration: the first wins */
    char *out2 = NULL;
    sb_status s1 = sb_engine_conversation_take(h->e, c, a, &out);
    sb_status s2 = sb_engine_conversation_take(h->e, c, b, &out2);
    assert_int_equal(s1, SB_OK);
    assert_int_equal(s2, SB_ERR_STATE);
    json_t *j1 = h_parse(out), *j2 = h_parse(out2);
    assert_string_equal(h_str(j1, "operator_id"), a);
    assert_string_equal(h_str(j2, "operator_id"), a); /* the state that made it fail */
    json_decref(j1);
    json_decref(j2);
    h_step(h);
    json_t *ev = h_last_event(h, "conversation.assigned");
    assert_string_equal(h_str(ev, "reason"), "take");
    assert_int_equal(sb_engine_conversation_take(h->e, "999", a, &out), SB_ERR_NOT_FOUND);
    h_close(h);
}

static void sticky_operator_across_two_channel_instances(void **state)
{
    harness *h = setup("{\"id\":\"support\",\"max_per_operator\":5}");
    char a[24], b[24], c1[32], c2[32], c3[32], busy[32], buf[64], *out = NULL;
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"b\",\"groups\":[\"support\"]}", b);
    r_status(h, a, "online");
    r_status(h, b, "online");
    r_write(h, "main", "u-1", "+7 900 111-22-33", "hi", c1);
    char first[64];
    r_field(h, c1, "operator_id", first);
    const char *other = strcmp(first, a) == 0 ? b : a;
    /* the first operator gets busier than the other */
    r_status(h, other, "away");
    r_write(h, "main", "u-busy", NULL, "hi", busy);
    r_status(h, other, "online");
    assert_string_equal(r_field(h, busy, "operator_id", buf), first);
    assert_true(r_load(h, first) > r_load(h, other));
    assert_int_equal(sb_engine_conversation_close(h->e, c1, first, &out), SB_OK);
    free(out);
    /* same client (the phone), another channel instance: the same operator */
    r_write(h, "second", "tg-77", "79001112233", "me again", c2);
    assert_string_not_equal(c2, c1);
    assert_string_equal(r_field(h, c2, "operator_id", buf), first);
    h_step(h);
    assert_string_equal(h_str(h_last_event(h, "conversation.assigned"), "reason"), "sticky");
    /* while open, a message from the first channel joins the same one */
    r_write(h, "main", "u-1", NULL, "and here", c3);
    assert_string_equal(c3, c2);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assignment_up_to_limits_then_queue_with_positions),
        cmocka_unit_test(draining_when_an_operator_comes_online_holds_the_limit),
        cmocka_unit_test(least_busy_spreads_and_prefers_the_idle),
        cmocka_unit_test(round_robin_takes_turns),
        cmocka_unit_test(longest_idle_prefers_the_oldest_assignment),
        cmocka_unit_test(skills_match_the_required_level),
        cmocka_unit_test(manual_waits_for_a_take_and_one_take_wins),
        cmocka_unit_test(sticky_operator_across_two_channel_instances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
