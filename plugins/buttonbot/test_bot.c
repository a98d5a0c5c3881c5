/* The button bot on the SDK test host: each step kind, menus per channel,
 * the API step against scripted answers (success, garbage, 500, timeout),
 * the scenarios API, restarts and config errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testhost.h"
#include <switchboard/plugin.h>

static const char *k_scenario =
    "start: main\n"
    "operator: { title: Оператор, group: support }\n"
    "steps:\n"
    "  main:\n"
    "    kind: menu\n"
    "    text: Главное меню\n"
    "    buttons:\n"
    "      - { title: Карты, goto: cards }\n"
    "      - { title: Заказ, goto: phone }\n"
    "      - { title: Тег, goto: tagit }\n"
    "    fallback: faq\n"
    "  cards:\n"
    "    kind: menu\n"
    "    text: Карты\n"
    "    buttons:\n"
    "      - { title: Назад, goto: main }\n"
    "      - { title: Блок, goto: block }\n"
    "  block:\n"
    "    kind: handoff\n"
    "    text: Передаю\n"
    "    group: cards\n"
    "    skill: cards\n"
    "    level: 2\n"
    "    reason: Блокировка карты\n"
    "  phone:\n"
    "    kind: ask\n"
    "    text: Телефон?\n"
    "    into: client.phone\n"
    "    validate: phone\n"
    "    retry_text: Не номер\n"
    "    max_retries: 1\n"
    "    next: status\n"
    "  status:\n"
    "    kind: api\n"
    "    url: \"{{secret.base}}/orders?phone={{client.phone}}\"\n"
    "    headers: { Authorization: \"Bearer {{secret.token}}\" }\n"
    "    timeout: 2s\n"
    "    retries: 1\n"
    "    extract: { conversation.order_status: \"data.orders[0].status\" }\n"
    "    text: \"Статус: {{conversation.order_status}}\"\n"
    "    next: more\n"
    "  more:\n"
    "    kind: menu\n"
    "    text: Ещё?\n"
    "    buttons:\n"
    "      - { title: Нет, goto: bye }\n"
    "  tagit:\n"
    "    kind: set\n"
    "    tags: [conversation.t1, client.vip]\n"
    "    attributes: { conversation.src: \"bot {{client.name}}\" }\n"
    "    next: bye\n"
    "  faq:\n"
    "    kind: textbot\n"
    "    text: Нашлось\n"
    "    next: more\n"
    "  bye: { kind: end, text: Пока, rating: true }\n";

static char g_path[64];

static void write_file(const char *text)
{
    FILE *f = fopen(g_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void config(sb_th *th)
{
    sb_th_config_set(th, "scenario", g_path);
    sb_th_config_set(th, "secrets[0].name", "base");
    sb_th_config_set(th, "secrets[0].value", "http://api.test");
    sb_th_config_set(th, "secrets[1].name", "token");
    sb_th_config_set(th, "secrets[1].value", "s3cr3t-token");
    sb_th_config_set(th, "textbot.url", "http://sb.test");
    sb_th_config_set(th, "textbot.token", "tb-token");
    sb_th_config_set(th, "textbot.kb", "faq");
}

static const sb_plugin *desc(void) { return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR); }

static sb_th *start_bot(void)
{
    sb_th *th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_status st = sb_th_start(th, desc());
    for (size_t i = 0; st != SB_OK && i < sb_th_config_error_count(th); i++)
        print_error("config: %s\n", sb_th_config_error(th, i));
    for (size_t i = 0; st != SB_OK && i < sb_th_log_count(th); i++)
        print_error("log: %s\n", sb_th_log_line(th, i, NULL));
    assert_int_equal(st, SB_OK);
    return th;
}

static int setup(void **st)
{
    (void)st;
    snprintf(g_path, sizeof g_path, "/tmp/bb-test-XXXXXX");
    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    close(fd);
    write_file(k_scenario);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(g_path);
    return 0;
}

static sb_status event(sb_th *th, sb_bot_event_kind kind, const char *conv, const char *channel,
                       const char *text, const char *button)
{
    sb_bot_event ev = {
        .struct_size = sizeof ev, .kind = kind, .conversation_id = conv, .client_id = "cl-1",
        .channel = channel, .instance = "main", .message_id = "m", .text = text,
        .button_id = button, .message_json = "{}",
    };
    return sb_th_bot_event(th, &ev);
}

static sb_status press(sb_th *th, const char *conv, const char *button)
{
    return event(th, SB_BOT_MESSAGE, conv, "apichannel", NULL, button);
}

static sb_status say(sb_th *th, const char *conv, const char *text)
{
    return event(th, SB_BOT_MESSAGE, conv, "apichannel", text, NULL);
}

static const sb_th_bot_action *last(sb_th *th)
{
    size_t n = sb_th_bot_action_count(th);
    assert_true(n > 0);
    return sb_th_bot_action_get(th, n - 1);
}

static const sb_th_bot_action *nth_back(sb_th *th, size_t k)
{
    size_t n = sb_th_bot_action_count(th);
    assert_true(n > k);
    return sb_th_bot_action_get(th, n - 1 - k);
}

/* ---- menus ---- */
static void test_menu_walk(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    assert_int_equal(event(th, SB_BOT_START, "c1", "apichannel", "Здравствуйте", NULL), SB_OK);
    const sb_th_bot_action *a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_REPLY);
    assert_string_equal(a->text, "Главное меню");
    assert_int_equal(a->n_buttons, 4);
    assert_string_equal(a->buttons[0].id, "main/0");
    assert_string_equal(a->buttons[0].title, "Карты");
    assert_string_equal(a->buttons[3].id, "op");
    assert_string_equal(a->buttons[3].title, "Оператор");

    assert_int_equal(press(th, "c1", "main/0"), SB_OK);
    assert_string_equal(last(th)->text, "Карты");
    /* a typed number picks the button */
    assert_int_equal(say(th, "c1", "1"), SB_OK);
    assert_string_equal(last(th)->text, "Главное меню");
    /* an earlier menu's button still works */
    assert_int_equal(press(th, "c1", "main/0"), SB_OK);
    assert_int_equal(press(th, "c1", "cards/1"), SB_OK);
    a = nth_back(th, 1);
    assert_int_equal(a->kind, SB_TH_BOT_REPLY);
    assert_string_equal(a->text, "Передаю");
    a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(a->group_id, "cards");
    assert_string_equal(a->skill, "cards");
    assert_int_equal(a->skill_level, 2);
    assert_string_equal(a->reason, "Блокировка карты");
    assert_false(sb_th_conversation_held(th, "c1"));
    /* the state is gone from kv too */
    assert_null(sb_th_kv_peek(th, "c:c1", NULL));
    sb_th_free(th);
}

static void test_reprompt_and_operator(void **st)
{
    (void)st;
    /* without a fallback, text where a button is expected re-prompts */
    write_file("start: m\nsteps:\n  m: { kind: menu, text: Меню, buttons: [{title: A, goto: e}] }\n"
               "  e: { kind: end }\n");
    sb_th *th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_th_config_set(th, "texts.reprompt", "Выберите кнопку");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "c2", "apichannel", NULL, NULL);
    assert_int_equal(say(th, "c2", "хочу кредит"), SB_OK);
    const sb_th_bot_action *a = last(th);
    assert_string_equal(a->text, "Выберите кнопку\n\nМеню");
    assert_int_equal(a->n_buttons, 2);
    /* an unknown or forged button id re-prompts too */
    assert_int_equal(press(th, "c2", "m/7"), SB_OK);
    assert_string_equal(last(th)->text, "Выберите кнопку\n\nМеню");
    assert_int_equal(press(th, "c2", "zz"), SB_OK);
    /* "talk to an operator" */
    assert_int_equal(press(th, "c2", "op"), SB_OK);
    a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_null(a->group_id);
    assert_non_null(strstr(a->reason, "asked for an operator at step \"m\""));
    /* typed, an operator word calls a person, in any case */
    event(th, SB_BOT_START, "c3", "apichannel", NULL, NULL);
    assert_int_equal(say(th, "c3", "Позовите ОПЕРАТОРА!"), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    sb_th_free(th);

    /* the words are configurable */
    th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_th_config_set(th, "operator_words[0]", "Человек");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "c4", "apichannel", NULL, NULL);
    assert_int_equal(say(th, "c4", "оператор"), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_REPLY);
    assert_int_equal(say(th, "c4", "дайте живого человека"), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    sb_th_free(th);
    write_file(k_scenario);
}

static void test_degrade_per_channel(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    /* e-mail: a numbered text menu */
    event(th, SB_BOT_START, "e1", "email", NULL, NULL);
    const sb_th_bot_action *a = last(th);
    assert_int_equal(a->n_buttons, 0);
    assert_string_equal(a->text, "Главное меню\n\n1. Карты\n2. Заказ\n3. Тег\n4. Оператор\n\n"
                                 "Отправьте номер варианта.");
    assert_int_equal(event(th, SB_BOT_MESSAGE, "e1", "email", "4", NULL), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    /* WhatsApp: 4 choices go as buttons (its plugin makes a list of them) */
    event(th, SB_BOT_START, "w1", "whatsapp", NULL, NULL);
    assert_int_equal(last(th)->n_buttons, 4);
    sb_th_free(th);

    /* more than WhatsApp's 10 rows: numbered text */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "start: m\nsteps:\n  e: { kind: end }\n"
                                "  m:\n    kind: menu\n    text: M\n    buttons:\n");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "      - { title: B%d, goto: e }\n", i);
    write_file(big);
    th = start_bot();
    event(th, SB_BOT_START, "w2", "whatsapp", NULL, NULL);
    a = last(th);
    assert_int_equal(a->n_buttons, 0);
    if (!strstr(a->text, "\n11. Связаться с оператором")) fail_msg("%s", a->text);
    assert_int_equal(event(th, SB_BOT_MESSAGE, "w2", "whatsapp", "2", NULL), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_CLOSE);
    /* a channel without a limit gets all 11 as buttons */
    event(th, SB_BOT_START, "t1", "telegram", NULL, NULL);
    assert_int_equal(last(th)->n_buttons, 11);
    sb_th_free(th);

    /* the list is configurable */
    th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_th_config_set(th, "menu_limits[0].channel", "telegram");
    sb_th_config_set(th, "menu_limits[0].max_buttons", "0");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "t2", "telegram", NULL, NULL);
    assert_int_equal(last(th)->n_buttons, 0);
    event(th, SB_BOT_START, "e2", "email", NULL, NULL);
    assert_int_equal(last(th)->n_buttons, 11);
    sb_th_free(th);
    write_file(k_scenario);
}

/* ---- ask, set, end ---- */
static void test_ask_validates_and_gives_up(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    event(th, SB_BOT_START, "a1", "apichannel", NULL, NULL);
    press(th, "a1", "main/1");
    const sb_th_bot_action *a = last(th);
    assert_string_equal(a->text, "Телефон?");
    assert_int_equal(a->n_buttons, 1);
    assert_string_equal(a->buttons[0].id, "op");
    assert_int_equal(say(th, "a1", "не помню"), SB_OK);
    assert_string_equal(last(th)->text, "Не номер");
    /* max_retries: 1 -> the second bad answer hands off */
    assert_int_equal(say(th, "a1", "123"), SB_OK);
    a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(a->group_id, "support");
    assert_non_null(strstr(a->reason, "no valid answer to step \"phone\""));
    assert_int_equal(nth_back(th, 1)->kind, SB_TH_BOT_REPLY);
    sb_th_free(th);
}

static void test_set_and_end(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    sb_th_conversation_set(th, "s1", "{\"conversation\":{\"id\":\"s1\",\"attributes\":{}},"
                                     "\"client\":{\"id\":\"cl-1\",\"name\":\"Иван\",\"attributes\":{}}}");
    event(th, SB_BOT_START, "s1", "apichannel", NULL, NULL);
    size_t before = sb_th_bot_action_count(th);
    assert_int_equal(press(th, "s1", "main/2"), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), before + 5);
    const sb_th_bot_action *a = sb_th_bot_action_get(th, before);
    assert_int_equal(a->kind, SB_TH_BOT_ATTRIBUTES);
    assert_int_equal(a->scope, SB_SCOPE_CONVERSATION);
    assert_string_equal(a->json, "{\"src\":\"bot Иван\"}");
    a = sb_th_bot_action_get(th, before + 1);
    assert_int_equal(a->kind, SB_TH_BOT_TAG);
    assert_string_equal(a->tag, "t1");
    assert_int_equal(a->scope, SB_SCOPE_CONVERSATION);
    a = sb_th_bot_action_get(th, before + 2);
    assert_string_equal(a->tag, "vip");
    assert_int_equal(a->scope, SB_SCOPE_CLIENT);
    assert_string_equal(sb_th_bot_action_get(th, before + 3)->text, "Пока");
    a = sb_th_bot_action_get(th, before + 4);
    assert_int_equal(a->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(a->ask_rating, 1);
    assert_false(sb_th_conversation_held(th, "s1"));
    sb_th_free(th);
}

/* ---- the API step ---- */
static void to_api(sb_th *th, const char *conv)
{
    event(th, SB_BOT_START, conv, "apichannel", NULL, NULL);
    press(th, conv, "main/1");
    assert_int_equal(say(th, conv, "+7 912 345-67-89"), SB_OK);
    const sb_th_bot_action *a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_ATTRIBUTES);
    assert_int_equal(a->scope, SB_SCOPE_CLIENT);
    assert_string_equal(a->json, "{\"phone\":\"+79123456789\"}");
}

static int has_header(const sb_th_http_call *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (!strcmp(c->headers[i].name, name) && !strcmp(c->headers[i].value, value)) return 1;
    return 0;
}

static void no_secret_logged(sb_th *th)
{
    assert_int_equal(sb_th_log_find(th, "s3cr3t"), -1);
    assert_int_equal(sb_th_log_find(th, "api.test"), -1);
}

static void test_api_success(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    sb_th_http_expect(th, "GET", "http://api.test/orders", 200,
                      "{\"data\":{\"orders\":[{\"id\":\"A-1\",\"status\":\"доставляется\"}]}}");
    to_api(th, "p1");
    assert_int_equal(sb_th_http_call_count(th), 1);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->url, "http://api.test/orders?phone=%2B79123456789");
    assert_true(has_header(c, "Authorization", "Bearer s3cr3t-token"));
    assert_int_equal(c->timeout_ms, 2000);
    /* messages while the call runs wait for it */
    size_t before = sb_th_bot_action_count(th);
    assert_int_equal(say(th, "p1", "ну что там?"), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), before);
    sb_th_run_pending(th);
    assert_string_equal(nth_back(th, 2)->json, "{\"order_status\":\"доставляется\"}");
    assert_int_equal(nth_back(th, 2)->scope, SB_SCOPE_CONVERSATION);
    assert_string_equal(nth_back(th, 1)->text, "Статус: доставляется");
    assert_string_equal(last(th)->text, "Ещё?");
    no_secret_logged(th);
    sb_th_free(th);
}

static void test_operator_during_api_call(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "{}");
    to_api(th, "o1");
    assert_int_equal(press(th, "o1", "op"), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_true(c->completed);
    assert_int_equal(c->status, SB_ERR_CANCELLED);
    sb_th_run_pending(th);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    sb_th_free(th);
}

static void expect_api_handoff(sb_th *th, const char *reason_part)
{
    const sb_th_bot_action *a = last(th);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    if (!strstr(a->reason, reason_part)) fail_msg("reason \"%s\" lacks \"%s\"", a->reason, reason_part);
    assert_non_null(strstr(nth_back(th, 1)->text, "Извините"));
    assert_false(sb_th_conversation_held(th, a->conversation_id));
    no_secret_logged(th);
}

static void test_api_garbage(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "<html>oops</html>");
    to_api(th, "g1");
    sb_th_run_pending(th);
    expect_api_handoff(th, "the answer is not JSON");
    /* JSON without the field */
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "{\"data\":{\"orders\":[]}}");
    to_api(th, "g2");
    sb_th_run_pending(th);
    expect_api_handoff(th, "the answer has no data.orders[0].status");
    assert_int_equal(sb_th_metric(th, "api_errors_total"), 2);
    sb_th_free(th);
}

static void test_api_500_retries_then_hands_off(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    /* one retry saves the day */
    sb_th_http_expect(th, "GET", "http://api.test/", 500, "");
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "{\"data\":{\"orders\":[{\"status\":\"готов\"}]}}");
    to_api(th, "r1");
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), 2);
    assert_string_equal(nth_back(th, 1)->text, "Статус: готов");
    /* two 500s: retries: 1 is spent */
    sb_th_http_expect(th, "GET", "http://api.test/", 500, "");
    sb_th_http_expect(th, "GET", "http://api.test/", 503, "");
    to_api(th, "r2");
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), 4);
    expect_api_handoff(th, "HTTP 503");
    /* a 404 is not retried */
    sb_th_http_expect(th, "GET", "http://api.test/", 404, "{}");
    to_api(th, "r3");
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_call_count(th), 5);
    expect_api_handoff(th, "HTTP 404");
    sb_th_free(th);
}

static void test_api_timeout_goes_to_on_error(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    sb_th_http_expect_error(th, "GET", "http://api.test/", SB_ERR_TIMEOUT, "slow");
    sb_th_http_expect_error(th, "GET", "http://api.test/", SB_ERR_TIMEOUT, "slow");
    to_api(th, "t1");
    sb_th_run_pending(th);
    expect_api_handoff(th, "timed out");
    sb_th_free(th);

    /* with an on_error step the scenario decides */
    write_file("start: a\nsteps:\n  a:\n    kind: api\n    method: POST\n    url: http://api.test/x\n"
               "    body: '{\"q\": \"{{conversation.q}}\"}'\n    next: e\n    on_error: sorry\n"
               "  sorry: { kind: message, text: Сервис недоступен, next: e }\n  e: { kind: end, rating: false }\n");
    th = start_bot();
    sb_th_conversation_set(th, "t2", "{\"conversation\":{\"attributes\":{\"q\":\"a\\\"b\\n\"}},\"client\":{}}");
    sb_th_http_expect_error(th, "POST", "http://api.test/x", SB_ERR_TIMEOUT, "slow");
    event(th, SB_BOT_START, "t2", "apichannel", NULL, NULL);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->body, "{\"q\": \"a\\\"b\\n\"}");
    assert_true(has_header(c, "Content-Type", "application/json"));
    sb_th_run_pending(th);
    assert_string_equal(nth_back(th, 1)->text, "Сервис недоступен");
    assert_int_equal(last(th)->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(last(th)->ask_rating, 0);
    sb_th_free(th);
    write_file(k_scenario);
}

/* ---- the text bot step ---- */
static void test_textbot_fallback(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    event(th, SB_BOT_START, "k1", "apichannel", NULL, NULL);
    sb_th_http_expect(th, "POST", "http://sb.test/api/v1/kb/faq/search", 200,
                      "{\"items\":[{\"id\":\"a1\",\"title\":\"Как заблокировать карту\",\"score\":3.2},"
                      "{\"id\":\"a2\",\"title\":\"Лимиты\",\"score\":1.0}]}");
    assert_int_equal(say(th, "k1", "карту украли"), SB_OK);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->body, "{\"query\":\"карту украли\",\"limit\":3}");
    assert_true(has_header(c, "Authorization", "Bearer tb-token"));
    sb_th_run_pending(th);
    const sb_th_bot_action *a = last(th);
    assert_string_equal(a->text, "Нашлось");
    assert_int_equal(a->n_buttons, 3);
    assert_string_equal(a->buttons[0].id, "kb:a1");
    assert_string_equal(a->buttons[0].title, "Как заблокировать карту");
    assert_string_equal(a->buttons[2].id, "op");
    /* the client asks again without choosing */
    sb_th_http_expect(th, "POST", "http://sb.test/api/v1/kb/faq/search", 200, "{\"items\":[]}");
    assert_int_equal(say(th, "k1", "абвгд"), SB_OK);
    sb_th_run_pending(th);
    assert_non_null(strstr(last(th)->text, "Не нашёл ответа"));
    /* then picks an article by the number of an earlier answer: no,
     * the last search found nothing, so "1" is a question again */
    sb_th_http_expect(th, "POST", "http://sb.test/api/v1/kb/faq/search", 200,
                      "{\"items\":[{\"id\":\"a1\",\"title\":\"Как заблокировать карту\"}]}");
    say(th, "k1", "блокировка");
    sb_th_run_pending(th);
    sb_th_http_expect(th, "GET", "http://sb.test/api/v1/kb/faq/articles/a1", 200,
                      "{\"id\":\"a1\",\"title\":\"Как заблокировать карту\",\"body\":\"В приложении.\"}");
    assert_int_equal(say(th, "k1", "1"), SB_OK);
    sb_th_run_pending(th);
    assert_string_equal(nth_back(th, 1)->text, "Как заблокировать карту\n\nВ приложении.");
    assert_string_equal(last(th)->text, "Ещё?");
    /* the knowledge base fails: apologise and hand off */
    event(th, SB_BOT_START, "k2", "apichannel", NULL, NULL);
    sb_th_http_expect(th, "POST", "http://sb.test/", 500, "");
    say(th, "k2", "вопрос");
    sb_th_run_pending(th);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    assert_non_null(strstr(nth_back(th, 1)->text, "поиск по базе знаний"));
    sb_th_free(th);
}

/* ---- restart ---- */
static void test_restart_continues(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    event(th, SB_BOT_START, "x1", "apichannel", NULL, NULL);
    press(th, "x1", "main/1");
    say(th, "x1", "не знаю");
    sb_th_run_pending(th);
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    /* the re-ask count survived: max_retries 1 is reached by this one */
    assert_int_equal(say(th, "x1", "опять не знаю"), SB_OK);
    assert_int_equal(last(th)->kind, SB_TH_BOT_HANDOFF);
    /* a restart in the middle of an API step calls again */
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "{\"data\":{\"orders\":[{\"status\":\"ok\"}]}}");
    sb_th_http_expect(th, "GET", "http://api.test/", 200, "{\"data\":{\"orders\":[{\"status\":\"ok\"}]}}");
    to_api(th, "x2");
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    assert_int_equal(say(th, "x2", "алло"), SB_OK);
    sb_th_run_pending(th);
    assert_string_equal(nth_back(th, 1)->text, "Статус: ok");
    sb_th_free(th);
}

/* ---- the scenarios API ---- */
static const sb_th_reply *api(sb_th *th, const char *method, const char *role, const char *query,
                              const char *body)
{
    char target[200];
    snprintf(target, sizeof target, "/api/v1/bots/buttonbot/bank/scenarios%s", query);
    sb_th_http_auth(th, role, role ? "u1" : NULL);
    return sb_th_http_request(th, method, target, NULL, 0, body, body ? strlen(body) : 0);
}

static void test_scenarios_api(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    event(th, SB_BOT_START, "old", "apichannel", NULL, NULL);  /* keeps the file's scenario */

    assert_int_equal(api(th, "GET", NULL, "", NULL)->status, 401);
    const sb_th_reply *r = api(th, "GET", "operator", "", NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"source\":\"file\""));
    assert_non_null(strstr(r->body, "\"steps\":9"));
    assert_non_null(strstr(r->body, "Главное меню"));
    assert_int_equal(api(th, "GET", "operator", "?source=nope", NULL)->status, 400);
    assert_int_equal(api(th, "PUT", "operator", "", "start: a")->status, 403);
    assert_int_equal(api(th, "PUT", "supervisor", "", "start: a")->status, 403);
    assert_int_equal(api(th, "PUT", "admin", "", "")->status, 400);

    r = api(th, "PUT", "admin", "", "start: a\nsteps:\n  a: { kind: goto, to: b }\n");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "invalid_scenario"));
    assert_non_null(strstr(r->body, "body:3:24: steps.a.to: unknown step \\\"b\\\""));
    r = api(th, "PUT", "admin", "", "{\"start\":\"a\",\"steps\":{\"a\":{\"kind\":\"api\",\"url\":"
            "\"{{secret.nope}}/x\",\"next\":\"e\"},\"e\":{\"kind\":\"end\"}}}");
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "{{secret.nope}}: no such secret"));

    const char *json = "{\"start\":\"hi\",\"steps\":{\"hi\":{\"kind\":\"menu\",\"text\":\"Новое меню\","
                       "\"buttons\":[{\"title\":\"Пока\",\"goto\":\"e\"}]},\"e\":{\"kind\":\"end\"}}}";
    r = api(th, "PUT", "admin", "", json);
    assert_false(r->replied);  /* answered once stored */
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"source\":\"api\""));
    /* new conversations get it; the one under way keeps its own */
    event(th, SB_BOT_START, "new", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Новое меню");
    press(th, "old", "main/0");
    assert_string_equal(last(th)->text, "Карты");
    r = api(th, "GET", "operator", "?source=file", NULL);
    assert_non_null(strstr(r->body, "\"source\":\"file\""));

    /* a stored scenario wins at restart */
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "new2", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Новое меню");
    /* DELETE goes back to the file */
    r = api(th, "DELETE", "admin", "", NULL);
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"source\":\"file\""));
    event(th, SB_BOT_START, "new3", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Главное меню");
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "new4", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Главное меню");
    sb_th_free(th);
}

/* ---- config ---- */
static void test_config_errors(void **st)
{
    (void)st;
    write_file("start: main\nsteps:\n  main:\n    kind: menu\n    text: x\n    buttons: []\n"
               "  b: { kind: goto, to: c }\n");
    sb_th *th = sb_th_new("buttonbot", "bank");
    config(th);
    assert_int_equal(sb_th_start(th, desc()), SB_ERR_INVALID);
    char want[128];
    snprintf(want, sizeof want, "scenario: %s:4:5: steps.main: empty menu", g_path);
    int found = 0;
    for (size_t i = 0; i < sb_th_config_error_count(th); i++)
        found |= strstr(sb_th_config_error(th, i), want) != NULL;
    assert_true(found);
    sb_th_free(th);

    write_file(k_scenario);
    th = sb_th_new("buttonbot", "bank");
    sb_th_config_set(th, "scenario", "/nonexistent/bank.yaml");
    sb_th_config_set(th, "max_conversations", "0");
    sb_th_config_set(th, "menu_limits[0].channel", "email");
    sb_th_config_set(th, "menu_limits[0].max_buttons", "99");
    assert_int_equal(sb_th_start(th, desc()), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_error_count(th), 2);
    assert_non_null(strstr(sb_th_config_error(th, 0), "max_conversations"));
    assert_non_null(strstr(sb_th_config_error(th, 1), "menu_limits[0].max_buttons"));
    sb_th_free(th);

    /* the scenario needs secrets and a text bot the instance lacks */
    th = sb_th_new("buttonbot", "bank");
    sb_th_config_set(th, "scenario", g_path);
    sb_th_config_set(th, "start", "cards");
    assert_int_equal(sb_th_start(th, desc()), SB_ERR_INVALID);
    found = 0;
    for (size_t i = 0; i < sb_th_config_error_count(th); i++) {
        found |= strstr(sb_th_config_error(th, i), "{{secret.base}}: no such secret") ? 1 : 0;
        found |= strstr(sb_th_config_error(th, i), "steps.faq: a textbot step needs") ? 2 : 0;
    }
    assert_int_equal(found, 3);
    sb_th_free(th);

    /* start: picks another first step */
    th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_th_config_set(th, "start", "cards");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "st", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Карты");
    sb_th_free(th);
}

static void test_reload(void **st)
{
    (void)st;
    sb_th *th = start_bot();
    event(th, SB_BOT_START, "r0", "apichannel", NULL, NULL);
    /* a broken file keeps the running scenario */
    write_file("start: m\nsteps:\n  m: { kind: goto, to: nowhere }\n");
    assert_int_equal(sb_th_reload(th), SB_ERR_INVALID);
    event(th, SB_BOT_START, "r1", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Главное меню");
    /* a good one starts new conversations; r0 goes on where it was */
    write_file("start: m\nsteps:\n  m: { kind: menu, text: Новое, buttons: [{title: A, goto: e}] }\n"
               "  e: { kind: end }\n");
    assert_int_equal(sb_th_reload(th), SB_OK);
    event(th, SB_BOT_START, "r2", "apichannel", NULL, NULL);
    assert_string_equal(last(th)->text, "Новое");
    press(th, "r0", "main/0");
    assert_string_equal(last(th)->text, "Карты");
    sb_th_free(th);
    write_file(k_scenario);
}

static void test_bounded_conversations(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("buttonbot", "bank");
    config(th);
    sb_th_config_set(th, "max_conversations", "2");
    assert_int_equal(sb_th_start(th, desc()), SB_OK);
    event(th, SB_BOT_START, "b1", "apichannel", NULL, NULL);
    press(th, "b1", "main/0");
    event(th, SB_BOT_START, "b2", "apichannel", NULL, NULL);
    event(th, SB_BOT_START, "b3", "apichannel", NULL, NULL);  /* evicts b1 from memory */
    /* b1 comes back from kv where it was */
    assert_int_equal(press(th, "b1", "cards/0"), SB_OK);
    assert_string_equal(last(th)->text, "Главное меню");
    /* an operator took one over: the bot forgets it */
    sb_th_emit_event(th, "conversation.assigned", "{\"type\":\"conversation.assigned\","
                     "\"conversation_id\":\"b2\",\"conversation\":{\"id\":\"b2\"}}");
    sb_th_run_pending(th);
    assert_null(sb_th_kv_peek(th, "c:b2", NULL));
    assert_non_null(sb_th_kv_peek(th, "c:b3", NULL));
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_menu_walk),
        cmocka_unit_test(test_reprompt_and_operator),
        cmocka_unit_test(test_degrade_per_channel),
        cmocka_unit_test(test_ask_validates_and_gives_up),
        cmocka_unit_test(test_set_and_end),
        cmocka_unit_test(test_api_success),
        cmocka_unit_test(test_operator_during_api_call),
        cmocka_unit_test(test_api_garbage),
        cmocka_unit_test(test_api_500_retries_then_hands_off),
        cmocka_unit_test(test_api_timeout_goes_to_on_error),
        cmocka_unit_test(test_textbot_fallback),
        cmocka_unit_test(test_restart_continues),
        cmocka_unit_test(test_scenarios_api),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_bounded_conversations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
