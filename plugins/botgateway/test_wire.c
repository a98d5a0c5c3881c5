/* The bot gateway's wire format and secrets, without the host: every action
 * shape it takes, every refusal with the field it names, the event JSON,
 * the HMAC against a published vector and the bearer check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signature.h"
#include "wire.h"

/* ---- actions accepted ----------------------------------------------------------- */

static void parse_ok(const char *body, bg_actions *a)
{
    char err[300] = "x";
    bg_parse_result r = bg_actions_parse(body, strlen(body), a, err, sizeof err);
    if (r != BG_PARSE_OK) fail_msg("refused %s: %s", body, err);
    assert_string_equal(err, "");
}

static void test_nothing_now(void **state)
{
    (void)state;
    const char *bodies[] = {"", "  \r\n\t", "{}", "{\"actions\":[]}", "{\"actions\":null}",
                            "{\"ok\":true}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        bg_actions a;
        parse_ok(bodies[i], &a);
        assert_int_equal(a.n, 0);
        assert_false(bg_actions_reply(&a));
        bg_actions_free(&a);
    }
    bg_actions a;
    assert_int_equal(bg_actions_parse(NULL, 0, &a, NULL, 0), BG_PARSE_OK);
    assert_int_equal(a.n, 0);
}

static void test_every_action(void **state)
{
    (void)state;
    bg_actions a;
    parse_ok("{\"actions\":["
             "{\"type\":\"reply\",\"text\":\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\","
             "\"buttons\":[{\"id\":\"a\",\"title\":\"A\"},{\"id\":\"b\",\"title\":\"B\"}]},"
             "{\"type\":\"reply\",\"buttons\":[{\"id\":\"only\",\"title\":\"Only\"}]},"
             "{\"type\":\"set_attributes\",\"scope\":\"client\",\"attributes\":"
             "{\"plan\":\"gold\",\"n\":3,\"ok\":false,\"gone\":null}},"
             "{\"type\":\"set_attributes\",\"attributes\":{\"x\":1.5}},"
             "{\"type\":\"add_tag\",\"scope\":\"client\",\"tag\":\"vip\"},"
             "{\"type\":\"add_tag\",\"tag\":\"t\"},"
             "{\"type\":\"handoff\",\"group\":\"sales\",\"skill\":\"english\",\"skill_level\":3,"
             "\"reason\":\"asked for a human\"}]}",
             &a);
    assert_int_equal(a.n, 7);
    assert_true(bg_actions_reply(&a));
    assert_int_equal(a.v[0].type, BG_REPLY);
    assert_string_equal(a.v[0].text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
    assert_int_equal(a.v[0].n_buttons, 2);
    assert_string_equal(a.v[0].buttons[1].id, "b");
    assert_string_equal(a.v[0].buttons[1].title, "B");
    assert_null(a.v[1].text);
    assert_int_equal(a.v[1].n_buttons, 1);
    assert_int_equal(a.v[2].type, BG_SET_ATTRIBUTES);
    assert_int_equal(a.v[2].scope, SB_SCOPE_CLIENT);
    assert_int_equal(json_object_size(a.v[2].attributes), 4);
    assert_int_equal(a.v[3].scope, SB_SCOPE_CONVERSATION); /* the default */
    assert_int_equal(a.v[4].type, BG_ADD_TAG);
    assert_int_equal(a.v[4].scope, SB_SCOPE_CLIENT);
    assert_string_equal(a.v[4].tag, "vip");
    assert_int_equal(a.v[5].scope, SB_SCOPE_CONVERSATION);
    assert_int_equal(a.v[6].type, BG_HANDOFF);
    assert_string_equal(a.v[6].group, "sales");
    assert_string_equal(a.v[6].skill, "english");
    assert_int_equal(a.v[6].skill_level, 3);
    assert_string_equal(a.v[6].reason, "asked for a human");
    assert_string_equal(bg_action_name(a.v[6].type), "handoff");
    bg_actions_free(&a);

    parse_ok("{\"actions\":[{\"type\":\"handoff\"}]}", &a);
    assert_null(a.v[0].group);
    assert_null(a.v[0].skill);
    assert_null(a.v[0].reason);
    assert_int_equal(a.v[0].skill_level, 1);
    bg_actions_free(&a);
    parse_ok("{\"actions\":[{\"type\":\"close\",\"ask_rating\":true}]}", &a);
    assert_int_equal(a.v[0].type, BG_CLOSE);
    assert_int_equal(a.v[0].ask_rating, 1);
    bg_actions_free(&a);
    parse_ok("{\"actions\":[{\"type\":\"close\"}]}", &a);
    assert_int_equal(a.v[0].ask_rating, 0);
    bg_actions_free(&a);
}

/* ---- actions refused ------------------------------------------------------------ */

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void refused(const char *body, bg_parse_result want, const char *needle)
{
    char err[300] = "";
    bg_actions a = {.n = 99};
    bg_parse_result r = bg_actions_parse(body, strlen(body), &a, err, sizeof err);
    if (r != want) fail_msg("%.200s: got %d (%s), want %d", body, r, err, want);
    if (!strstr(err, needle)) fail_msg("%.200s: error \"%s\" does not name \"%s\"", body, err, needle);
    assert_null(a.root);
    assert_int_equal(a.n, 0);
}

static void test_malformed(void **state)
{
    (void)state;
    refused("{\"actions\": [", BG_PARSE_MALFORMED, "body: not valid JSON");
    refused("not json", BG_PARSE_MALFORMED, "body: not valid JSON");
    refused("[]", BG_PARSE_MALFORMED, "body: expected a JSON object");
    refused("\"reply\"", BG_PARSE_MALFORMED, "body: not valid JSON");
    refused("{\"actions\":[{\"type\":\"reply\",\"text\":\"a\\u0000b\"}]}", BG_PARSE_MALFORMED,
            "body: not valid JSON");
    refused("{\"actions\":[],\"actions\":[]}", BG_PARSE_MALFORMED, "duplicate");
}

static void test_invalid_names_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *body, *needle;
    } cases[] = {
        {"{\"actions\":{}}", "actions: expected an array"},
        {"{\"actions\":[1]}", "actions[0]: expected an object"},
        {"{\"actions\":[{}]}", "actions[0].type: required"},
        {"{\"actions\":[{\"type\":5}]}", "actions[0].type: expected a string"},
        {"{\"actions\":[{\"type\":\"wave\"}]}", "actions[0].type: unknown action \"wave\""},
        {"{\"actions\":[{\"type\":\"reply\"}]}", "actions[0].text: required when there are no buttons"},
        {"{\"actions\":[{\"type\":\"reply\",\"text\":\"\"}]}", "actions[0].text: expected a string of 1"},
        {"{\"actions\":[{\"type\":\"reply\",\"text\":\"x\",\"markup\":1}]}",
         "actions[0].markup: unknown field"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":{}}]}", "actions[0].buttons: expected an array"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[\"a\"]}]}",
         "actions[0].buttons[0]: expected an object"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[{\"id\":\"a\",\"title\":\"A\"},{\"id\":\"b\"}]}]}",
         "actions[0].buttons[1].title: required"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[{\"id\":\"\",\"title\":\"A\"}]}]}",
         "actions[0].buttons[0].id: expected a string of 1 to 256 bytes"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[{\"id\":\"a\",\"title\":\"A\",\"url\":\"u\"}]}]}",
         "actions[0].buttons[0].url: unknown field"},
        {"{\"actions\":[{\"type\":\"set_attributes\"}]}", "actions[0].attributes: expected an object"},
        {"{\"actions\":[{\"type\":\"set_attributes\",\"attributes\":{}}]}",
         "actions[0].attributes: expected an object of 1 to 64 keys"},
        {"{\"actions\":[{\"type\":\"set_attributes\",\"attributes\":{\"x\":{}}}]}",
         "actions[0].attributes.x: expected a string"},
        {"{\"actions\":[{\"type\":\"set_attributes\",\"attributes\":{\"x\":[1]}}]}",
         "actions[0].attributes.x"},
        {"{\"actions\":[{\"type\":\"set_attributes\",\"attributes\":{\"\":1}}]}",
         "actions[0].attributes: keys must be 1 to 64 bytes"},
        {"{\"actions\":[{\"type\":\"set_attributes\",\"scope\":\"world\",\"attributes\":{\"a\":1}}]}",
         "actions[0].scope: expected \"client\" or \"conversation\""},
        {"{\"actions\":[{\"type\":\"add_tag\"}]}", "actions[0].tag: required"},
        {"{\"actions\":[{\"type\":\"add_tag\",\"tag\":7}]}", "actions[0].tag: expected a string"},
        {"{\"actions\":[{\"type\":\"handoff\",\"skill_level\":3}]}", "actions[0].skill_level"},
        {"{\"actions\":[{\"type\":\"handoff\",\"skill\":\"en\",\"skill_level\":11}]}",
         "actions[0].skill_level: expected an integer 0 to 10"},
        {"{\"actions\":[{\"type\":\"handoff\",\"group\":\"\"}]}", "actions[0].group"},
        {"{\"actions\":[{\"type\":\"close\",\"ask_rating\":\"yes\"}]}",
         "actions[0].ask_rating: expected true or false"},
        {"{\"actions\":[{\"type\":\"handoff\"},{\"type\":\"reply\",\"text\":\"x\"}]}",
         "actions[1]: nothing may follow a handoff"},
        {"{\"actions\":[{\"type\":\"close\"},{\"type\":\"close\"}]}", "actions[1]: nothing may follow a close"},
        {"{\"actions\":[{\"type\":\"reply\",\"text\":\"ok\"},{\"type\":\"nope\"}]}", "actions[1].type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(cases[i].body, BG_PARSE_INVALID, cases[i].needle);
}

static void test_limits(void **state)
{
    (void)state;
    char body[16384];
    /* 21 actions */
    size_t n = (size_t)snprintf(body, sizeof body, "{\"actions\":[");
    for (int i = 0; i < BG_MAX_ACTIONS + 1; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"type\":\"add_tag\",\"tag\":\"t\"}",
                              i ? "," : "");
    snprintf(body + n, sizeof body - n, "]}");
    refused(body, BG_PARSE_INVALID, "actions: expected an array of at most 20 actions");
    /* 21 buttons; 20 are fine */
    for (int count = BG_MAX_BUTTONS; count <= BG_MAX_BUTTONS + 1; count++) {
        n = (size_t)snprintf(body, sizeof body, "{\"actions\":[{\"type\":\"reply\",\"buttons\":[");
        for (int i = 0; i < count; i++)
            n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"id\":\"b%d\",\"title\":\"B\"}",
                                  i ? "," : "", i);
        snprintf(body + n, sizeof body - n, "]}]}");
        if (count == BG_MAX_BUTTONS) {
            bg_actions a;
            parse_ok(body, &a);
            assert_int_equal(a.v[0].n_buttons, BG_MAX_BUTTONS);
            bg_actions_free(&a);
        } else {
            refused(body, BG_PARSE_INVALID, "actions[0].buttons: expected an array of at most 20");
        }
    }
    /* text at and over 4096 bytes, button id over 256, tag over 64, reason over 512 */
    struct {
        const char *fmt;
        size_t len;
        bool ok;
        const char *needle;
    } sized[] = {
        {"{\"actions\":[{\"type\":\"reply\",\"text\":\"%s\"}]}", BG_MAX_TEXT, true, ""},
        {"{\"actions\":[{\"type\":\"reply\",\"text\":\"%s\"}]}", BG_MAX_TEXT + 1, false, "actions[0].text"},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[{\"id\":\"%s\",\"title\":\"t\"}]}]}",
         BG_MAX_BUTTON_ID, true, ""},
        {"{\"actions\":[{\"type\":\"reply\",\"buttons\":[{\"id\":\"%s\",\"title\":\"t\"}]}]}",
         BG_MAX_BUTTON_ID + 1, false, "actions[0].buttons[0].id"},
        {"{\"actions\":[{\"type\":\"add_tag\",\"tag\":\"%s\"}]}", BG_MAX_TAG, true, ""},
        {"{\"actions\":[{\"type\":\"add_tag\",\"tag\":\"%s\"}]}", BG_MAX_TAG + 1, false, "actions[0].tag"},
        {"{\"actions\":[{\"type\":\"handoff\",\"reason\":\"%s\"}]}", BG_MAX_REASON, true, ""},
        {"{\"actions\":[{\"type\":\"handoff\",\"reason\":\"%s\"}]}", BG_MAX_REASON + 1, false,
         "actions[0].reason"},
    };
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        char *fill = repeat('x', sized[i].len);
        snprintf(body, sizeof body, sized[i].fmt, fill);
        free(fill);
        if (sized[i].ok) {
            bg_actions a;
            parse_ok(body, &a);
            assert_int_equal(a.n, 1);
            bg_actions_free(&a);
        } else {
            refused(body, BG_PARSE_INVALID, sized[i].needle);
        }
    }
}

/* ---- the event ------------------------------------------------------------------- */

static json_t *event(const bg_event_in *in)
{
    char *s = bg_event_json(in);
    assert_non_null(s);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, s);
    free(s);
    return j;
}

static void test_event_with_snapshot(void **state)
{
    (void)state;
    sb_bot_event ev = {.struct_size = sizeof ev, .kind = SB_BOT_START, .conversation_id = "17",
                       .client_id = "5", .channel = "telegram", .instance = "support",
                       .message_id = "99", .text = "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
                       .message_json = "{\"id\":\"99\",\"attachments\":[{\"kind\":\"image\","
                                       "\"url\":\"https://x/y.jpg\"}]}"};
    bg_event_in in = {.ev = &ev, .bot_instance = "main",
                      .snapshot = "{\"conversation\":{\"id\":\"17\",\"status\":\"bot\","
                                  "\"attributes\":{\"a\":1}},\"client\":{\"id\":\"5\","
                                  "\"name\":\"Ivan\",\"phone\":\"+79001234567\"}}",
                      .now_ms = 1767225600123};
    json_t *j = event(&in);
    assert_string_equal(json_string_value(json_object_get(j, "event")), "conversation.started");
    assert_string_equal(json_string_value(json_object_get(j, "bot")), "main");
    assert_string_equal(json_string_value(json_object_get(j, "conversation_id")), "17");
    json_t *ch = json_object_get(j, "channel");
    assert_string_equal(json_string_value(json_object_get(ch, "name")), "telegram");
    assert_string_equal(json_string_value(json_object_get(ch, "instance")), "support");
    json_t *cl = json_object_get(j, "client");
    assert_string_equal(json_string_value(json_object_get(cl, "name")), "Ivan");
    assert_string_equal(json_string_value(json_object_get(cl, "phone")), "+79001234567");
    json_t *cv = json_object_get(j, "conversation");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cv, "attributes"), "a")), 1);
    json_t *m = json_object_get(j, "message");
    assert_string_equal(json_string_value(json_object_get(m, "id")), "99");
    assert_string_equal(json_string_value(json_object_get(m, "text")), ev.text);
    assert_true(json_is_null(json_object_get(m, "button_id")));
    json_t *att = json_object_get(m, "attachments");
    assert_int_equal(json_array_size(att), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(att, 0), "kind")), "image");
    assert_string_equal(json_string_value(json_object_get(j, "sent_at")), "2026-01-01T00:00:00.123Z");
    json_decref(j);
}

static void test_event_without_snapshot(void **state)
{
    (void)state;
    sb_bot_event ev = {.struct_size = sizeof ev, .kind = SB_BOT_MESSAGE, .conversation_id = "17",
                       .client_id = "5", .channel = "apichannel", .instance = "app",
                       .message_id = "100", .button_id = "yes", .message_json = "{\"id\":\"100\"}"};
    bg_event_in in = {.ev = &ev, .bot_instance = "b", .snapshot = NULL, .now_ms = 0};
    json_t *j = event(&in);
    assert_string_equal(json_string_value(json_object_get(j, "event")), "message");
    json_t *cl = json_object_get(j, "client");
    assert_int_equal(json_object_size(cl), 1);
    assert_string_equal(json_string_value(json_object_get(cl, "id")), "5");
    assert_null(json_object_get(j, "conversation"));
    json_t *m = json_object_get(j, "message");
    assert_true(json_is_null(json_object_get(m, "text")));
    assert_string_equal(json_string_value(json_object_get(m, "button_id")), "yes");
    assert_null(json_object_get(m, "attachments"));
    json_decref(j);
    /* A snapshot that is not JSON is as good as none. */
    in.snapshot = "{broken";
    j = event(&in);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "client"), "id")), "5");
    json_decref(j);
}

/* ---- secrets ---------------------------------------------------------------------- */

static void test_signature_vector(void **state)
{
    (void)state;
    char sig[SBP_SIG_LEN + 1];
    const char *msg = "The quick brown fox jumps over the lazy dog";
    sbp_sign("key", msg, strlen(msg), sig);
    /* The RFC-style example value published for HMAC-SHA256. */
    assert_string_equal(sig,
                        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    sbp_sign("", "", 0, sig);
    assert_string_equal(sig,
                        "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_bearer(void **state)
{
    (void)state;
    const char *tok = "bot-token-0123456789";
    assert_true(sbp_bearer_ok(tok, "Bearer bot-token-0123456789"));
    assert_true(sbp_bearer_ok(tok, "bearer bot-token-0123456789"));
    assert_false(sbp_bearer_ok(tok, "Bearer bot-token-012345678"));
    assert_false(sbp_bearer_ok(tok, "Bearer bot-token-01234567890"));
    assert_false(sbp_bearer_ok(tok, "Bearer Bot-token-0123456789"));
    assert_false(sbp_bearer_ok(tok, "Basic bot-token-0123456789"));
    assert_false(sbp_bearer_ok(tok, "bot-token-0123456789"));
    assert_false(sbp_bearer_ok(tok, "Bearer "));
    assert_false(sbp_bearer_ok(tok, ""));
    assert_false(sbp_bearer_ok(tok, NULL));
    /* An instance without a token lets nobody in, not even an empty one. */
    assert_false(sbp_bearer_ok("", "Bearer "));
}

static void test_text_clean(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"\xd0\x9f\xd1\x80\xd0\xb8 \xe2\x82\xac \xf0\x9f\x98\x80", "\xd0\x9f\xd1\x80\xd0\xb8 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"a\xff" "b\xfe", "a?b?"},
        {"cut \xd0", "cut ?"},             /* a sequence cut short */
        {"cut \xe2\x82", "cut ??"},
        {"\xc0\xaf", "??"},                /* overlong '/' */
        {"\xed\xa0\x80", "???"},          /* a surrogate */
        {"\xf4\x90\x80\x80", "????"},    /* above U+10FFFF */
        {"line\nbreak\ttab\x7f", "line break tab "},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        bg_text_clean(buf);
        assert_string_equal(buf, cases[i].out);
        json_t *j = json_string(buf); /* what the core's JSON needs */
        assert_non_null(j);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_now),
        cmocka_unit_test(test_every_action),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_invalid_names_the_field),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_event_with_snapshot),
        cmocka_unit_test(test_event_without_snapshot),
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_text_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
