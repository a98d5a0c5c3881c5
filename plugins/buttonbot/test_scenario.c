/* Scenario parsing and validation: every error names source:line:col;
 * templates, extraction paths, validators and menu picks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bb.h"

/* Parses text; returns the joined errors (caller frees) or NULL when valid. */
static char *errors_of(const char *text)
{
    bb_errors err = {0};
    bb_scenario *sc = bb_scenario_parse("t.yaml", text, strlen(text), &err);
    char *msg = sc ? NULL : bb_errors_join(&err);
    if (sc) assert_int_equal(err.n, 0);
    else assert_true(err.n > 0);
    bb_scenario_unref(sc);
    bb_errors_free(&err);
    return msg;
}

#define EXPECT_ERROR(text, needle)                                             \
    do {                                                                       \
        char *m_ = errors_of(text);                                            \
        assert_non_null(m_);                                                   \
        if (!strstr(m_, needle)) fail_msg("want \"%s\" in \"%s\"", needle, m_); \
        free(m_);                                                              \
    } while (0)

static const char *k_ok =
    "start: main\n"
    "steps:\n"
    "  main:\n"
    "    kind: menu\n"
    "    text: Привет\n"
    "    buttons:\n"
    "      - { title: Телефон, goto: ask }\n"
    "      - { title: Пока, goto: bye }\n"
    "  ask:\n"
    "    kind: ask\n"
    "    text: Номер?\n"
    "    into: client.phone\n"
    "    validate: phone\n"
    "    next: bye\n"
    "  bye: { kind: end, text: Пока }\n";

static void test_valid(void **st)
{
    (void)st;
    bb_errors err = {0};
    bb_scenario *sc = bb_scenario_parse("t.yaml", k_ok, strlen(k_ok), &err);
    assert_non_null(sc);
    assert_int_equal(sc->n_steps, 3);
    assert_int_equal(sc->start.ix, 0);
    assert_int_equal(sc->steps[0].kind, BB_MENU);
    assert_int_equal(sc->steps[0].n_buttons, 2);
    assert_int_equal(sc->steps[0].buttons[0].go.ix, 1);
    assert_int_equal(sc->steps[1].validate, BB_V_PHONE);
    assert_int_equal(sc->steps[1].line, 9);
    assert_true(sc->steps[2].rating);
    bb_scenario_unref(sc);
}

static void test_json_is_accepted(void **st)
{
    (void)st;
    char *m = errors_of("{\"start\":\"a\",\"steps\":{\"a\":{\"kind\":\"end\"}}}");
    assert_null(m);
}

static void test_errors_name_the_place(void **st)
{
    (void)st;
    /* unknown step id, at the goto's value */
    EXPECT_ERROR("start: a\nsteps:\n  a:\n    kind: menu\n    text: x\n    buttons:\n"
                 "      - { title: y, goto: nowhere }\n",
                 "t.yaml:7:27: steps.a.buttons[0].goto: unknown step \"nowhere\"");
    EXPECT_ERROR("start: b\nsteps:\n  a: { kind: end }\n", "t.yaml:1:8: start: unknown step \"b\"");
    /* empty menu */
    EXPECT_ERROR("start: a\nsteps:\n  a:\n    kind: menu\n    text: x\n    buttons: []\n",
                 "t.yaml:4:5: steps.a: empty menu");
    /* unknown key, and a key of another kind */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end, txet: x }\n",
                 "t.yaml:3:19: steps.a.txet: unknown key");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end, url: x }\n",
                 "steps.a.url: not a key of a end step");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end }\nextra: 1\n", "t.yaml:4:1: extra: unknown key");
    /* bad validators */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: ask, text: q, into: client.x, validate: iban, next: b }\n"
                 "  b: { kind: end }\n",
                 "t.yaml:3:54: steps.a.validate: unknown validator \"iban\"");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: ask, text: q, into: client.x, validate: regex, "
                 "pattern: \"[a-\", next: b }\n  b: { kind: end }\n",
                 "steps.a.pattern: bad regular expression");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: ask, text: q, into: client.x, validate: regex, next: b }\n"
                 "  b: { kind: end }\n", "steps.a: pattern: required");
    char big[600];
    snprintf(big, sizeof big, "start: a\nsteps:\n  a: { kind: ask, text: q, into: client.x, "
             "validate: regex, pattern: \"%0300d\", next: b }\n  b: { kind: end }\n", 0);
    EXPECT_ERROR(big, "steps.a.pattern: longer than 256 bytes");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: ask, text: q, into: phone, next: b }\n  b: { kind: end }\n",
                 "steps.a.into: expected client.NAME or conversation.NAME");
    /* kinds and required keys */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: dance }\n", "t.yaml:3:14: steps.a: unknown kind \"dance\"");
    EXPECT_ERROR("start: a\nsteps:\n  a: { text: x }\n", "steps.a: kind: required");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: message, text: x }\n", "steps.a: next: required");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end }\n  a: { kind: end }\n",
                 "t.yaml:4:3: steps: duplicate step id \"a\"");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end, text: x, text: y }\n", "steps.a.text: duplicate key");
    EXPECT_ERROR("start: a\nstart: a\nsteps:\n  a: { kind: end }\n", "t.yaml:2:1: start: duplicate key");
    EXPECT_ERROR("start: a\noperator: { title: x, title: y }\nsteps:\n  a: { kind: end }\n",
                 "operator.title: duplicate key");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: end, text: \"{{client.}}\" }\n", "bad placeholder");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: api, url: \"http://x\", next: a, extract: "
                 "{ conversation.s: \"data..x\" } }\n", "bad path \"data..x\"");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: api, url: \"ftp://x\", next: b }\n  b: { kind: end }\n",
                 "steps.a.url: expected an http:// or https:// URL");
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: api, url: \"http://x\", timeout: 2h, next: b }\n"
                 "  b: { kind: end }\n", "steps.a.timeout: expected a duration");
    /* not YAML at all */
    EXPECT_ERROR("start: [a\n", "t.yaml:2:1: not valid YAML");
    EXPECT_ERROR("", "empty document");
}

static void test_cycles(void **st)
{
    (void)st;
    /* a -> b -> a: nothing waits and no exit */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: message, text: x, next: b }\n"
                 "  b: { kind: goto, to: a }\n",
                 "t.yaml:3:3: steps.a: cycle without an exit");
    /* a loop through an API step with an exit still never waits */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: api, url: \"http://x\", next: b }\n"
                 "  b: { kind: set, tags: [conversation.t], next: a }\n",
                 "loop without a question");
    /* a cycle through a menu is fine: the client decides, and the operator is offered */
    char *m = errors_of("start: a\nsteps:\n  a: { kind: menu, text: x, buttons: [{title: y, goto: b}] }\n"
                        "  b: { kind: message, text: z, next: a }\n");
    assert_null(m);
    /* an ask whose failure loops back: the cycle has no end, handoff or menu */
    EXPECT_ERROR("start: a\nsteps:\n  a: { kind: ask, text: q, into: client.x, next: b, on_fail: b }\n"
                 "  b: { kind: goto, to: a }\n", "steps.b: cycle without an exit");
}

static void test_too_big(void **st)
{
    (void)st;
    size_t n = BB_MAX_TEXT + 10;
    char *t = malloc(n + 1);
    memset(t, '#', n);
    t[n] = 0;
    bb_errors err = {0};
    assert_null(bb_scenario_parse("t.yaml", t, n, &err));
    assert_non_null(strstr(err.items[0], "larger than"));
    bb_errors_free(&err);
    free(t);
}

/* ---- templates ---- */
static const char *lookup(void *ud, const char *ns, const char *name)
{
    (void)ud;
    if (!strcmp(ns, "client") && !strcmp(name, "phone")) return "+7 912 \"q\"&x=1";
    if (!strcmp(ns, "secret") && !strcmp(name, "base")) return "http://api.local:81";
    return NULL;
}

static void test_template(void **st)
{
    (void)st;
    char *r = bb_template_render("{{secret.base}}/o?p={{client.phone}}&n={{client.none}}",
                                 BB_ESC_URL, lookup, NULL);
    assert_string_equal(r, "http://api.local:81/o?p=%2B7%20912%20%22q%22%26x%3D1&n=");
    free(r);
    r = bb_template_render("{\"p\":\"{{ client.phone }}\"}", BB_ESC_JSON, lookup, NULL);
    assert_string_equal(r, "{\"p\":\"+7 912 \\\"q\\\"&x=1\"}");
    free(r);
    char why[200];
    assert_int_equal(bb_template_check("a {{conversation.x_1}} b", why, sizeof why), 0);
    assert_int_equal(bb_template_check("a {{order.x}}", why, sizeof why), -1);
    assert_int_equal(bb_template_check("a {{client.x", why, sizeof why), -1);
}

/* ---- paths ---- */
static void test_jpath(void **st)
{
    (void)st;
    json_t *j = json_loads("{\"data\":{\"orders\":[{\"status\":\"в пути\",\"n\":5,\"o\":{\"a\":1}}]}}", 0, NULL);
    assert_string_equal(json_string_value(bb_jpath(j, "data.orders[0].status")), "в пути");
    assert_null(bb_jpath(j, "data.orders[1].status"));
    assert_null(bb_jpath(j, "data.orders.status"));
    assert_null(bb_jpath(j, "data[0]"));
    char *t = bb_json_text(bb_jpath(j, "data.orders[0].n"));
    assert_string_equal(t, "5");
    free(t);
    t = bb_json_text(bb_jpath(j, "data.orders[0].o"));
    assert_string_equal(t, "{\"a\":1}");
    free(t);
    assert_int_equal(bb_jpath_check("a.b[2].c"), 0);
    assert_int_equal(bb_jpath_check("a.[2]"), -1);
    assert_int_equal(bb_jpath_check("a[x]"), -1);
    assert_int_equal(bb_jpath_check(""), -1);
    json_decref(j);
}

/* ---- validators ---- */
static void test_validators(void **st)
{
    (void)st;
    bb_step s = {0};
    char out[BB_MAX_VALUE + 32];
    s.validate = BB_V_PHONE;
    assert_int_equal(bb_validate(&s, " +7 (912) 345-67-89 ", out, sizeof out), 0);
    assert_string_equal(out, "+79123456789");
    assert_int_equal(bb_validate(&s, "89123456789", out, sizeof out), 0);
    assert_string_equal(out, "+79123456789");
    assert_int_equal(bb_validate(&s, "9123456789", out, sizeof out), 0);
    assert_string_equal(out, "+79123456789");
    assert_int_equal(bb_validate(&s, "12345", out, sizeof out), -1);
    assert_int_equal(bb_validate(&s, "позвоните мне", out, sizeof out), -1);
    s.validate = BB_V_EMAIL;
    assert_int_equal(bb_validate(&s, "ivan@bank.ru", out, sizeof out), 0);
    assert_int_equal(bb_validate(&s, "ivan@bank", out, sizeof out), -1);
    assert_int_equal(bb_validate(&s, "a b@c.ru", out, sizeof out), -1);
    s.validate = BB_V_NUMBER;
    s.has_min = s.has_max = 1;
    s.min = 1;
    s.max = 100;
    assert_int_equal(bb_validate(&s, "12,5", out, sizeof out), 0);
    assert_string_equal(out, "12.5");
    assert_int_equal(bb_validate(&s, "101", out, sizeof out), -1);
    assert_int_equal(bb_validate(&s, "nan", out, sizeof out), -1);
    assert_int_equal(bb_validate(&s, "12abc", out, sizeof out), -1);
    s.validate = BB_V_REGEX;
    assert_int_equal(regcomp(&s.re, "^([0-9]{4})$", REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(bb_validate(&s, "1234", out, sizeof out), 0);
    assert_int_equal(bb_validate(&s, "12345", out, sizeof out), -1);
    regfree(&s.re);
    s.validate = BB_V_NONE;
    assert_int_equal(bb_validate(&s, "   ", out, sizeof out), -1);
    char big[BB_MAX_VALUE + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(bb_validate(&s, big, out, sizeof out), -1);
}

static void test_pick(void **st)
{
    (void)st;
    bb_choice ch[3] = {{"Карты", "m/0"}, {"Yes", "m/1"}, {"Оператор", "op"}};
    assert_int_equal(bb_pick("2", ch, 3), 1);
    assert_int_equal(bb_pick(" 3. ", ch, 3), 2);
    assert_int_equal(bb_pick("1)", ch, 3), 0);
    assert_int_equal(bb_pick("4", ch, 3), -1);
    assert_int_equal(bb_pick("0", ch, 3), -1);
    assert_int_equal(bb_pick("yes", ch, 3), 1);
    assert_int_equal(bb_pick("Карты", ch, 3), 0);
    assert_int_equal(bb_pick("2 карты", ch, 3), -1);
    assert_int_equal(bb_pick("", ch, 3), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_json_is_accepted),
        cmocka_unit_test(test_errors_name_the_place),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_jpath),
        cmocka_unit_test(test_validators),
        cmocka_unit_test(test_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
