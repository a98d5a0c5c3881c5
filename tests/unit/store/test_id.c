/* Ids: monotonic and unique, node bits in place, time in the top bits,
 * decimal text round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "store/store.h"

enum { N_IDS = 100000 };

static void test_monotonic_unique(void **state)
{
    (void)state;
    assert_int_equal(sb_id_init(5), SB_OK);
    uint64_t prev = sb_id_next();
    int full_ms = 0; /* milliseconds whose 4096 counter values ran out */
    /* Ids come far faster than 4096 per ms, so the counter runs out within
     * a millisecond many times: strictly rising means unique, across those
     * roll-overs too. */
    for (int i = 1; i < N_IDS; i++) {
        uint64_t id = sb_id_next();
        assert_true(id > prev);
        assert_int_equal((id >> 12) & 0x3ff, 5);
        if ((prev & 0xfff) == 0xfff) {
            assert_int_equal(id & 0xfff, 0);
            assert_true((id >> 22) > (prev >> 22));
            full_ms++;
        }
        prev = id;
    }
    assert_true(full_ms > 0);
    assert_int_equal(prev >> 63, 0);
}

static void test_time_bits(void **state)
{
    (void)state;
    assert_int_equal(sb_id_init(1023), SB_OK);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uint64_t id = sb_id_next();
    int64_t ms = (int64_t)(id >> 22) + INT64_C(1704067200000);
    /* Earlier tests may have borrowed a few ms ahead of the clock. */
    assert_true(ms >= now - 5 && ms <= now + 1000);
    assert_int_equal((id >> 12) & 0x3ff, 1023);
    assert_int_equal(sb_id_init(1024), SB_ERR_INVALID);
    assert_int_equal((sb_id_next() >> 12) & 0x3ff, 1023); /* unchanged */
}

static void test_string(void **state)
{
    (void)state;
    char buf[21];
    assert_string_equal(sb_id_str(0, buf), "0");
    assert_string_equal(sb_id_str(UINT64_MAX, buf), "18446744073709551615");
    assert_true(sb_id_parse("18446744073709551615") == UINT64_MAX);
    for (int i = 0; i < 1000; i++) {
        uint64_t id = sb_id_next();
        char expect[32];
        snprintf(expect, sizeof expect, "%llu", (unsigned long long)id);
        assert_string_equal(sb_id_str(id, buf), expect);
        assert_true(sb_id_parse(buf) == id);
    }
    assert_true(sb_id_parse("42") == 42);
    assert_true(sb_id_parse("") == 0);
    assert_true(sb_id_parse(NULL) == 0);
    assert_true(sb_id_parse("12a") == 0);
    assert_true(sb_id_parse("-1") == 0);
    assert_true(sb_id_parse(" 1") == 0);
    assert_true(sb_id_parse("18446744073709551616") == 0);
    assert_true(sb_id_parse("99999999999999999999") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_unique),
        cmocka_unit_test(test_time_bits),
        cmocka_unit_test(test_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
