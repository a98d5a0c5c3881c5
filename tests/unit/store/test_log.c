/* The event log: sequence numbers 1, 2, 3 ... across batches and reopen;
 * reading from a remembered position, with a limit, pending included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"

typedef struct got {
    uint64_t seq[64];
    char rec[64][16];
    size_t n;
    size_t stop_after;
} got;

static int collect(void *ud, uint64_t seq, const void *rec, size_t len)
{
    got *g = ud;
    assert_true(len < sizeof g->rec[0]);
    g->seq[g->n] = seq;
    memcpy(g->rec[g->n], rec, len);
    g->rec[g->n++][len] = '\0';
    return g->stop_after && g->n >= g->stop_after;
}

static void append(sb_store *st, uint64_t expect)
{
    char rec[16];
    int n = snprintf(rec, sizeof rec, "event %llu", (unsigned long long)expect);
    uint64_t seq = 0;
    assert_int_equal(sb_store_log_append(st, rec, (size_t)n, &seq), SB_OK);
    assert_true(seq == expect);
}

static void test_log(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .no_sync = true}; /* no user tables */
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    assert_true(sb_store_log_last(st) == 0);
    got g = {0};
    assert_int_equal(sb_store_log_read(st, 0, 0, collect, &g), 0);

    for (uint64_t i = 1; i <= 10; i++) append(st, i);
    assert_true(sb_store_log_last(st) == 10);
    /* Pending records are readable. */
    assert_int_equal(sb_store_log_read(st, 4, 3, collect, &g), 3);
    assert_true(g.seq[0] == 4 && g.seq[2] == 6);
    assert_string_equal(g.rec[1], "event 5");
    assert_int_equal(sb_store_flush(st), SB_OK);
    for (uint64_t i = 11; i <= 12; i++) append(st, i);
    assert_int_equal(sb_store_flush(st), SB_OK);
    sb_store_close(st);

    /* The sequence survives a reopen and goes on from there. */
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    assert_true(sb_store_log_last(st) == 12);
    append(st, 13);
    append(st, 14);
    assert_int_equal(sb_store_flush(st), SB_OK);

    /* A reader that remembered it had seen 7 resumes at 8. */
    g.n = 0;
    assert_int_equal(sb_store_log_read(st, 8, 0, collect, &g), 7);
    for (size_t i = 0; i < g.n; i++) {
        char expect[16];
        snprintf(expect, sizeof expect, "event %zu", i + 8);
        assert_true(g.seq[i] == i + 8);
        assert_string_equal(g.rec[i], expect);
    }
    /* Everything from 0 or 1 alike; the callback may stop early. */
    g.n = 0;
    g.stop_after = 2;
    assert_int_equal(sb_store_log_read(st, 0, 0, collect, &g), 2);
    assert_true(g.seq[0] == 1 && g.seq[1] == 2);
    g.n = 0;
    g.stop_after = 0;
    assert_int_equal(sb_store_log_read(st, 15, 0, collect, &g), 0);
    assert_int_equal(sb_store_log_read(st, 1, 0, NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_store_log_append(st, NULL, 4, NULL), SB_ERR_INVALID);
    /* An empty record is fine, and seq may be NULL. */
    assert_int_equal(sb_store_log_append(st, NULL, 0, NULL), SB_OK);
    assert_true(sb_store_log_last(st) == 15);
    sb_store_close(st);

    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    assert_true(sb_store_log_last(st) == 15);
    sb_store_close(st);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
