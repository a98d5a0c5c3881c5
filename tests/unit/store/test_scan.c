/* Big-endian composite keys (conversation id || seq) sort numerically;
 * scans forward and reverse with bounds and limits, in the pending batch
 * and after the commit; reads and writes from inside a scan callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"

enum { T_MSGS, T_OTHER };
static const char *const k_tables[] = {"msgs", "other"};

/* Seqs chosen so that little-endian or text order would differ. */
static const uint64_t k_seqs[] = {1, 2, 9, 10, 255, 256, 1000, 65535, 65536, UINT64_C(1) << 40};
enum { N_SEQS = sizeof k_seqs / sizeof k_seqs[0] };

typedef struct seen {
    uint64_t conv[64], seq[64];
    size_t n;
    size_t stop_after; /* 0 = never stop */
    sb_store *st;
} seen;

static void key(unsigned char k[16], uint64_t conv, uint64_t seq)
{
    sb_key_put_u64(k, conv);
    sb_key_put_u64(k + 8, seq);
}

static int collect(void *ud, const void *k, size_t klen, const void *v, size_t vlen)
{
    seen *s = ud;
    assert_int_equal(klen, 16);
    assert_int_equal(vlen, 8);
    uint64_t seq = sb_key_get_u64((const unsigned char *)k + 8);
    assert_true(sb_key_get_u64(v) == seq); /* the value repeats the seq */
    s->conv[s->n] = sb_key_get_u64(k);
    s->seq[s->n++] = seq;
    return s->stop_after && s->n >= s->stop_after;
}

static long scan(sb_store *st, seen *s, uint64_t fc, uint64_t fs, uint64_t tc,
                 uint64_t ts, bool reverse, size_t limit)
{
    unsigned char from[16], to[16];
    key(from, fc, fs);
    key(to, tc, ts);
    s->n = 0;
    return sb_store_scan(st, T_MSGS, from, 16, to, 16, reverse, limit, collect, s);
}

static void check_ordering(sb_store *st)
{
    seen s = {.st = st};
    /* All of conversation 2, ascending. */
    assert_int_equal(scan(st, &s, 2, 0, 3, 0, false, 0), N_SEQS);
    for (size_t i = 0; i < N_SEQS; i++) {
        assert_int_equal(s.conv[i], 2);
        assert_true(s.seq[i] == k_seqs[i]);
    }
    /* Latest five of conversation 2, descending (a history page). */
    assert_int_equal(scan(st, &s, 2, 0, 3, 0, true, 5), 5);
    for (size_t i = 0; i < 5; i++) assert_true(s.seq[i] == k_seqs[N_SEQS - 1 - i]);
    /* [10, 65536): from inclusive, to exclusive. */
    assert_int_equal(scan(st, &s, 2, 10, 2, 65536, false, 0), 5);
    assert_true(s.seq[0] == 10 && s.seq[4] == 65535);
    /* Reverse over the same bounds: 65535 down to 10. */
    assert_int_equal(scan(st, &s, 2, 10, 2, 65536, true, 0), 5);
    assert_true(s.seq[0] == 65535 && s.seq[4] == 10);
    /* Bounds that are not keys. */
    assert_int_equal(scan(st, &s, 2, 3, 2, 11, false, 0), 2);
    assert_true(s.seq[0] == 9 && s.seq[1] == 10);
    assert_int_equal(scan(st, &s, 2, 3, 2, 11, true, 0), 2);
    assert_true(s.seq[0] == 10 && s.seq[1] == 9);
    /* Reverse from past the end of the table: the last conversation. */
    assert_int_equal(scan(st, &s, 3, 0, 99, 0, true, 1), 1);
    assert_true(s.conv[0] == 3 && s.seq[0] == (UINT64_C(1) << 40));
    /* Reverse down to the first key of the table. */
    assert_int_equal(scan(st, &s, 0, 0, 1, 2, true, 0), 1);
    assert_true(s.conv[0] == 1 && s.seq[0] == 1);
    /* Empty ranges. */
    assert_int_equal(scan(st, &s, 2, 11, 2, 255, false, 0), 0);
    assert_int_equal(scan(st, &s, 2, 11, 2, 255, true, 0), 0);
    assert_int_equal(scan(st, &s, 7, 0, 8, 0, false, 0), 0);
    /* Open ends: the whole table, both ways; the callback stops it. */
    s.n = 0;
    assert_int_equal(sb_store_scan(st, T_MSGS, NULL, 0, NULL, 0, false, 0, collect, &s),
                     3 * N_SEQS);
    assert_true(s.conv[0] == 1 && s.conv[3 * N_SEQS - 1] == 3);
    s.n = 0;
    s.stop_after = 4;
    assert_int_equal(sb_store_scan(st, T_MSGS, NULL, 0, NULL, 0, true, 0, collect, &s), 4);
    assert_true(s.conv[0] == 3 && s.seq[3] == k_seqs[N_SEQS - 4]);
    /* The other table is separate. */
    s.n = 0;
    s.stop_after = 0;
    assert_int_equal(sb_store_scan(st, T_OTHER, NULL, 0, NULL, 0, false, 0, collect, &s), 0);
}

static void test_ordering(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .map_size = 1 << 20, .tables = k_tables,
                            .n_tables = 2, .no_sync = true};
    char err[256];
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_OK);
    /* Inserted out of order. */
    for (int conv = 3; conv >= 1; conv--)
        for (size_t i = 0; i < N_SEQS; i++) {
            size_t j = (i * 7) % N_SEQS;
            unsigned char k[16], v[8];
            key(k, (uint64_t)conv, k_seqs[j]);
            sb_key_put_u64(v, k_seqs[j]);
            assert_int_equal(sb_store_put(st, T_MSGS, k, 16, v, 8), SB_OK);
        }
    check_ordering(st); /* inside the pending batch */
    assert_int_equal(sb_store_flush(st), SB_OK);
    check_ordering(st); /* in the read txn */
    sb_store_close(st);
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_OK);
    check_ordering(st); /* after reopening */
    sb_store_close(st);
    tmp_remove(dir);
}

typedef struct nested {
    sb_store *st;
    int gets_ok, writes_refused;
} nested;

static int nested_cb(void *ud, const void *k, size_t klen, const void *v, size_t vlen)
{
    nested *n = ud;
    char buf[8];
    size_t len;
    if (sb_store_get(n->st, T_MSGS, k, klen, buf, sizeof buf, &len) == SB_OK &&
        len == vlen)
        n->gets_ok++;
    if (sb_store_put(n->st, T_OTHER, k, klen, v, vlen) == SB_ERR_STATE &&
        sb_store_del(n->st, T_MSGS, k, klen) == SB_ERR_STATE &&
        sb_store_dedup(n->st, k, klen, v, vlen, 10, 0, NULL, 0, NULL) == SB_ERR_STATE &&
        sb_store_flush(n->st) == SB_ERR_STATE)
        n->writes_refused++;
    return 0;
}

static void test_callbacks_and_args(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .tables = k_tables, .n_tables = 2, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    for (uint64_t i = 1; i <= 5; i++) {
        unsigned char k[16], v[8];
        key(k, 1, i);
        sb_key_put_u64(v, i);
        assert_int_equal(sb_store_put(st, T_MSGS, k, 16, v, 8), SB_OK);
    }
    for (int round = 0; round < 2; round++) { /* pending, then committed */
        nested n = {.st = st};
        assert_int_equal(sb_store_scan(st, T_MSGS, NULL, 0, NULL, 0, false, 0, nested_cb, &n), 5);
        assert_int_equal(n.gets_ok, 5);
        assert_int_equal(n.writes_refused, 5);
        if (round == 0) assert_int_equal(sb_store_flush(st), SB_OK);
    }
    /* Writes work again after the scan. */
    assert_int_equal(sb_store_put(st, T_OTHER, "k", 1, "v", 1), SB_OK);

    seen s = {.st = st};
    unsigned char big[600] = {0};
    assert_int_equal(sb_store_scan(st, 2, NULL, 0, NULL, 0, false, 0, collect, &s), SB_ERR_INVALID);
    assert_int_equal(sb_store_scan(st, T_MSGS, big, sizeof big, NULL, 0, false, 0, collect, &s),
                     SB_ERR_INVALID);
    assert_int_equal(sb_store_scan(st, T_MSGS, NULL, 0, NULL, 0, false, 0, NULL, NULL),
                     SB_ERR_INVALID);
    sb_store_close(st);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_callbacks_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
