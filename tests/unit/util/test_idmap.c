/* core/util/idmap: the u64 -> u64 map behind request, WebSocket, operator and
 * message ids. Deletion shifts probe runs back instead of leaving tombstones,
 * so the tests churn enough keys to wrap and shift runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/idmap.h"

static void basics(void **st)
{
    (void)st;
    sb_idmap m = {0};
    uint64_t v = 7;
    assert_false(sb_idmap_get(&m, 1, &v)); /* empty, no table yet */
    assert_false(sb_idmap_del(&m, 1));
    assert_int_equal(sb_idmap_put(&m, 0, 1), SB_ERR_INVALID);
    assert_int_equal(sb_idmap_put(&m, 5, 50), SB_OK);
    assert_true(sb_idmap_get(&m, 5, &v));
    assert_int_equal(v, 50);
    assert_true(sb_idmap_get(&m, 5, NULL));
    assert_false(sb_idmap_get(&m, 0, &v));
    assert_int_equal(sb_idmap_put(&m, 5, 51), SB_OK); /* replaces */
    assert_int_equal(m.n, 1);
    assert_true(sb_idmap_get(&m, 5, &v));
    assert_int_equal(v, 51);
    assert_true(sb_idmap_del(&m, 5));
    assert_false(sb_idmap_del(&m, 5));
    assert_false(sb_idmap_get(&m, 5, &v));
    assert_int_equal(m.n, 0);
    sb_idmap_free(&m);
    assert_null(m.slots);
    assert_int_equal(sb_idmap_put(&m, 9, 90), SB_OK); /* usable after free */
    sb_idmap_free(&m);
}

/* Grows through several sizes, deletes every third key (each delete shifts
 * its run), then checks every key against a plain array. */
static void churn(void **st)
{
    (void)st;
    enum { N = 5000 };
    static uint64_t want[N + 1];
    sb_idmap m = {0};
    for (uint64_t k = 1; k <= N; k++) {
        assert_int_equal(sb_idmap_put(&m, k * 64, k ^ 0xabcdef), SB_OK);
        want[k] = k ^ 0xabcdef;
    }
    assert_int_equal(m.n, N);
    assert_true(m.n * 4 <= m.cap * 3);
    for (uint64_t k = 3; k <= N; k += 3) {
        assert_true(sb_idmap_del(&m, k * 64));
        want[k] = 0;
    }
    for (uint64_t k = 1; k <= N; k++) {
        uint64_t v = 0;
        bool in = sb_idmap_get(&m, k * 64, &v);
        assert_int_equal(in, want[k] != 0);
        if (in) assert_int_equal(v, want[k]);
    }
    /* The walk sees each remaining entry once, with its value. */
    size_t seen = 0, pos = 0;
    uint64_t wk, wv;
    while (sb_idmap_next(&m, &pos, &wk, &wv)) {
        assert_true(wk % 64 == 0 && wk / 64 >= 1 && wk / 64 <= N);
        assert_int_equal(wv, want[wk / 64]);
        want[wk / 64] = 0; /* a second visit would fail the line above */
        seen++;
    }
    assert_int_equal(seen, m.n);
    /* Re-adding into the holes keeps every run reachable. */
    for (uint64_t k = 3; k <= N; k += 3) assert_int_equal(sb_idmap_put(&m, k * 64, k), SB_OK);
    assert_int_equal(m.n, N);
    for (uint64_t k = 1; k <= N; k++) {
        uint64_t v;
        assert_true(sb_idmap_get(&m, k * 64, &v));
        assert_int_equal(v, k % 3 ? (k ^ 0xabcdef) : k);
    }
    sb_idmap_free(&m);
}

/* Deleting the whole map in insertion order, then in reverse, leaves it
 * empty with no key still found: a wrong shift would strand or lose keys. */
static void delete_all(void **st)
{
    (void)st;
    sb_idmap m = {0};
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t k = 1; k <= 1000; k++) assert_int_equal(sb_idmap_put(&m, k, k), SB_OK);
        for (uint64_t i = 1; i <= 1000; i++) {
            uint64_t k = pass ? 1001 - i : i;
            assert_true(sb_idmap_del(&m, k));
            if (k > 1 && k < 1000) assert_true(sb_idmap_get(&m, pass ? k - 1 : k + 1, NULL));
        }
        assert_int_equal(m.n, 0);
        for (uint64_t k = 1; k <= 1000; k++) assert_false(sb_idmap_get(&m, k, NULL));
    }
    sb_idmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
        cmocka_unit_test(churn),
        cmocka_unit_test(delete_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
