/* core/util: query strings and the worker pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ev.h>
#include <string.h>

#include "util/query.h"
#include "util/worker.h"

static void query_get(void **st)
{
    (void)st;
    char v[16];
    assert_int_equal(sb_query_get("a=1&token=x%20y+z&b", "token", v, sizeof v), 5);
    assert_string_equal(v, "x y z");
    assert_int_equal(sb_query_get("a=1&b", "b", v, sizeof v), 0);
    assert_int_equal(sb_query_get("a=1", "c", v, sizeof v), -1);
    assert_int_equal(sb_query_get("", "a", v, sizeof v), -1);
    assert_int_equal(sb_query_get("a=%zz", "a", v, sizeof v), -2);
    assert_int_equal(sb_query_get("a=%4", "a", v, sizeof v), -2);
    assert_int_equal(sb_query_get("a=0123456789abcdefXYZ", "a", v, sizeof v), -2);
    assert_int_equal(sb_query_get("ab=1&a=2", "a", v, sizeof v), 1);
    assert_string_equal(v, "2");
    assert_int_equal(sb_url_decode("%D0%AF", 6, v, sizeof v, 0), 2);
    assert_string_equal(v, "Я");
}

static int g_done, g_cancelled;

static void square(void *ud) { *(long *)ud *= *(long *)ud; }

static void done(void *ud, int cancelled)
{
    (void)ud;
    g_done++;
    g_cancelled += cancelled;
}

static void workers_run_and_come_back(void **st)
{
    (void)st;
    struct ev_loop *loop = ev_loop_new(0);
    sb_workers *w = sb_workers_new(loop, 2);
    assert_non_null(w);
    long v[50];
    g_done = g_cancelled = 0;
    for (int i = 0; i < 50; i++) {
        v[i] = i;
        assert_int_equal(sb_workers_submit(w, square, done, &v[i]), SB_OK);
    }
    for (int spins = 0; g_done < 50 && spins < 10000; spins++) ev_run(loop, EVRUN_ONCE);
    assert_int_equal(g_done, 50);
    for (int i = 0; i < 50; i++) assert_int_equal(v[i], (long)i * i);
    sb_workers_free(w);
    assert_int_equal(g_cancelled, 0);
    assert_null(sb_workers_new(loop, 0));
    ev_loop_destroy(loop);
}

static void workers_bounded_and_cancelled(void **st)
{
    (void)st;
    struct ev_loop *loop = ev_loop_new(0);
    sb_workers *w = sb_workers_new(loop, 1);
    static long v[SB_WORKERS_MAX_QUEUE + 1];
    g_done = g_cancelled = 0;
    int accepted = 0;
    for (int i = 0; i <= SB_WORKERS_MAX_QUEUE; i++)
        if (sb_workers_submit(w, square, done, &v[i]) == SB_OK) accepted++;
    assert_int_equal(accepted, SB_WORKERS_MAX_QUEUE);
    /* Freed without running the loop: every accepted job reports once. */
    sb_workers_free(w);
    assert_int_equal(g_done, SB_WORKERS_MAX_QUEUE);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_get),
        cmocka_unit_test(workers_run_and_come_back),
        cmocka_unit_test(workers_bounded_and_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
