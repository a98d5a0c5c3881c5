/* Normalisation: what clients type becomes the tokens editors wrote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "search_internal.h"

/* Tokens joined by one space, with the script as a suffix when asked. */
static const char *norm(const char *s, bool script)
{
    static char out[8192];
    static tb_token tok[256];
    size_t n = tb_normalize(s, strlen(s), 2048, tok, 64);
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s%s", i ? " " : "", tok[i].text,
                              !script ? "" : tok[i].script == TB_SCRIPT_CYRILLIC ? "/c"
                                           : tok[i].script == TB_SCRIPT_LATIN ? "/l" : "/o");
    }
    return out;
}

static void test_case_and_yo(void **st)
{
    (void)st;
    assert_string_equal(norm("ПРИВЕТ Мир, Hello WORLD!", false), "привет мир hello world");
    assert_string_equal(norm("Ёлка, ещё, ЁЖ", false), "елка еще еж");
    /* й written as и + combining breve, and a soft hyphen inside a word */
    assert_string_equal(norm("мои\xcc\x86 пере\xc2\xadвод", false), "мой перевод");
    assert_string_equal(norm("карта№1 3DS-код 900", true), "карта/c 1/o 3ds/o код/c 900/o");
}

static void test_lookalikes(void **st)
{
    (void)st;
    /* Latin p and e inside a Russian word */
    assert_string_equal(norm("пpивeт", true), "привет/c");
    /* All-look-alike Latin letters in a Cyrillic word: majority decides */
    assert_string_equal(norm("кaрта", true), "карта/c");
    assert_string_equal(norm("СБEРБАНК", true), "сбербанк/c");
    /* Cyrillic о and с inside an English word */
    assert_string_equal(norm("visа cаrd", true), "visa/l card/l");
    assert_string_equal(norm("gооgle", true), "google/l");
    /* pure words are left alone */
    assert_string_equal(norm("мама papa", true), "мама/c papa/l");
}

static void test_html_and_symbols(void **st)
{
    (void)st;
    assert_string_equal(norm("<p>Как <b>перевести</b>&nbsp;деньги?</p><br/>", false),
                        "как перевести деньги");
    assert_string_equal(norm("<script type=\"x\">a</script>", false), "a");
    assert_string_equal(norm("3 < 5 & 6 > 2", false), "3 5 6 2");
    assert_string_equal(norm("карта 💳 не работает 😡!!!", false), "карта не работает");
    assert_string_equal(norm("😀😀🙏🏻 ❤️ ★ — …", false), "");
    assert_string_equal(norm("", false), "");
    /* invalid UTF-8 is a separator, never a crash */
    assert_string_equal(norm("ка\xff\xfeрта \xd0", false), "ка рта");
}

static void test_bounds(void **st)
{
    (void)st;
    size_t big = 1 << 20;
    char *s = malloc(big + 1);
    assert_non_null(s);
    for (size_t i = 0; i < big; i++) s[i] = "слово "[i % 11];
    s[big] = 0;
    tb_token tok[64];
    /* 2 KiB read at most, at most 64 tokens written */
    size_t n = tb_normalize(s, big, 2048, tok, 64);
    assert_true(n <= 64);
    assert_true(n > 0);
    n = tb_normalize(s, big, 2048, tok, 8);
    assert_int_equal(n, 8);
    /* one endless word is cut to TB_TOKEN_CHARS letters */
    memset(s, 'a', big);
    n = tb_normalize(s, big, 2048, tok, 64);
    assert_int_equal(n, 1);
    assert_int_equal(tok[0].len, TB_TOKEN_CHARS);
    /* cut in the middle of a 2-byte letter */
    n = tb_normalize("абв", 5, 5, tok, 64);
    assert_int_equal(n, 1);
    assert_string_equal(tok[0].text, "аб");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_and_yo),
        cmocka_unit_test(test_lookalikes),
        cmocka_unit_test(test_html_and_symbols),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
