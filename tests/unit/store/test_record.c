/* Record codecs: round trip of every field type, older and newer records,
 * wrong types, and garbage that must be refused without a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/record.h"

static void test_round_trip(void **state)
{
    (void)state;
    static const char bin[] = {0, 1, 2, 0, (char)0xff};
    const char *arr[] = {"alpha", NULL, "", "gamma"};
    const char *mk[] = {"lang", "tz", "empty"};
    const char *mv[] = {"ru", "Europe/Moscow", NULL};
    sb_rec_writer w;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, 7, 18);
    sb_rec_str(&w, "hello");
    sb_rec_str(&w, NULL);
    sb_rec_str(&w, "");
    sb_rec_strn(&w, "abcdef", 3);
    sb_rec_u64(&w, UINT64_MAX);
    sb_rec_u64(&w, 0);
    sb_rec_i64(&w, INT64_MIN);
    sb_rec_i64(&w, -5);
    sb_rec_i64(&w, 1234567);
    sb_rec_bool(&w, true);
    sb_rec_bool(&w, false);
    sb_rec_double(&w, -2.5e300);
    sb_rec_bin(&w, bin, sizeof bin);
    sb_rec_bin(&w, NULL, 0);
    sb_rec_str_array(&w, arr, 4);
    sb_rec_str_array(&w, NULL, 0);
    sb_rec_map(&w, mk, mv, 3);
    sb_rec_nil(&w);
    const void *data;
    size_t len;
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    assert_true(len > 0);

    sb_rec_reader r;
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    assert_int_equal(sb_rec_version(&r), 7);
    size_t n;
    const char *s = sb_rec_next_str(&r, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "hello", 5);
    assert_null(sb_rec_next_str(&r, &n));
    assert_int_equal(n, 0);
    s = sb_rec_next_str(&r, &n);
    assert_non_null(s); /* empty is not nil */
    assert_int_equal(n, 0);
    s = sb_rec_next_str(&r, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_true(sb_rec_next_u64(&r, 1) == UINT64_MAX);
    assert_true(sb_rec_next_u64(&r, 1) == 0);
    assert_true(sb_rec_next_i64(&r, 0) == INT64_MIN);
    assert_true(sb_rec_next_i64(&r, 0) == -5);
    assert_true(sb_rec_next_i64(&r, 0) == 1234567);
    assert_true(sb_rec_next_bool(&r, false));
    assert_false(sb_rec_next_bool(&r, true));
    assert_true(sb_rec_next_double(&r, 0) == -2.5e300);
    const void *b = sb_rec_next_bin(&r, &n);
    assert_int_equal(n, sizeof bin);
    assert_memory_equal(b, bin, sizeof bin);
    assert_null(sb_rec_next_bin(&r, &n));
    const char *const *items;
    assert_int_equal(sb_rec_next_str_array(&r, &items, &n), SB_OK);
    assert_int_equal(n, 4);
    assert_string_equal(items[0], "alpha");
    assert_null(items[1]);
    assert_string_equal(items[2], "");
    assert_string_equal(items[3], "gamma");
    assert_int_equal(sb_rec_next_str_array(&r, &items, &n), SB_OK);
    assert_int_equal(n, 0);
    const char *const *keys, *const *vals;
    assert_int_equal(sb_rec_next_map(&r, &keys, &vals, &n), SB_OK);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0], "lang");
    assert_string_equal(vals[0], "ru");
    assert_string_equal(keys[1], "tz");
    assert_string_equal(vals[1], "Europe/Moscow");
    assert_string_equal(keys[2], "empty");
    assert_null(vals[2]);
    assert_int_equal(sb_rec_next_u64(&r, 99), 99); /* the nil field */
    /* Past the end: defaults. */
    assert_int_equal(sb_rec_next_u64(&r, 42), 42);
    assert_null(sb_rec_next_str(&r, &n));
    assert_int_equal(sb_rec_close(&r), SB_OK);

    /* The writer is reusable. */
    sb_rec_begin(&w, 1, 1);
    sb_rec_u64(&w, 5);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    assert_int_equal(sb_rec_next_u64(&r, 0), 5);
    assert_int_equal(sb_rec_close(&r), SB_OK);
    sb_rec_writer_free(&w);
}

/* A version-1 record (two fields) read by version-2 code (four fields),
 * and a version-3 record read by version-2 code. */
static void test_versions(void **state)
{
    (void)state;
    sb_rec_writer w;
    const void *data;
    size_t len, n;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, 1, 2);
    sb_rec_str(&w, "name");
    sb_rec_u64(&w, 10);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);

    sb_rec_reader r;
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    assert_int_equal(sb_rec_version(&r), 1);
    const char *s = sb_rec_next_str(&r, &n);
    assert_memory_equal(s, "name", 4);
    assert_int_equal(sb_rec_next_u64(&r, 0), 10);
    assert_true(sb_rec_next_bool(&r, true));          /* added in v2 */
    const char *const *items;
    assert_int_equal(sb_rec_next_str_array(&r, &items, &n), SB_OK);
    assert_int_equal(n, 0);
    assert_null(items);
    assert_true(sb_rec_next_double(&r, 1.5) == 1.5);
    assert_int_equal(sb_rec_close(&r), SB_OK);

    sb_rec_begin(&w, 3, 3);
    sb_rec_str(&w, "x");
    sb_rec_u64(&w, 1);
    sb_rec_str(&w, "field of v3");
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    sb_rec_skip(&r);
    assert_int_equal(sb_rec_next_u64(&r, 0), 1);
    assert_int_equal(sb_rec_close(&r), SB_OK); /* the extra field is ignored */
    sb_rec_writer_free(&w);
}

static void test_wrong_types(void **state)
{
    (void)state;
    const char *arr[] = {"a", "b"};
    sb_rec_writer w;
    const void *data;
    size_t len, n;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, 1, 5);
    sb_rec_str(&w, "not a number");
    sb_rec_str_array(&w, arr, 2);
    sb_rec_u64(&w, UINT64_MAX);
    sb_rec_i64(&w, -1);
    sb_rec_u64(&w, 77);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);

    sb_rec_reader r;
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    assert_int_equal(sb_rec_next_u64(&r, 3), 3);        /* a str */
    assert_null(sb_rec_next_str(&r, &n));               /* an array: skipped whole */
    assert_int_equal(sb_rec_next_i64(&r, 4), 4);        /* > INT64_MAX */
    assert_int_equal(sb_rec_next_u64(&r, 5), 5);        /* negative */
    assert_int_equal(sb_rec_next_u64(&r, 0), 77);       /* still in step */
    assert_int_equal(sb_rec_close(&r), SB_ERR_INVALID);

    /* Arrays and maps with items of the wrong type. */
    sb_rec_begin(&w, 1, 2);
    sb_rec_u64(&w, 1);
    sb_rec_str(&w, "after");
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    assert_int_equal(sb_rec_open(&r, data, len), SB_OK);
    const char *const *k, *const *v;
    assert_int_equal(sb_rec_next_map(&r, &k, &v, &n), SB_ERR_INVALID);
    assert_int_equal(n, 0);
    const char *s = sb_rec_next_str(&r, &n);
    assert_memory_equal(s, "after", 5);
    assert_int_equal(sb_rec_close(&r), SB_ERR_INVALID);

    /* [1, ["a", 5]] and [1, {nil: "x"}] built by hand. */
    static const unsigned char bad_arr[] = {0x92, 0x01, 0x92, 0xa1, 'a', 0x05};
    assert_int_equal(sb_rec_open(&r, bad_arr, sizeof bad_arr), SB_OK);
    assert_int_equal(sb_rec_next_str_array(&r, &k, &n), SB_ERR_INVALID);
    assert_int_equal(sb_rec_close(&r), SB_ERR_INVALID);
    static const unsigned char bad_map[] = {0x92, 0x01, 0x81, 0xc0, 0xa1, 'x'};
    assert_int_equal(sb_rec_open(&r, bad_map, sizeof bad_map), SB_OK);
    assert_int_equal(sb_rec_next_map(&r, &k, &v, &n), SB_ERR_INVALID);
    assert_int_equal(sb_rec_close(&r), SB_ERR_INVALID);
    sb_rec_writer_free(&w);
}

static void test_writer_errors(void **state)
{
    (void)state;
    sb_rec_writer w;
    const void *data;
    size_t len;
    sb_rec_writer_init(&w);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_STATE); /* no begin */
    sb_rec_begin(&w, 1, 2);
    sb_rec_u64(&w, 1);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_STATE); /* one short */
    assert_null(data);
    sb_rec_begin(&w, 1, 1);
    sb_rec_u64(&w, 1);
    sb_rec_u64(&w, 2);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_STATE); /* one too many */
    sb_rec_begin(&w, 0, 0);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_INVALID); /* version 0 */
    const char *k[] = {"a", NULL}, *v[] = {"1", "2"};
    sb_rec_begin(&w, 1, 1);
    sb_rec_map(&w, k, v, 2);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_INVALID);
    sb_rec_writer_reset(&w);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_STATE);
    sb_rec_begin(&w, 1, 0);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    sb_rec_writer_free(&w);
}

static void expect_invalid(const void *p, size_t n)
{
    sb_rec_reader r;
    assert_int_equal(sb_rec_open(&r, p, n), SB_ERR_INVALID);
    assert_int_equal(sb_rec_close(&r), SB_OK); /* harmless after a failed open */
}

static void test_garbage(void **state)
{
    (void)state;
    expect_invalid(NULL, 0);
    expect_invalid("", 0);
    static const unsigned char not_array[] = {0x81, 0x01, 0x02};
    expect_invalid(not_array, sizeof not_array);
    static const unsigned char empty_array[] = {0x90};
    expect_invalid(empty_array, sizeof empty_array);
    static const unsigned char v0[] = {0x91, 0x00};
    expect_invalid(v0, sizeof v0);
    static const unsigned char vneg[] = {0x91, 0xff};
    expect_invalid(vneg, sizeof vneg);
    static const unsigned char vstr[] = {0x91, 0xa1, '1'};
    expect_invalid(vstr, sizeof vstr);
    static const unsigned char vbig[] = {0x91, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0};
    expect_invalid(vbig, sizeof vbig);
    static const unsigned char trailing[] = {0x91, 0x01, 0x01};
    expect_invalid(trailing, sizeof trailing);
    static const unsigned char reserved[] = {0x92, 0x01, 0xc1};
    expect_invalid(reserved, sizeof reserved);
    /* Claims 2^32-1 elements in five bytes: refused, nothing allocated. */
    static const unsigned char huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    expect_invalid(huge, sizeof huge);
    static const unsigned char huge_str[] = {0x92, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    expect_invalid(huge_str, sizeof huge_str);
    static const unsigned char huge_ext[] = {0x92, 0x01, 0xc9, 0xff, 0xff, 0xff, 0xff, 1};
    expect_invalid(huge_ext, sizeof huge_ext);
    /* Nesting deeper than the limit. */
    unsigned char deep[80];
    deep[0] = 0x92;
    deep[1] = 0x01;
    for (int i = 2; i < 79; i++) deep[i] = 0x91;
    deep[79] = 0x01;
    expect_invalid(deep, sizeof deep);
    /* A valid record that holds an ext and a float32 is accepted. */
    static const unsigned char ext_ok[] = {0x93, 0x02, 0xd4, 0x01, 0x07, 0xca, 0x3f, 0xc0, 0, 0};
    sb_rec_reader r;
    assert_int_equal(sb_rec_open(&r, ext_ok, sizeof ext_ok), SB_OK);
    sb_rec_skip(&r);
    assert_true(sb_rec_next_double(&r, 0) == 1.5);
    assert_int_equal(sb_rec_close(&r), SB_OK);

    /* Every proper prefix of a real record is refused. */
    const char *arr[] = {"one", "two"};
    sb_rec_writer w;
    const void *data;
    size_t len;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, 300, 4);
    sb_rec_str(&w, "some text here");
    sb_rec_str_array(&w, arr, 2);
    sb_rec_double(&w, 3.25);
    sb_rec_i64(&w, -100000);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
        memcpy(copy, data, cut);
        expect_invalid(copy, cut);
        free(copy);
    }

    /* Random bytes and random corruptions of the record: whatever open
     * says, reading every field stays in bounds. */
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t n = round < 10000 ? 1 + (size_t)(rand_r(&seed) % 40) : len;
        unsigned char *buf = malloc(n);
        if (round < 10000) {
            for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)rand_r(&seed);
            buf[0] = (unsigned char)(0x90 | (rand_r(&seed) % 6)); /* often an array */
        } else {
            memcpy(buf, data, n);
            buf[(size_t)rand_r(&seed) % n] = (unsigned char)rand_r(&seed);
        }
        if (sb_rec_open(&r, buf, n) == SB_OK) {
            size_t sl;
            const char *const *it;
            const char *const *mk, *const *mv;
            sb_rec_next_str(&r, &sl);
            sb_rec_next_str_array(&r, &it, &sl);
            sb_rec_next_map(&r, &mk, &mv, &sl);
            sb_rec_next_double(&r, 0);
            sb_rec_next_i64(&r, 0);
            sb_rec_next_bin(&r, &sl);
            sb_rec_close(&r);
        }
        free(buf);
    }
    sb_rec_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
