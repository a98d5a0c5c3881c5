/* The dialog on the SDK test host: articles offered as buttons, an article
 * shown and "did it help?", close with a rating, the operator button,
 * automatic hand-off after failed attempts (kept across a restart), the
 * unanswered log, bad input (empty, emoji, look-alikes, HTML, huge,
 * invalid UTF-8), configuration errors and reload. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "testhost.h"

static const char KB[] =
    "[{\"id\":\"card-block\",\"title\":\"Как заблокировать карту\",\"body\":\"Заблокируйте "
    "карту в приложении или позвоните в банк.\",\"keywords\":[\"блокировка\",\"потерял карту\"],"
    "\"misspellings\":[\"заблакировать\"]},"
    "{\"id\":\"card-reissue\",\"title\":\"Перевыпуск карты\",\"body\":\"Новая карта будет "
    "готова через пять дней.\",\"keywords\":[\"перевыпуск\"]},"
    "{\"id\":\"transfer-phone\",\"title\":\"Перевод по номеру телефона\",\"body\":\"Переводы "
    "через СБП бесплатны до 100 000 рублей в месяц.\",\"keywords\":[\"сбп\"]},"
    "{\"id\":\"app-login\",\"title\":\"Не получается войти в приложение\",\"body\":\"Нажмите "
    "«Не помню пароль» и восстановите доступ по коду из СМС.\",\"keywords\":[\"забыл пароль\"]}]";

static void load_kb(sb_th *th)
{
    sb_th_http_auth(th, "supervisor", "sup");
    const sb_th_reply *r = sb_th_http_request(th, "POST", "/api/v1/kb/faq/articles", NULL, 0, KB,
                                              strlen(KB));
    sb_th_run_pending(th);
    assert_int_equal(r->status, 201);
}

static int start(sb_th *th)
{
    return sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR));
}

static sb_th *boot(void)
{
    sb_th *th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    assert_int_equal(start(th), SB_OK);
    load_kb(th);
    return th;
}

static sb_status say(sb_th *th, sb_bot_event_kind kind, const char *conv, const char *text,
                     const char *button)
{
    sb_bot_event ev = {.struct_size = sizeof ev, .kind = kind, .conversation_id = conv,
                       .client_id = "c-1", .channel = "apichannel", .instance = "main",
                       .message_id = "m", .text = text, .button_id = button,
                       .message_json = "{}"};
    return sb_th_bot_event(th, &ev);
}

/* The i-th action counted from the end (0 = the last). */
static const sb_th_bot_action *last(sb_th *th, size_t back)
{
    size_t n = sb_th_bot_action_count(th);
    assert_true(n > back);
    return sb_th_bot_action_get(th, n - 1 - back);
}

static const char *button(const sb_th_bot_action *a, size_t i)
{
    assert_int_equal(a->kind, SB_TH_BOT_REPLY);
    assert_true(i < a->n_buttons);
    return a->buttons[i].id;
}

static int has_button(const sb_th_bot_action *a, const char *id)
{
    for (size_t i = 0; i < a->n_buttons; i++)
        if (!strcmp(a->buttons[i].id, id)) return 1;
    return 0;
}

static void test_question_article_helped(void **st)
{
    (void)st;
    sb_th *th = boot();
    size_t before = sb_th_bot_action_count(th);
    assert_int_equal(say(th, SB_BOT_START, "cv-1", "как заблакировать карточку?", NULL), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), before + 2);
    const sb_th_bot_action *greet = last(th, 1), *menu = last(th, 0);
    assert_non_null(strstr(greet->text, "Здравствуйте"));
    assert_string_equal(button(menu, 0), "kb:a:card-block");
    assert_string_equal(menu->buttons[0].title, "Как заблокировать карту");
    assert_string_equal(button(menu, menu->n_buttons - 1), "kb:operator");
    assert_string_equal(menu->buttons[menu->n_buttons - 1].title, "Позвать оператора");
    assert_true(menu->n_buttons <= 4);

    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-1", NULL, "kb:a:card-block"), SB_OK);
    assert_non_null(strstr(last(th, 1)->text, "Заблокируйте карту"));
    const sb_th_bot_action *ask = last(th, 0);
    assert_string_equal(ask->text, "Помог ли ответ?");
    assert_int_equal(ask->n_buttons, 3);
    assert_string_equal(button(ask, 0), "kb:yes:card-block");
    assert_string_equal(button(ask, 1), "kb:no:card-block");
    assert_string_equal(button(ask, 2), "kb:operator");

    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-1", NULL, "kb:yes:card-block"), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(last(th, 0)->ask_rating, 1);
    assert_false(sb_th_conversation_held(th, "cv-1"));
    assert_int_equal(sb_th_metric(th, "helped"), 1);
    sb_th_free(th);
}

static void test_operator_button(void **st)
{
    (void)st;
    sb_th *th = boot();
    assert_int_equal(say(th, SB_BOT_START, "cv-2", NULL, NULL), SB_OK);
    assert_true(has_button(last(th, 0), "kb:operator"));
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-2", NULL, "kb:operator"), SB_OK);
    const sb_th_bot_action *h = last(th, 0);
    assert_int_equal(h->kind, SB_TH_BOT_HANDOFF);
    assert_null(h->group_id);
    assert_null(h->skill);
    assert_string_equal(h->reason, "Клиент попросил оператора.");
    assert_non_null(strstr(last(th, 1)->text, "оператору"));   /* the client is told */
    assert_false(sb_th_conversation_held(th, "cv-2"));
    sb_th_free(th);
}

static json_t *unanswered(sb_th *th)
{
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/api/v1/kb/faq/unanswered", NULL, 0,
                                              NULL, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    assert_non_null(json_object_get(j, "items"));
    return j;
}

static void test_no_match_then_handoff(void **st)
{
    (void)st;
    sb_th *th = boot();
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-3", "какая погода на марсе", NULL), SB_OK);
    const sb_th_bot_action *a = last(th, 0);
    assert_non_null(strstr(a->text, "не нашёл"));
    assert_int_equal(a->n_buttons, 1);
    assert_string_equal(button(a, 0), "kb:operator");
    assert_true(sb_th_conversation_held(th, "cv-3"));

    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-3", "купить слона недорого", NULL), SB_OK);
    a = last(th, 0);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_non_null(strstr(a->reason, "2 неудачных попыток"));
    assert_non_null(strstr(a->reason, "купить слона недорого"));
    assert_false(sb_th_conversation_held(th, "cv-3"));

    json_t *j = unanswered(th);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    json_t *newest = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(newest, "question")), "купить слона недорого");
    assert_string_equal(json_string_value(json_object_get(newest, "conversation_id")), "cv-3");
    assert_non_null(json_string_value(json_object_get(newest, "created_at")));
    json_decref(j);

    /* a page of one, then the next by cursor */
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/api/v1/kb/faq/unanswered?limit=1", NULL, 0, NULL, 0);
    j = json_loads(r->body, 0, NULL);
    const char *cur = json_string_value(json_object_get(j, "next_cursor"));
    assert_non_null(cur);
    char target[96];
    snprintf(target, sizeof target, "/api/v1/kb/faq/unanswered?limit=1&cursor=%s", cur);
    json_decref(j);
    r = sb_th_http_request(th, "GET", target, NULL, 0, NULL, 0);
    j = json_loads(r->body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "question")),
                        "какая погода на марсе");
    assert_true(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);
    sb_th_free(th);
}

/* a good answer resets the count; "did not help" counts as a failure */
static void test_failures_in_a_row(void **st)
{
    (void)st;
    sb_th *th = boot();
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", "фыва олдж", NULL), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", "перевести по номеру телефона", NULL), SB_OK);
    assert_string_equal(button(last(th, 0), 0), "kb:a:transfer-phone");
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", "фыва олдж", NULL), SB_OK);
    assert_true(sb_th_conversation_held(th, "cv-4"));
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", "перевести по номеру телефона", NULL), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", NULL, "kb:no:transfer-phone"), SB_OK);
    const sb_th_bot_action *a = last(th, 0);
    assert_non_null(strstr(a->text, "не помог"));
    assert_true(has_button(a, "kb:operator"));
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-4", "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_HANDOFF);

    /* "no" twice in a row hands off, naming the article */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-5", NULL, "kb:no:app-login"), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-5", NULL, "kb:no:app-login"), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_HANDOFF);
    assert_non_null(strstr(last(th, 0)->reason, "Не получается войти в приложение"));
    sb_th_free(th);
}

static void test_count_survives_restart(void **st)
{
    (void)st;
    sb_th *th = boot();
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-6", "фыва олдж", NULL), SB_OK);
    sb_th_advance(th, 1000);   /* the snapshot is saved */
    assert_non_null(sb_th_kv_peek(th, "conv", NULL));
    sb_th_stop(th);
    assert_int_equal(start(th), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-6", "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_HANDOFF);
    /* a count older than state_ttl is forgotten */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-7", "фыва олдж", NULL), SB_OK);
    sb_th_advance(th, 25 * 3600 * 1000ll);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-7", "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_REPLY);
    sb_th_free(th);
}

/* at most 4096 conversations keep a count: the oldest is evicted */
static void test_state_bounded(void **st)
{
    (void)st;
    sb_th *th = boot();
    char id[32];
    for (int i = 0; i <= 4096; i++) {
        snprintf(id, sizeof id, "many-%d", i);
        assert_int_equal(say(th, SB_BOT_MESSAGE, id, "фыва олдж", NULL), SB_OK);
        sb_th_advance(th, 1);
    }
    assert_int_equal(say(th, SB_BOT_MESSAGE, "many-0", "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_REPLY);   /* forgotten: a first failure */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "many-4096", "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_HANDOFF);
    /* a conversation id over 128 bytes keeps no count, and is still answered */
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    assert_int_equal(say(th, SB_BOT_MESSAGE, longid, "фыва олдж", NULL), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, longid, "фыва олдж", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_REPLY);
    sb_th_free(th);
}

static size_t unanswered_count(sb_th *th)
{
    json_t *j = unanswered(th);
    size_t n = json_array_size(json_object_get(j, "items"));
    json_decref(j);
    return n;
}

static void test_bad_input(void **st)
{
    (void)st;
    sb_th *th = boot();
    const char *nothing[] = {"", "   ", "🙂🙂🙂", "?!...", "<br/><p></p>", "&nbsp;"};
    for (size_t i = 0; i < sizeof nothing / sizeof *nothing; i++) {
        assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-8", nothing[i], NULL), SB_OK);
        assert_string_equal(last(th, 0)->text, "Пожалуйста, напишите ваш вопрос словами.");
        assert_true(has_button(last(th, 0), "kb:operator"));
    }
    /* a greeting typed with Latin look-alikes is a greeting, not a question */
    size_t before = sb_th_bot_action_count(th);
    assert_int_equal(say(th, SB_BOT_START, "cv-15", "пpивeт!", NULL), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), before + 1);
    assert_non_null(strstr(last(th, 0)->text, "Здравствуйте"));
    assert_true(has_button(last(th, 0), "kb:operator"));
    /* media only: no text at all */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-8", NULL, NULL), SB_OK);
    assert_string_equal(last(th, 0)->text, "Пожалуйста, напишите ваш вопрос словами.");
    assert_int_equal(unanswered_count(th), 0);
    assert_true(sb_th_conversation_held(th, "cv-8"));

    /* Latin look-alikes inside Russian words, HTML around a question */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-8", "кaк зaблoкировать кapту", NULL), SB_OK);
    assert_string_equal(button(last(th, 0), 0), "kb:a:card-block");
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-8", "<p>забыл <b>пароль</b>&nbsp;от приложения</p>", NULL), SB_OK);
    assert_string_equal(button(last(th, 0), 0), "kb:a:app-login");

    /* huge: answered, and logged cut on a character boundary */
    size_t n = 100000;
    char *huge = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) memcpy(huge + 2 * i, "ы", 2);
    huge[2 * n] = 0;
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-9", huge, NULL), SB_OK);
    free(huge);
    json_t *j = unanswered(th);
    const char *q = json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "question"));
    assert_non_null(q);
    assert_int_equal(strlen(q), 512);
    json_decref(j);

    /* invalid UTF-8 is searched as separators and never logged broken */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-10", "\xff\xfe карту \xc3", NULL), SB_OK);
    assert_int_equal(last(th, 0)->kind, SB_TH_BOT_REPLY);

    /* unknown buttons: the text decides; a stale article is gone */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-11", NULL, "kb:a:nope"), SB_OK);
    assert_non_null(strstr(last(th, 0)->text, "больше недоступна"));
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-11", "перевыпуск карты", "menu:7"), SB_OK);
    assert_string_equal(button(last(th, 0), 0), "kb:a:card-reissue");
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-11", NULL, "kb:a:../../etc"), SB_OK);
    assert_non_null(strstr(last(th, 0)->text, "больше недоступна"));
    sb_th_free(th);
}

static void test_host_failures(void **st)
{
    (void)st;
    sb_th *th = boot();
    /* a reply the core refuses is an error: the core hands off */
    sb_th_fail_next(th, "bot_reply", SB_ERR_IO);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-12", "перевыпуск карты", NULL), SB_ERR_IO);
    /* a conversation an operator took is no error of the bot */
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-13", "перевыпуск карты", NULL), SB_OK);
    sb_th_fail_next(th, "bot_reply", SB_ERR_STATE);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-13", NULL, "kb:a:card-reissue"), SB_OK);
    sb_th_free(th);
}

static void test_config(void **st)
{
    (void)st;
    static const struct { const char *key, *value, *error; } bad[] = {
        {NULL, NULL, "kb: required"},
        {"kb", "Bad Name", "kb: expected"},
        {"answers", "0", "answers: expected 1..10"},
        {"answers", "11", "answers: expected 1..10"},
        {"threshold", "abc", "threshold: expected a number"},
        {"threshold", "-1", "threshold: expected a number"},
        {"handoff_after", "-1", "handoff_after:"},
        {"state_ttl", "1s", "state_ttl: expected"},
        {"texts.helped", "", "texts.helped: expected"},
        {"texts.colour", "x", "texts.colour: unknown key"},
        {"import", "", "import: expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sb_th *th = sb_th_new("textbot", "main");
        if (bad[i].key) {
            sb_th_config_set(th, "kb", "faq");
            sb_th_config_set(th, bad[i].key, bad[i].value);
        }
        assert_int_not_equal(start(th), SB_OK);
        int found = 0;
        for (size_t k = 0; k < sb_th_config_error_count(th); k++)
            if (strstr(sb_th_config_error(th, k), bad[i].error)) found = 1;
        if (!found)
            fail_msg("%s=%s: no error \"%s\" (first: %s)", bad[i].key, bad[i].value, bad[i].error,
                     sb_th_config_error(th, 0));
        sb_th_free(th);
    }
}

static void test_config_texts_and_reload(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    sb_th_config_set(th, "answers", "1");
    sb_th_config_set(th, "handoff_after", "0");
    sb_th_config_set(th, "texts.greeting", "");
    sb_th_config_set(th, "texts.operator_button", "Оператор");
    assert_int_equal(start(th), SB_OK);
    load_kb(th);
    size_t before = sb_th_bot_action_count(th);
    assert_int_equal(say(th, SB_BOT_START, "cv-14", "карта", NULL), SB_OK);
    /* no greeting; one article and the operator */
    assert_int_equal(sb_th_bot_action_count(th), before + 1);
    assert_int_equal(last(th, 0)->n_buttons, 2);
    assert_string_equal(last(th, 0)->buttons[1].title, "Оператор");
    /* handoff_after 0: never automatic */
    for (int i = 0; i < 5; i++) assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-14", "фыва олдж", NULL), SB_OK);
    assert_true(sb_th_conversation_held(th, "cv-14"));

    sb_th_config_set(th, "texts.no_match", "Не знаю.");
    sb_th_config_set(th, "threshold", "1000");
    assert_int_equal(sb_th_reload(th), SB_OK);
    assert_int_equal(say(th, SB_BOT_MESSAGE, "cv-14", "перевыпуск карты", NULL), SB_OK);
    assert_string_equal(last(th, 0)->text, "Не знаю.");
    sb_th_config_set(th, "kb", "other");
    assert_int_not_equal(sb_th_reload(th), SB_OK);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_question_article_helped),
        cmocka_unit_test(test_operator_button),
        cmocka_unit_test(test_no_match_then_handoff),
        cmocka_unit_test(test_failures_in_a_row),
        cmocka_unit_test(test_count_survives_restart),
        cmocka_unit_test(test_state_bounded),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_host_failures),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_texts_and_reload),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
