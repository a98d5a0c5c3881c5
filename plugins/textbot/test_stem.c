/* Stemming and stop words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "search_internal.h"

static tb_stemmer *S;

static const char *term(const char *word)
{
    static char out[TB_TOKEN_BYTES];
    tb_token t;
    size_t n = tb_normalize(word, strlen(word), 2048, &t, 1);
    assert_int_equal(n, 1);
    size_t len = tb_token_term(S, &t, out, sizeof out);
    out[len] = 0;
    return out;
}

static void test_russian_inflections(void **st)
{
    (void)st;
    char a[TB_TOKEN_BYTES];
    snprintf(a, sizeof a, "%s", term("карта"));
    assert_string_equal(term("карту"), a);
    assert_string_equal(term("карты"), a);
    assert_string_equal(term("картой"), a);
    assert_string_equal(term("КАРТОЙ"), a);
    snprintf(a, sizeof a, "%s", term("перевод"));
    assert_string_equal(term("переводы"), a);
    assert_string_equal(term("переводом"), a);
    /* ё and е stem alike */
    assert_string_equal(term("счёт"), term("счет"));
}

static void test_english_and_other(void **st)
{
    (void)st;
    assert_string_equal(term("payments"), "payment");
    assert_string_equal(term("Cards"), "card");
    /* digits and mixed tokens are kept as they are */
    assert_string_equal(term("3ds"), "3ds");
    assert_string_equal(term("900"), "900");
}

static void test_stop_words(void **st)
{
    (void)st;
    const char *stops[] = {"и", "в", "не", "что", "как", "Здравствуйте", "подскажите",
                           "пожалуйста", "the", "And", "её", "ещё"};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        assert_string_equal(term(stops[i]), "");
    assert_string_not_equal(term("банк"), "");
    assert_string_not_equal(term("bank"), "");
}

int main(void)
{
    S = tb_stemmer_new();
    if (!S) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_russian_inflections),
        cmocka_unit_test(test_english_and_other),
        cmocka_unit_test(test_stop_words),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tb_stemmer_free(S);
    return rc;
}
