/* Bots: a channel instance's bot meets its new conversations (status "bot",
 * no queue, bot.input events), only the holding bot may act, a hand-off
 * routes with a history note and the skill, ratings answer a close. */
#include "routing_harness.h"

static harness *setup(void)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    r_group(h, "{\"id\":\"support\",\"strategy\":\"skills\",\"max_per_operator\":3}");
    r_group(h, "{\"id\":\"vip\",\"strategy\":\"least_busy\",\"max_per_operator\":3}");
    r_default(h, "support");
    assert_int_equal(sb_engine_set_instance_bot(h->e, "apichannel", "main", "textbot/faq"), SB_OK);
    return h;
}

static void a_bot_meets_new_conversations_and_gets_each_message(void **state)
{
    (void)state;
    harness *h = setup();
    char a[24], conv[32], buf[64];
    r_op(h, "{\"login\":\"anna\",\"groups\":[\"support\"]}", a);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "как заблокировать карту", conv);
    /* nobody is assigned and nothing is queued while the bot talks */
    assert_string_equal(r_field(h, conv, "status", buf), "bot");
    assert_string_equal(r_field(h, conv, "bot", buf), "textbot/faq");
    assert_int_equal(r_load(h, a), 0);
    assert_int_equal(r_position(h, conv), 0);
    json_t *in = h_last_event(h, "bot.input");
    assert_non_null(in);
    assert_string_equal(h_str(in, "kind"), "start");
    assert_string_equal(h_str(in, "bot"), "textbot/faq");
    assert_string_equal(h_str(in, "conversation_id"), conv);
    assert_string_equal(h_str(in, "channel"), "apichannel");
    assert_string_equal(h_str(json_object_get(in, "message"), "text"), "как заблокировать карту");
    r_write(h, "main", "u-1", NULL, "ещё вопрос", NULL);
    assert_int_equal(h_count_events(h, "bot.input"), 2);
    assert_string_equal(h_str(h_last_event(h, "bot.input"), "kind"), "message");
    /* another instance without a bot routes as before */
    char other[32];
    r_write(h, "second", "u-2", NULL, "hi", other);
    assert_string_equal(r_field(h, other, "status", buf), "assigned");
    h_close(h);
}

static void a_group_may_name_the_bot_for_instances_without_one(void **state)
{
    (void)state;
    harness *h = setup();
    char conv[32], buf[64], *out = NULL, err[256] = "";
    const char *bad = "{\"bot\":\"nobot\"}";
    assert_int_equal(sb_engine_group_update(h->e, "support", bad, strlen(bad), &out, err, sizeof err),
                     SB_ERR_INVALID);
    assert_non_null(strstr(err, "bot"));
    const char *good = "{\"bot\":\"buttonbot/menu\"}";
    assert_int_equal(sb_engine_group_update(h->e, "support", good, strlen(good), &out, err, sizeof err),
                     SB_OK);
    json_t *g = h_parse(out);
    assert_string_equal(h_str(g, "bot"), "buttonbot/menu");
    json_decref(g);
    h_step(h);
    r_write(h, "second", "u-9", NULL, "hi", conv);
    assert_string_equal(r_field(h, conv, "status", buf), "bot");
    assert_string_equal(r_field(h, conv, "bot", buf), "buttonbot/menu");
    /* the instance's own bot wins over its group's */
    r_write(h, "main", "u-10", NULL, "hi", conv);
    assert_string_equal(r_field(h, conv, "bot", buf), "textbot/faq");
    /* and null turns the group's off */
    const char *off = "{\"bot\":null}";
    assert_int_equal(sb_engine_group_update(h->e, "support", off, strlen(off), &out, err, sizeof err),
                     SB_OK);
    free(out);
    h_step(h);
    r_write(h, "second", "u-11", NULL, "hi", conv);
    assert_string_equal(r_field(h, conv, "status", buf), "queued");
    h_close(h);
}

static void only_the_holding_bot_acts_and_a_handoff_routes_with_skill_and_note(void **state)
{
    (void)state;
    harness *h = setup();
    char a[24], b[24], conv[32], buf[64], *out = NULL;
    r_op(h, "{\"login\":\"anna\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"boris\",\"groups\":[\"support\"],\"skills\":{\"english\":5}}", b);
    r_status(h, a, "online");
    r_status(h, b, "online");
    r_write(h, "main", "u-1", NULL, "hello", conv);
    assert_int_equal(sb_engine_bot_holds(h->e, conv, "textbot/faq"), SB_OK);
    assert_int_equal(sb_engine_bot_holds(h->e, conv, "buttonbot/x"), SB_ERR_STATE);
    assert_int_equal(sb_engine_bot_holds(h->e, "999", NULL), SB_ERR_NOT_FOUND);
    sb_handoff bad = {.bot = "textbot/faq", .group_id = "nope"};
    assert_int_equal(sb_engine_bot_handoff(h->e, conv, &bad, &out), SB_ERR_NOT_FOUND);
    sb_handoff other = {.bot = "buttonbot/x"};
    assert_int_equal(sb_engine_bot_handoff(h->e, conv, &other, &out), SB_ERR_STATE);
    sb_handoff hand = {.bot = "textbot/faq", .skill = "english", .skill_level = 3,
                       .reason = "клиент попросил оператора"};
    assert_int_equal(sb_engine_bot_handoff(h->e, conv, &hand, &out), SB_OK);
    free(out);
    h_step(h);
    /* the skills group picks the one operator with the skill */
    assert_string_equal(r_field(h, conv, "status", buf), "assigned");
    assert_string_equal(r_field(h, conv, "operator_id", buf), b);
    /* the bot has let go; the operator sees why in the history */
    assert_int_equal(sb_engine_bot_holds(h->e, conv, "textbot/faq"), SB_ERR_STATE);
    assert_int_equal(sb_engine_bot_handoff(h->e, conv, &hand, &out), SB_ERR_STATE);
    char *page = NULL;
    assert_int_equal(sb_engine_conversation_messages(h->e, conv, NULL, 10, &page), SB_OK);
    assert_non_null(strstr(page, "клиент попросил оператора"));
    assert_non_null(strstr(page, "\"event\":\"handoff\""));
    free(page);
    /* later client messages are not the bot's any more */
    size_t inputs = h_count_events(h, "bot.input");
    r_write(h, "main", "u-1", NULL, "спасибо", NULL);
    assert_int_equal(h_count_events(h, "bot.input"), inputs);
    h_close(h);
}

static void a_handoff_to_a_group_and_a_restart_keep_the_state(void **state)
{
    (void)state;
    harness *h = setup();
    char conv[32], buf[64], *out = NULL;
    r_write(h, "main", "u-1", NULL, "hello", conv);
    h_restart(h);
    r_default(h, "support");
    /* still the bot's after a restart */
    assert_int_equal(sb_engine_bot_holds(h->e, conv, "textbot/faq"), SB_OK);
    sb_handoff hand = {.bot = "textbot/faq", .group_id = "vip"};
    assert_int_equal(sb_engine_bot_handoff(h->e, conv, &hand, &out), SB_OK);
    free(out);
    h_step(h);
    assert_string_equal(r_field(h, conv, "status", buf), "queued");
    assert_string_equal(r_field(h, conv, "group_id", buf), "vip");
    assert_int_equal(r_position(h, conv), 1);
    h_close(h);
}

static void an_operator_may_take_over_from_the_bot(void **state)
{
    (void)state;
    harness *h = setup();
    char a[24], b[24], conv[32], buf[64], *out = NULL;
    r_op(h, "{\"login\":\"anna\",\"name\":\"Анна\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"boris\",\"groups\":[\"support\"]}", b);
    r_write(h, "main", "u-1", NULL, "hello", conv);
    assert_int_equal(sb_engine_conversation_take(h->e, conv, a, &out), SB_OK);
    free(out);
    h_step(h);
    assert_string_equal(r_field(h, conv, "status", buf), "assigned");
    assert_string_equal(r_field(h, conv, "operator_id", buf), a);
    assert_int_equal(sb_engine_bot_holds(h->e, conv, "textbot/faq"), SB_ERR_STATE);
    char *page = NULL;
    assert_int_equal(sb_engine_conversation_messages(h->e, conv, NULL, 10, &page), SB_OK);
    assert_non_null(strstr(page, "Анна забрал разговор у бота textbot/faq"));
    free(page);
    /* the second take is the usual conflict */
    assert_int_equal(sb_engine_conversation_take(h->e, conv, b, &out), SB_ERR_STATE);
    free(out);
    h_close(h);
}

static void a_close_asks_for_a_rating_and_the_answer_lands_once(void **state)
{
    (void)state;
    harness *h = setup();
    char conv[32], *out = NULL;
    r_write(h, "main", "u-1", NULL, "hello", conv);
    assert_int_equal(sb_engine_conversation_close_ex(h->e, conv, "textbot/faq", true, &out), SB_OK);
    free(out);
    h_run_for(h, 50);
    assert_int_equal(r_sends_with(h, "оцените"), 1);
    /* the press lands in the closed conversation: no new one */
    sb_inbound in = h_msg("u-1", "rate-1", NULL);
    in.button_id = "sb:rate:4";
    h_done d;
    h_inbound(h, "apichannel", "main", &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    assert_string_equal(h_str(m, "conversation_id"), conv);
    json_decref(m);
    json_t *c = r_conv(h, conv);
    assert_int_equal(json_integer_value(json_object_get(c, "rating")), 4);
    assert_string_equal(h_str(c, "status"), "closed");
    json_decref(c);
    /* a second answer does not change it: it opens a new conversation */
    in = h_msg("u-1", "rate-2", NULL);
    in.button_id = "sb:rate:1";
    h_inbound(h, "apichannel", "main", &in, &d);
    m = h_get(h, sb_engine_message_json, d.id);
    assert_string_not_equal(h_str(m, "conversation_id"), conv);
    json_decref(m);
    c = r_conv(h, conv);
    assert_int_equal(json_integer_value(json_object_get(c, "rating")), 4);
    json_decref(c);
    /* closing a closed one with a rating request is a conflict */
    assert_int_equal(sb_engine_conversation_close_ex(h->e, conv, NULL, true, &out), SB_ERR_STATE);
    free(out);
    h_close(h);
}

static bool typed(harness *h, void *ud)
{
    (void)ud;
    return h_count_events(h, "typing") > 0;
}

static void typing_goes_to_subscribers_unstored(void **state)
{
    (void)state;
    harness *h = setup();
    char conv[32];
    assert_int_equal(sb_engine_typing(h->e, "apichannel", "main", "u-1", "hi"), SB_ERR_NOT_FOUND);
    r_write(h, "main", "u-1", NULL, "hello", conv);
    assert_int_equal(sb_engine_typing(h->e, "apichannel", "main", "u-1", "как мне"), SB_OK);
    assert_true(h_run_until(h, typed, NULL, 10));
    json_t *t = h_last_event(h, "typing");
    assert_string_equal(h_str(t, "conversation_id"), conv);
    assert_string_equal(h_str(t, "text"), "как мне");
    assert_int_equal(sb_engine_typing(h->e, "apichannel", "main", "u-1", "\xff"), SB_ERR_INVALID);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_bot_meets_new_conversations_and_gets_each_message),
        cmocka_unit_test(a_group_may_name_the_bot_for_instances_without_one),
        cmocka_unit_test(only_the_holding_bot_acts_and_a_handoff_routes_with_skill_and_note),
        cmocka_unit_test(a_handoff_to_a_group_and_a_restart_keep_the_state),
        cmocka_unit_test(an_operator_may_take_over_from_the_bot),
        cmocka_unit_test(a_close_asks_for_a_rating_and_the_answer_lands_once),
        cmocka_unit_test(typing_goes_to_subscribers_unstored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
