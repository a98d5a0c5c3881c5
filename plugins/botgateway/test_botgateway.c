/* The bot gateway on the SDK test host: config, signed events, the bot's
 * answers applied, errors in a row, timeouts and silence handing off with
 * the reason, one POST at a time per conversation, the REST route, and the
 * state dropped when a conversation leaves the bot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <testhost.h>

#include "signature.h"

#define URL "http://bot.test/hook"
#define SECRET "s3cret"
#define TOKEN "tok-0123456789"
#define ROUTE "/api/v1/bots/botgateway/main/conversations/"

/* ---- helpers ------------------------------------------------------------------------ */

static void base_config(sb_th *th)
{
    sb_th_config_set(th, "url", URL);
    sb_th_config_set(th, "secret", SECRET);
    sb_th_config_set(th, "token", TOKEN);
    sb_th_config_set(th, "timeout", "2s");
    sb_th_config_set(th, "silence_timeout", "10s");
    sb_th_config_set(th, "max_errors", "2");
}

static sb_th *started_with(const char *k1, const char *v1)
{
    sb_th *th = sb_th_new("botgateway", "main");
    base_config(th);
    if (k1) sb_th_config_set(th, k1, v1);
    sb_status st = sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR));
    if (st != SB_OK)
        fail_msg("start: %s (%s)", sb_status_text(st),
                 sb_th_config_error(th, 0) ? sb_th_config_error(th, 0) : "no config error");
    return th;
}

static sb_th *started(void)
{
    return started_with(NULL, NULL);
}

static int msg_seq;

/* A client message of conversation `conv`; answers what bot_event did. */
static sb_status client_says(sb_th *th, const char *conv, const char *text, sb_bot_event_kind kind)
{
    char id[32];
    snprintf(id, sizeof id, "m%d", ++msg_seq);
    sb_bot_event ev = {.kind = kind, .conversation_id = conv, .client_id = "7",
                       .channel = "apichannel", .instance = "app", .message_id = id,
                       .text = text, .message_json = "{}"};
    return sb_th_bot_event(th, &ev);
}

static void says(sb_th *th, const char *conv, const char *text)
{
    assert_int_equal(client_says(th, conv, text, SB_BOT_MESSAGE), SB_OK);
}

static const sb_th_bot_action *action(sb_th *th, size_t i)
{
    const sb_th_bot_action *a = sb_th_bot_action_get(th, i);
    if (!a) fail_msg("no bot action %zu (%zu recorded)", i, sb_th_bot_action_count(th));
    return a;
}

/* The last two actions are the forced hand-off: the client told, then the
 * hand-off with a reason containing `why`. */
static void assert_forced_handoff(sb_th *th, const char *conv, const char *why)
{
    size_t n = sb_th_bot_action_count(th);
    assert_true(n >= 2);
    const sb_th_bot_action *told = action(th, n - 2), *h = action(th, n - 1);
    assert_int_equal(told->kind, SB_TH_BOT_REPLY);
    assert_string_equal(told->conversation_id, conv);
    assert_non_null(strstr(told->text, "\xd0\xbe\xd0\xbf\xd0\xb5\xd1\x80\xd0\xb0\xd1\x82\xd0\xbe\xd1\x80")); /* "оператор" */
    assert_int_equal(h->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(h->conversation_id, conv);
    if (!strstr(h->reason, why)) fail_msg("reason \"%s\" does not say \"%s\"", h->reason, why);
    assert_false(sb_th_conversation_held(th, conv));
}

static size_t count_kind(sb_th *th, sb_th_bot_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < sb_th_bot_action_count(th); i++) n += action(th, i)->kind == kind;
    return n;
}

static const char *call_header(const sb_th_http_call *c, const char *name)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (strcasecmp(c->headers[i].name, name) == 0) return c->headers[i].value;
    return NULL;
}

/* ---- config ------------------------------------------------------------------------- */

static void test_config_errors(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("botgateway", "main");
    const sb_plugin *p = sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
    assert_int_equal(p->kind, SB_KIND_BOT);
    assert_int_not_equal(sb_th_start(th, p), SB_OK);
    const char *want[] = {"url: required", "secret: required", "token: required"};
    for (size_t i = 0; i < 3; i++) {
        bool found = false;
        for (size_t k = 0; k < sb_th_config_error_count(th); k++)
            found |= strcmp(sb_th_config_error(th, k), want[i]) == 0;
        if (!found) fail_msg("no config error \"%s\"", want[i]);
    }
    static const struct {
        const char *key, *value, *error;
    } bad[] = {
        {"url", "ftp://bot", "url: expected an http:// or https:// URL"},
        {"timeout", "10m", "timeout: expected a duration from 100ms to 5m"},
        {"silence_timeout", "50ms", "silence_timeout: expected a duration from 100ms to 24h"},
        {"max_errors", "0", "max_errors: expected 1 to 1000"},
        {"max_conversations", "0", "max_conversations: expected 1 to 10000000"},
        {"texts.handoff", "", "texts.handoff: expected a text of 1 to 4096 bytes"},
        {"secret", "", "secret: required"},
        {"colour", "red", "colour: unknown key"},
    };
    sb_th_free(th);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th = sb_th_new("botgateway", "main");
        base_config(th);
        sb_th_config_set(th, bad[i].key, bad[i].value);
        assert_int_not_equal(sb_th_start(th, p), SB_OK);
        bool found = false;
        for (size_t k = 0; k < sb_th_config_error_count(th); k++)
            found |= strcmp(sb_th_config_error(th, k), bad[i].error) == 0;
        if (!found)
            fail_msg("%s=%s: no config error \"%s\" (first: %s)", bad[i].key, bad[i].value,
                     bad[i].error, sb_th_config_error(th, 0));
        sb_th_free(th);
    }
}

static void test_reload_keeps_old_values_on_error(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_config_set(th, "max_errors", "-1");
    assert_int_not_equal(sb_th_reload(th), SB_OK);
    /* Still two errors in a row, as before the bad reload. */
    sb_th_http_expect(th, "POST", URL, 500, NULL);
    sb_th_http_expect(th, "POST", URL, 500, NULL);
    says(th, "c1", "a");
    sb_th_run_pending(th);
    assert_true(sb_th_conversation_held(th, "c1"));
    says(th, "c1", "b");
    sb_th_run_pending(th);
    assert_forced_handoff(th, "c1", "bot error: HTTP 500 \xc3\x97" "2");
    /* A good reload takes effect: one error is enough now. */
    sb_th_config_set(th, "max_errors", "1");
    assert_int_equal(sb_th_reload(th), SB_OK);
    sb_th_http_expect(th, "POST", URL, 503, NULL);
    says(th, "c2", "a");
    sb_th_run_pending(th);
    assert_forced_handoff(th, "c2", "bot error: HTTP 503 \xc3\x97" "1");
    sb_th_free(th);
}

/* ---- events and answers -------------------------------------------------------------- */

static void test_event_is_signed_and_answer_applied(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_conversation_set(th, "c1",
                           "{\"conversation\":{\"id\":\"c1\",\"status\":\"bot\",\"tags\":[]},"
                           "\"client\":{\"id\":\"7\",\"name\":\"Ivan\",\"phone\":\"+7900\"}}");
    sb_th_http_expect(th, "POST", URL, 200,
                      "{\"actions\":[{\"type\":\"reply\",\"text\":\"Hi\",\"buttons\":"
                      "[{\"id\":\"a\",\"title\":\"A\"}]},{\"type\":\"set_attributes\",\"scope\":"
                      "\"client\",\"attributes\":{\"plan\":\"gold\"}},{\"type\":\"add_tag\","
                      "\"tag\":\"greeted\"}]}");
    assert_int_equal(client_says(th, "c1", "hello", SB_BOT_START), SB_OK);
    assert_int_equal(sb_th_http_call_count(th), 1);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->url, URL);
    assert_int_equal(c->timeout_ms, 2000);
    assert_string_equal(call_header(c, "Content-Type"), "application/json");
    char sig[SBP_SIG_LEN + 1];
    sbp_sign(SECRET, c->body, c->body_len, sig);
    assert_string_equal(call_header(c, "X-Switchboard-Signature"), sig);
    json_t *ev = json_loads(c->body, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "event")), "conversation.started");
    assert_string_equal(json_string_value(json_object_get(ev, "bot")), "main");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "client"), "name")),
                        "Ivan");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ev, "message"), "text")), "hello");
    json_decref(ev);

    assert_int_equal(sb_th_bot_action_count(th), 0); /* nothing before the answer */
    sb_th_run_pending(th);
    assert_int_equal(sb_th_bot_action_count(th), 3);
    const sb_th_bot_action *r = action(th, 0);
    assert_int_equal(r->kind, SB_TH_BOT_REPLY);
    assert_string_equal(r->text, "Hi");
    assert_int_equal(r->n_buttons, 1);
    assert_string_equal(r->buttons[0].id, "a");
    assert_int_equal(action(th, 1)->kind, SB_TH_BOT_ATTRIBUTES);
    assert_int_equal(action(th, 1)->scope, SB_SCOPE_CLIENT);
    assert_string_equal(action(th, 1)->json, "{\"plan\":\"gold\"}");
    assert_int_equal(action(th, 2)->kind, SB_TH_BOT_TAG);
    assert_int_equal(action(th, 2)->scope, SB_SCOPE_CONVERSATION);
    assert_string_equal(action(th, 2)->tag, "greeted");
    /* Answered: no silence timer is left running. */
    assert_int_equal(sb_th_timer_count(th), 0);
    assert_int_equal(sb_th_metric(th, "events_total"), 1);
    assert_int_equal(sb_th_metric(th, "actions_total"), 3);

    /* A button press is a "message" with its button_id. */
    sb_th_http_expect(th, "POST", URL, 204, NULL);
    sb_bot_event press = {.kind = SB_BOT_MESSAGE, .conversation_id = "c1", .client_id = "7",
                          .channel = "apichannel", .instance = "app", .message_id = "m-press",
                          .button_id = "a", .message_json = "{}"};
    assert_int_equal(sb_th_bot_event(th, &press), SB_OK);
    ev = json_loads(sb_th_http_call_get(th, 1)->body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(ev, "event")), "message");
    json_t *m = json_object_get(ev, "message");
    assert_string_equal(json_string_value(json_object_get(m, "button_id")), "a");
    assert_true(json_is_null(json_object_get(m, "text")));
    json_decref(ev);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_silent_bot_is_handed_off(void **state)
{
    (void)state;
    sb_th *th = started_with("handoff_group", "support");
    sb_th_http_expect(th, "POST", URL, 204, NULL);
    says(th, "c1", "hello?");
    sb_th_run_pending(th);
    /* set_attributes alone is no answer to the client */
    sb_th_http_expect(th, "POST", URL, 200,
                      "{\"actions\":[{\"type\":\"set_attributes\",\"attributes\":{\"a\":1}}]}");
    sb_th_advance(th, 4000);
    says(th, "c1", "anyone?");
    sb_th_run_pending(th);
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 0);
    /* Counted from the first unanswered message, not the last one. */
    sb_th_advance(th, 5999);
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 0);
    sb_th_advance(th, 1);
    assert_forced_handoff(th, "c1", "bot silent 10s");
    const sb_th_bot_action *h = action(th, sb_th_bot_action_count(th) - 1);
    assert_string_equal(h->group_id, "support");
    assert_null(h->skill);
    assert_string_equal(h->reason, "bot silent 10s");
    assert_int_equal(sb_th_timer_count(th), 0);
    assert_int_equal(sb_th_metric(th, "forced_handoffs_total"), 1);
    assert_true(sb_th_log_find(th, "bot silent 10s") >= 0);
    sb_th_free(th);
}

static void test_silence_names_the_last_error(void **state)
{
    (void)state;
    sb_th *th = started_with("texts.handoff", "One moment, an operator will answer.");
    sb_th_http_expect(th, "POST", URL, 502, NULL);
    says(th, "c1", "hello?");
    sb_th_run_pending(th);
    assert_true(sb_th_conversation_held(th, "c1"));
    sb_th_advance(th, 10000);
    size_t n = sb_th_bot_action_count(th);
    assert_int_equal(n, 2);
    assert_string_equal(action(th, 0)->text, "One moment, an operator will answer.");
    assert_string_equal(action(th, 1)->reason, "bot silent 10s (after 1 error, last: HTTP 502)");
    sb_th_free(th);
}

static void test_errors_in_a_row_hand_off(void **state)
{
    (void)state;
    static const struct {
        const char *first, *second, *why;
    } cases[] = {
        {"{\"actions\": [", "not json", "bot error: malformed JSON: body: not valid JSON"},
        {"{\"actions\":[{\"type\":\"wave\"}]}", "[1]", "bot error: malformed JSON"},
        {"{\"actions\":[{\"type\":\"wave\"}]}", "{\"actions\":[{\"type\":\"wave\"}]}",
         "bot error: invalid actions: actions[0].type: unknown action \"wave\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_th *th = started();
        sb_th_http_expect(th, "POST", URL, 200, cases[i].first);
        sb_th_http_expect(th, "POST", URL, 200, cases[i].second);
        says(th, "c1", "1");
        sb_th_run_pending(th);
        assert_true(sb_th_conversation_held(th, "c1"));
        says(th, "c1", "2");
        sb_th_run_pending(th);
        assert_forced_handoff(th, "c1", cases[i].why);
        assert_non_null(strstr(action(th, 1)->reason, "\xc3\x97" "2"));
        assert_int_equal(sb_th_metric(th, "errors_total"), 2);
        assert_int_equal(sb_th_http_expect_left(th), 0);
        sb_th_free(th);
    }
}

static void test_reason_is_clean_utf8(void **state)
{
    (void)state;
    sb_th *th = started_with("max_errors", "1");
    /* The parser's error quotes the bot's bytes: invalid UTF-8 here. */
    sb_th_http_expect(th, "POST", URL, 200, "\xff\xfe garbage");
    says(th, "c1", "1");
    sb_th_run_pending(th);
    assert_forced_handoff(th, "c1", "bot error: malformed JSON");
    json_t *j = json_string(action(th, 1)->reason);
    if (!j) fail_msg("reason is not valid UTF-8: %s", action(th, 1)->reason);
    json_decref(j);
    sb_th_free(th);
}

static void test_a_good_answer_resets_the_count(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_http_expect(th, "POST", URL, 500, NULL);
    sb_th_http_expect(th, "POST", URL, 200, "{\"actions\":[]}");
    sb_th_http_expect(th, "POST", URL, 500, NULL);
    for (int i = 0; i < 3; i++) {
        says(th, "c1", "x");
        sb_th_run_pending(th);
    }
    assert_true(sb_th_conversation_held(th, "c1"));
    assert_int_equal(sb_th_metric(th, "errors_total"), 2);
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 0);
    sb_th_free(th);
}

static void test_refused_action_counts_as_error(void **state)
{
    (void)state;
    sb_th *th = started_with("max_errors", "1");
    sb_th_http_expect(th, "POST", URL, 200,
                      "{\"actions\":[{\"type\":\"add_tag\",\"tag\":\"a\"},"
                      "{\"type\":\"reply\",\"text\":\"x\"}]}");
    sb_th_fail_next(th, "bot_reply", SB_ERR_TOO_BIG);
    says(th, "c1", "1");
    sb_th_run_pending(th);
    assert_forced_handoff(th, "c1", "bot error: actions[1] (reply) refused: too big");
    sb_th_free(th);
}

static void test_timeout_hands_off_at_once(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_http_expect_error(th, "POST", URL, SB_ERR_TIMEOUT, "Operation timed out");
    says(th, "c1", "1");
    sb_th_run_pending(th);
    assert_forced_handoff(th, "c1", "bot timeout: no answer within 2s");
    assert_int_equal(sb_th_timer_count(th), 0);
    sb_th_free(th);
}

static void test_network_errors_count(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_http_expect_error(th, "POST", URL, SB_ERR_IO, "Connection refused");
    says(th, "c1", "1");
    sb_th_run_pending(th);
    assert_true(sb_th_conversation_held(th, "c1"));
    sb_th_fail_next(th, "http_call", SB_ERR_IO);
    says(th, "c1", "2"); /* the call does not even start */
    assert_forced_handoff(th, "c1", "bot error: could not start the request \xc3\x97" "2");
    assert_true(sb_th_log_find(th, "Connection refused") >= 0);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_one_post_at_a_time(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_http_expect(th, "POST", URL, 200, "{\"actions\":[{\"type\":\"reply\",\"text\":\"1\"}]}");
    sb_th_http_expect(th, "POST", URL, 204, NULL);
    says(th, "c1", "first");
    says(th, "c1", "second");
    says(th, "c2", "other"); /* another conversation does not wait */
    assert_int_equal(sb_th_http_call_count(th), 2);
    assert_non_null(strstr(sb_th_http_call_get(th, 1)->body, "\"other\""));
    sb_th_http_expect(th, "POST", URL, 204, NULL);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), 3);
    assert_non_null(strstr(sb_th_http_call_get(th, 2)->body, "\"second\""));
    sb_th_run_pending(th);
    assert_int_equal(sb_th_bot_action_count(th), 1);
    assert_string_equal(action(th, 0)->text, "1");
    /* "second" and "other" are still unanswered: the bot's silence on
     * them is timed, c1's afresh from the reply to "first". */
    assert_int_equal(sb_th_timer_count(th), 2);
    sb_th_advance(th, 10000);
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 2);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_backlog_is_bounded(void **state)
{
    (void)state;
    sb_th *th = started();
    says(th, "c1", "in flight");
    for (int i = 0; i < 16; i++) says(th, "c1", "queued");
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 0);
    says(th, "c1", "one too many");
    assert_forced_handoff(th, "c1", "bot backlog: 16 client messages waiting");
    assert_int_equal(sb_th_http_call_count(th), 1);
    assert_int_equal(sb_th_http_call_get(th, 0)->status, SB_ERR_CANCELLED);
    sb_th_free(th);
}

static void test_max_conversations(void **state)
{
    (void)state;
    sb_th *th = started_with("max_conversations", "1");
    says(th, "c1", "hi");
    says(th, "c2", "hi");
    assert_forced_handoff(th, "c2", "bot gateway busy");
    assert_true(sb_th_conversation_held(th, "c1"));
    assert_int_equal(sb_th_http_call_count(th), 1);
    sb_th_free(th);
}

static void test_bot_hands_off_or_closes(void **state)
{
    (void)state;
    sb_th *th = started_with("handoff_group", "support");
    sb_th_http_expect(th, "POST", URL, 200,
                      "{\"actions\":[{\"type\":\"reply\",\"text\":\"bye\"},{\"type\":\"handoff\","
                      "\"group\":\"sales\",\"skill\":\"english\",\"skill_level\":4,\"reason\":"
                      "\"wants a human\"}]}");
    sb_th_http_expect(th, "POST", URL, 200, "{\"actions\":[{\"type\":\"handoff\"}]}");
    sb_th_http_expect(th, "POST", URL, 200, "{\"actions\":[{\"type\":\"close\",\"ask_rating\":true}]}");
    says(th, "c1", "human please");
    says(th, "c2", "human please");
    says(th, "c3", "bye");
    sb_th_run_pending(th);
    assert_int_equal(sb_th_bot_action_count(th), 4);
    const sb_th_bot_action *h = action(th, 1);
    assert_int_equal(h->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(h->group_id, "sales");
    assert_string_equal(h->skill, "english");
    assert_int_equal(h->skill_level, 4);
    assert_string_equal(h->reason, "wants a human");
    h = action(th, 2);
    assert_string_equal(h->group_id, "support"); /* handoff_group by default */
    assert_string_equal(h->reason, "handed off by the bot");
    assert_int_equal(action(th, 3)->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(action(th, 3)->ask_rating, 1);
    assert_int_equal(sb_th_timer_count(th), 0);
    assert_int_equal(sb_th_metric(th, "forced_handoffs_total"), 0);
    sb_th_free(th);
}

static void test_leaving_the_bot_drops_the_state(void **state)
{
    (void)state;
    sb_th *th = started();
    says(th, "c1", "hi");
    says(th, "c2", "hi");
    assert_int_equal(sb_th_timer_count(th), 2);
    /* Not a status change: nothing happens. */
    sb_th_emit_event(th, "conversation.updated", "{\"conversation\":{\"id\":\"c1\",\"status\":\"bot\"}}");
    sb_th_emit_event(th, "conversation.closed", "not json");
    assert_int_equal(sb_th_timer_count(th), 2);
    sb_th_emit_event(th, "conversation.assigned",
                     "{\"type\":\"conversation.assigned\",\"conversation\":{\"id\":\"c1\","
                     "\"status\":\"assigned\"}}");
    assert_int_equal(sb_th_timer_count(th), 1);
    assert_int_equal(sb_th_http_call_get(th, 0)->status, SB_ERR_CANCELLED);
    assert_int_equal(sb_th_http_call_get(th, 1)->completed, 0);
    sb_th_advance(th, 10000); /* only c2 is handed off */
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 1);
    assert_string_equal(action(th, 1)->conversation_id, "c2");
    sb_th_free(th);
}

static void test_no_timer_no_bot(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_fail_next(th, "timer_start", SB_ERR_FULL);
    /* Without the silence timer nobody would notice a silent bot: the core
     * hands off instead. */
    assert_int_not_equal(client_says(th, "c1", "hi", SB_BOT_START), SB_OK);
    assert_int_equal(sb_th_http_call_count(th), 0);
    assert_false(sb_th_conversation_held(th, "c1"));
    sb_th_free(th);
}

static void test_stop_cancels_everything(void **state)
{
    (void)state;
    sb_th *th = started();
    says(th, "c1", "hi");
    says(th, "c1", "queued");
    sb_th_stop(th);
    assert_int_equal(sb_th_http_call_get(th, 0)->status, SB_ERR_CANCELLED);
    assert_int_equal(sb_th_timer_count(th), 0);
    assert_int_equal(sb_th_bot_action_count(th), 0);
    sb_th_free(th);
}

/* ---- the REST route ---------------------------------------------------------------- */

static const sb_th_reply *act(sb_th *th, const char *conv, const char *auth, const char *body)
{
    char target[200];
    snprintf(target, sizeof target, ROUTE "%s/actions", conv);
    sb_header h[2] = {{"Content-Type", "application/json"}, {"Authorization", auth}};
    return sb_th_http_request(th, "POST", target, h, auth ? 2 : 1, body, body ? strlen(body) : 0);
}

static void assert_error(const sb_th_reply *r, int status, const char *needle)
{
    assert_true(r->replied);
    if (r->status != status) fail_msg("HTTP %d, want %d: %s", r->status, status, r->body);
    json_t *j = json_loads(r->body, 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (!msg || !strstr(msg, needle)) fail_msg("error \"%s\" does not say \"%s\"", r->body, needle);
    json_decref(j);
}

static void test_rest_actions(void **state)
{
    (void)state;
    sb_th *th = started();
    const char *bot = "{\"conversation\":{\"id\":\"42\",\"status\":\"bot\"},\"client\":{\"id\":\"7\"}}";
    sb_th_conversation_set(th, "42", bot);
    sb_th_conversation_set(th, "43", "{\"conversation\":{\"id\":\"43\",\"status\":\"queued\"},"
                                     "\"client\":{\"id\":\"7\"}}");
    sb_th_http_expect(th, "POST", URL, 204, NULL);
    says(th, "42", "hi");
    sb_th_run_pending(th);
    assert_int_equal(sb_th_timer_count(th), 1); /* waiting for the bot */

    const char *reply = "{\"actions\":[{\"type\":\"reply\",\"text\":\"later\"},"
                        "{\"type\":\"add_tag\",\"scope\":\"client\",\"tag\":\"t\"}]}";
    assert_error(act(th, "42", NULL, reply), 401, "Authorization");
    assert_error(act(th, "42", "Bearer wrong", reply), 401, "Authorization");
    assert_error(act(th, "42", "Bearer " TOKEN "0", reply), 401, "Authorization");
    assert_error(act(th, "42", "Basic " TOKEN, reply), 401, "Authorization");
    assert_error(act(th, "42/x", "Bearer " TOKEN, reply), 404, "actions");
    assert_error(act(th, "4%2", "Bearer " TOKEN, reply), 404, "actions");
    assert_error(act(th, "42", "Bearer " TOKEN, "{\"actions\":[{\"type\":\"reply\"}]}"), 400,
                 "actions[0].text");
    assert_error(act(th, "42", "Bearer " TOKEN, "{oops"), 400, "body: not valid JSON");
    assert_error(act(th, "99", "Bearer " TOKEN, reply), 404, "99");
    assert_error(act(th, "43", "Bearer " TOKEN, reply), 409, "queued");
    assert_int_equal(sb_th_bot_action_count(th), 0);

    const sb_th_reply *r = act(th, "42", "Bearer " TOKEN, reply);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(r->body, "{\"conversation_id\":\"42\",\"results\":[{\"type\":\"reply\","
                                 "\"status\":\"ok\"},{\"type\":\"add_tag\",\"status\":\"ok\"}]}");
    assert_int_equal(sb_th_bot_action_count(th), 2);
    assert_string_equal(action(th, 0)->text, "later");
    /* The reply answered the client: no hand-off for silence any more. */
    assert_int_equal(sb_th_timer_count(th), 0);
    sb_th_advance(th, 60000);
    assert_int_equal(count_kind(th, SB_TH_BOT_HANDOFF), 0);

    /* A refusal after the first action: 200, with what happened to each. */
    sb_th_fail_next(th, "bot_add_tag", SB_ERR_TOO_BIG);
    r = act(th, "42", "Bearer " TOKEN,
            "{\"actions\":[{\"type\":\"reply\",\"text\":\"a\"},{\"type\":\"add_tag\",\"tag\":\"t\"},"
            "{\"type\":\"close\"}]}");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"conversation_id\":\"42\",\"results\":[{\"type\":\"reply\","
                                 "\"status\":\"ok\"},{\"type\":\"add_tag\",\"status\":\"error\","
                                 "\"error\":\"too big\"},{\"type\":\"close\",\"status\":\"skipped\"}]}");
    /* Another bot or an operator holds it now: 409, nothing stored. */
    sb_th_conversation_release(th, "42");
    size_t before = sb_th_bot_action_count(th);
    assert_error(act(th, "42", "Bearer " TOKEN, reply), 409, "not held by this bot");
    assert_int_equal(sb_th_bot_action_count(th), before);
    sb_th_free(th);
}

static void test_rest_close_drops_the_state(void **state)
{
    (void)state;
    sb_th *th = started();
    sb_th_conversation_set(th, "42", "{\"conversation\":{\"id\":\"42\",\"status\":\"bot\"}}");
    says(th, "42", "hi"); /* POST in flight */
    const sb_th_reply *r = act(th, "42", "Bearer " TOKEN, "{\"actions\":[{\"type\":\"close\"}]}");
    assert_int_equal(r->status, 200);
    assert_int_equal(sb_th_http_call_get(th, 0)->status, SB_ERR_CANCELLED);
    assert_int_equal(sb_th_timer_count(th), 0);
    assert_false(sb_th_conversation_held(th, "42"));
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_reload_keeps_old_values_on_error),
        cmocka_unit_test(test_event_is_signed_and_answer_applied),
        cmocka_unit_test(test_silent_bot_is_handed_off),
        cmocka_unit_test(test_silence_names_the_last_error),
        cmocka_unit_test(test_errors_in_a_row_hand_off),
        cmocka_unit_test(test_a_good_answer_resets_the_count),
        cmocka_unit_test(test_reason_is_clean_utf8),
        cmocka_unit_test(test_refused_action_counts_as_error),
        cmocka_unit_test(test_timeout_hands_off_at_once),
        cmocka_unit_test(test_network_errors_count),
        cmocka_unit_test(test_one_post_at_a_time),
        cmocka_unit_test(test_backlog_is_bounded),
        cmocka_unit_test(test_max_conversations),
        cmocka_unit_test(test_bot_hands_off_or_closes),
        cmocka_unit_test(test_leaving_the_bot_drops_the_state),
        cmocka_unit_test(test_no_timer_no_bot),
        cmocka_unit_test(test_stop_cancels_everything),
        cmocka_unit_test(test_rest_actions),
        cmocka_unit_test(test_rest_close_drops_the_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
