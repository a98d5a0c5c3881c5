/* The index: BM25 order, field weights, typos, misspelling tags, empty
 * queries, delete and update, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "search_internal.h"

static const char *const kw_block[] = {"блокировка карты", "заблокировать"};
static const char *const kw_reissue[] = {"перевыпуск"};
static const char *const ms_reissue[] = {"перевыпустк", "пирвыпуск"};
static const char *const kw_limit[] = {"лимит", "ограничение"};
static const char *const kw_app[] = {"приложение", "вход"};

static const tb_article KB[] = {
    {"block", "Как заблокировать карту", "Заблокируйте карту в приложении или позвоните в банк. "
     "Блокировка карты бесплатна.", kw_block, 2, NULL, 0},
    {"reissue", "Перевыпуск карты", "Карту перевыпускают при истечении срока действия, "
     "потере или повреждении. Новая карта готова через пять дней.", kw_reissue, 1, ms_reissue, 2},
    {"limit", "Лимиты по карте", "Лимит на снятие наличных и переводы можно изменить "
     "в приложении.", kw_limit, 2, NULL, 0},
    {"app", "Не получается войти в мобильное приложение", "Проверьте пароль и обновите "
     "приложение. Если пароль забыт, восстановите доступ по номеру телефона.", kw_app, 2, NULL, 0},
    {"deposit", "Открытие вклада", "Вклад можно открыть онлайн. Проценты начисляются "
     "ежемесячно, пополнение вклада без ограничений.", NULL, 0, NULL, 0},
    {"transfer", "Переводы по номеру телефона", "Переводы через систему быстрых платежей "
     "по номеру телефона бесплатны до 100 000 рублей в месяц.", NULL, 0, NULL, 0},
};
#define NKB (sizeof KB / sizeof KB[0])

static int setup(void **st)
{
    tb_index *ix = tb_index_new(NULL);
    if (!ix) return -1;
    for (size_t i = 0; i < NKB; i++)
        if (tb_index_put(ix, &KB[i]) != SB_OK) return -1;
    *st = ix;
    return 0;
}

static int teardown(void **st)
{
    tb_index_free(*st);
    return 0;
}

static size_t search(tb_index *ix, const char *q, tb_result *r, size_t limit)
{
    size_t n = 99;
    assert_int_equal(tb_search(ix, q, limit, r, &n), SB_OK);
    return n;
}

static const char *top(tb_index *ix, const char *q)
{
    static tb_result r[5];
    size_t n = search(ix, q, r, 5);
    return n ? r[0].id : "";
}

static void test_ranking(void **st)
{
    tb_index *ix = *st;
    tb_result r[10];
    assert_string_equal(top(ix, "как заблокировать карточку? карту украли"), "block");
    assert_string_equal(top(ix, "ЛИМИТ НА СНЯТИЕ"), "limit");
    assert_string_equal(top(ix, "не могу войти в приложение"), "app");
    assert_string_equal(top(ix, "перевести деньги по номеру телефона"), "transfer");
    assert_string_equal(top(ix, "открыть вклад онлайн"), "deposit");
    /* more matching content ranks higher; results sorted, scores positive */
    size_t n = search(ix, "карта", r, 10);
    assert_true(n >= 3);
    for (size_t i = 1; i < n; i++) assert_true(r[i - 1].score >= r[i].score);
    assert_true(r[n - 1].score > 0);
    /* limit respected */
    assert_int_equal(search(ix, "карта", r, 2), 2);
}

static void test_field_weights(void **st)
{
    (void)st;
    static const char *const kw[] = {"кешбэк"};
    tb_article a[] = {
        {"in-body", "Бонусная программа", "Кешбэк начисляется раз в месяц.", NULL, 0, NULL, 0},
        {"in-keywords", "Бонусы за покупки", "Баллы начисляются раз в месяц.", kw, 1, NULL, 0},
        {"in-title", "Кешбэк", "Баллы начисляются раз в месяц.", NULL, 0, NULL, 0},
    };
    tb_index *ix = tb_index_new(NULL);
    assert_non_null(ix);
    for (size_t i = 0; i < 3; i++) assert_int_equal(tb_index_put(ix, &a[i]), SB_OK);
    tb_result r[3];
    assert_int_equal(search(ix, "кешбэк", r, 3), 3);
    assert_string_equal(r[0].id, "in-title");
    assert_string_equal(r[1].id, "in-keywords");
    assert_string_equal(r[2].id, "in-body");
    /* weights come from the config */
    tb_config c = {.struct_size = sizeof c, .w_title = 0.5, .w_keywords = 0.1, .w_body = 5};
    tb_index *ix2 = tb_index_new(&c);
    assert_non_null(ix2);
    for (size_t i = 0; i < 3; i++) assert_int_equal(tb_index_put(ix2, &a[i]), SB_OK);
    assert_int_equal(search(ix2, "кешбэк", r, 3), 3);
    assert_string_equal(r[0].id, "in-body");
    tb_index_free(ix2);
    tb_index_free(ix);
}

static void test_typos(void **st)
{
    tb_index *ix = *st;
    /* one typo in a short word, two in a long one */
    assert_string_equal(top(ix, "заблакировать"), "block");
    assert_string_equal(top(ix, "как заблакирывать"), "block");
    assert_string_equal(top(ix, "ежемесечно пополнение"), "deposit");
    assert_string_equal(top(ix, "приложенеи не работает"), "app");   /* transposition */
    assert_string_equal(top(ix, "пирвыпуск"), "reissue");            /* misspelling tag */
    assert_string_equal(top(ix, "ПЕРЕВЫПУСТК карты"), "reissue");
    /* a typo candidate ranks below the exact word */
    static const char *const none[] = {NULL};
    (void)none;
    tb_article a = {"x1", "Вклад", "", NULL, 0, NULL, 0};
    tb_article b = {"x2", "Вкалд", "", NULL, 0, NULL, 0};
    tb_index *i2 = tb_index_new(NULL);
    assert_int_equal(tb_index_put(i2, &a), SB_OK);
    assert_string_equal(top(i2, "вкалд"), "x1");          /* only via typo */
    assert_int_equal(tb_index_put(i2, &b), SB_OK);
    assert_string_equal(top(i2, "вкалд"), "x2");          /* exact word now exists */
    tb_index_free(i2);
    /* look-alikes and HTML in the query */
    assert_string_equal(top(ix, "<b>зaблoкирoвaть</b> кapту"), "block");
}

static void test_empty_queries(void **st)
{
    tb_index *ix = *st;
    tb_result r[5];
    assert_int_equal(search(ix, "", r, 5), 0);
    assert_int_equal(search(ix, "и в не что как", r, 5), 0);
    assert_int_equal(search(ix, "здравствуйте, подскажите пожалуйста!!!", r, 5), 0);
    assert_int_equal(search(ix, "😀🙏 ??? ...", r, 5), 0);
    assert_int_equal(search(ix, "абракадабра", r, 5), 0);
    assert_int_equal(search(ix, "карта", r, 0), 0);
    size_t n;
    assert_int_equal(tb_search(ix, NULL, 5, r, &n), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tb_search(NULL, "карта", 5, r, &n), SB_ERR_INVALID);
    /* a huge question is cut, not refused */
    size_t big = 1 << 20;
    char *q = malloc(big + 1);
    assert_non_null(q);
    for (size_t i = 0; i < big; i++) q[i] = "вклад "[i % 11];
    q[big] = 0;
    assert_true(search(ix, q, r, 5) > 0);
    assert_string_equal(r[0].id, "deposit");
    free(q);
}

static void test_delete_update(void **st)
{
    tb_index *ix = *st;
    tb_result r[10];
    tb_stats s0, s1;
    tb_index_stats(ix, &s0);
    assert_int_equal(s0.articles, NKB);
    assert_int_equal(tb_index_del(ix, "deposit"), SB_OK);
    assert_int_equal(tb_index_del(ix, "deposit"), SB_ERR_NOT_FOUND);
    assert_int_equal(search(ix, "вклад", r, 5), 0);
    assert_int_equal(search(ix, "вкалд", r, 5), 0);  /* dead terms give no candidates */
    tb_index_stats(ix, &s1);
    assert_int_equal(s1.articles, NKB - 1);
    assert_true(s1.postings < s0.postings);

    /* update: same id, new text; the old words no longer find it */
    tb_article a = KB[0];
    a.title = "Разблокировка карты";
    a.body = "Разблокировать карту можно в приложении.";
    a.keywords = NULL;
    a.n_keywords = 0;
    assert_int_equal(tb_index_put(ix, &a), SB_OK);
    tb_index_stats(ix, &s1);
    assert_int_equal(s1.articles, NKB - 1);
    assert_string_equal(top(ix, "разблокировка"), "block");
    size_t n = search(ix, "блокировка бесплатна", r, 10);
    for (size_t i = 0; i < n; i++) assert_string_not_equal(r[i].id, "block");

    /* re-add, and many updates reuse slots */
    assert_int_equal(tb_index_put(ix, &KB[4]), SB_OK);
    for (int i = 0; i < 2000; i++) assert_int_equal(tb_index_put(ix, &KB[i % NKB]), SB_OK);
    tb_index_stats(ix, &s1);
    assert_int_equal(s1.articles, NKB);
    assert_int_equal(s1.postings, s0.postings);
    assert_string_equal(top(ix, "открыть вклад"), "deposit");
}

static void test_bad_articles_and_limits(void **st)
{
    (void)st;
    tb_config c = {.struct_size = sizeof c, .max_articles = 2, .max_terms = 5};
    tb_index *ix = tb_index_new(&c);
    assert_non_null(ix);
    tb_article a = {"", "t", NULL, NULL, 0, NULL, 0};
    assert_int_equal(tb_index_put(ix, &a), SB_ERR_INVALID);
    a.id = NULL;
    assert_int_equal(tb_index_put(ix, &a), SB_ERR_INVALID);
    char longid[TB_ID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    a.id = longid;
    assert_int_equal(tb_index_put(ix, &a), SB_ERR_INVALID);
    a.id = "a";
    a.title = NULL;
    assert_int_equal(tb_index_put(ix, &a), SB_ERR_INVALID);
    tb_article x = {"1", "один два три четыре пять шесть семь", NULL, NULL, 0, NULL, 0};
    tb_article y = {"2", "восемь", NULL, NULL, 0, NULL, 0};
    tb_article z = {"3", "девять", NULL, NULL, 0, NULL, 0};
    assert_int_equal(tb_index_put(ix, &x), SB_OK);
    assert_int_equal(tb_index_put(ix, &y), SB_OK);
    assert_int_equal(tb_index_put(ix, &z), SB_ERR_FULL);
    assert_int_equal(tb_index_put(ix, &y), SB_OK);      /* update is not a new article */
    tb_stats s;
    tb_index_stats(ix, &s);
    assert_int_equal(s.terms, 5);
    assert_true(s.dropped_terms > 0);
    tb_index_free(ix);
}

static void test_json(void **st)
{
    tb_index *ix = *st;
    char *j = tb_search_json(ix, "заблокировать карту", 1);
    assert_non_null(j);
    assert_non_null(strstr(j, "{\"items\":[{\"id\":\"block\""));
    assert_non_null(strstr(j, "\"title\":\"Как заблокировать карту\""));
    assert_non_null(strstr(j, "\"score\":"));
    free(j);
    j = tb_search_json(ix, "😀", 5);
    assert_string_equal(j, "{\"items\":[]}");
    free(j);
}

/* what the bot asks before searching: is there anything to search for? */
static void test_query_terms_and_titles(void **st)
{
    tb_index *ix = *st;
    assert_int_equal(tb_query_terms(ix, "как заблокировать карту"), 2);
    assert_int_equal(tb_query_terms(ix, "фыва олдж"), 2);   /* words, if unknown ones */
    assert_int_equal(tb_query_terms(ix, "🙂🙂 ?!"), 0);
    assert_int_equal(tb_query_terms(ix, "<p>&nbsp;</p>"), 0);
    assert_int_equal(tb_query_terms(ix, "и в на"), 0);
    assert_int_equal(tb_query_terms(ix, ""), 0);
    assert_int_equal(tb_query_terms(ix, NULL), 0);
    assert_string_equal(tb_index_title(ix, "reissue"), "Перевыпуск карты");
    assert_null(tb_index_title(ix, "nope"));
    assert_null(tb_index_title(ix, NULL));
    assert_int_equal(tb_index_del(ix, "reissue"), SB_OK);
    assert_null(tb_index_title(ix, "reissue"));
}

static void test_many_articles(void **st)
{
    (void)st;
    /* 10k small articles: memory stays modest, queries touch postings only */
    tb_index *ix = tb_index_new(NULL);
    assert_non_null(ix);
    char id[32], title[128], body[256];
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "a%d", i);
        snprintf(title, sizeof title, "Статья номер %d про тему%d", i, i % 97);
        snprintf(body, sizeof body, "Текст статьи %d, слово%d и слово%d.", i, i % 13, i % 101);
        tb_article a = {id, title, body, NULL, 0, NULL, 0};
        assert_int_equal(tb_index_put(ix, &a), SB_OK);
    }
    tb_stats s;
    tb_index_stats(ix, &s);
    assert_int_equal(s.articles, 10000);
    assert_true(s.bytes < 32u << 20);
    tb_result r[5];
    size_t n;
    assert_int_equal(tb_search(ix, "номер 4242 тема75", 5, r, &n), SB_OK);
    assert_true(n > 0);
    assert_string_equal(r[0].id, "a4242");
    tb_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ranking, setup, teardown),
        cmocka_unit_test(test_field_weights),
        cmocka_unit_test_setup_teardown(test_typos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_update, setup, teardown),
        cmocka_unit_test(test_bad_articles_and_limits),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_terms_and_titles, setup, teardown),
        cmocka_unit_test(test_many_articles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
