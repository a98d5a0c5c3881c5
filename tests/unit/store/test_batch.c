/* Group commit: pending writes visible in-process, invisible to another
 * process until the flush; callbacks after the commit, in order; callbacks
 * that write; the read API; stats; close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/store.h"
#include "store_test.h"

enum { T_KV };
static const char *const k_tables[] = {"kv"};

/* ---- another process reading with plain LMDB ---------------------------- */

/* Child: for every byte on cmd, opens the environment afresh, looks up
 * "kv"/key and answers '1' (present) or '0' (absent), 'e' on error. */
static void reader_child(const char *dir, int cmd, int ans)
{
    char c;
    while (read(cmd, &c, 1) == 1) {
        char out = 'e';
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        if (mdb_env_create(&env) == 0) {
            mdb_env_set_maxdbs(env, 8);
            if (mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0 &&
                mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
                MDB_val k = {3, "key"}, v;
                if (mdb_dbi_open(txn, "kv", 0, &dbi) == 0) {
                    int rc = mdb_get(txn, dbi, &k, &v);
                    out = rc == 0 ? '1' : rc == MDB_NOTFOUND ? '0' : 'e';
                }
                mdb_txn_abort(txn);
            }
            mdb_env_close(env);
        }
        if (write(ans, &out, 1) != 1) break;
    }
    _exit(0);
}

static char ask(int cmd, int ans)
{
    char c = 'r';
    assert_int_equal(write(cmd, &c, 1), 1);
    assert_int_equal(read(ans, &c, 1), 1);
    return c;
}

typedef struct calls {
    int order[16];
    sb_status status[16];
    int n;
    sb_store *st;
    bool seen_by_reader; /* the value is readable when the callback runs */
} calls;

typedef struct call_arg {
    calls *c;
    int id;
} call_arg;

static void record_cb(void *ud, sb_status s)
{
    call_arg *a = ud;
    char buf[16];
    size_t len;
    a->c->order[a->c->n] = a->id;
    a->c->status[a->c->n++] = s;
    a->c->seen_by_reader = sb_store_get(a->c->st, T_KV, "key", 3, buf, sizeof buf, &len) == SB_OK;
}

static void test_visibility(void **state)
{
    (void)state;
    char *dir = tmp_make();
    int cmd[2], ans[2];
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(ans), 0);
    sb_store *st;
    sb_store_options opt = {.path = dir, .map_size = 1 << 20, .tables = k_tables, .n_tables = 1};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    /* Forked after open: the child never touches our env, it opens its own. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(cmd[1]);
        close(ans[0]);
        reader_child(dir, cmd[0], ans[1]);
    }
    close(cmd[0]);
    close(ans[1]);

    assert_int_equal(ask(cmd[1], ans[0]), '0');
    calls c = {.st = st};
    call_arg a1 = {&c, 1}, a2 = {&c, 2}, a3 = {&c, 3};
    assert_false(sb_store_pending(st));
    assert_int_equal(sb_store_on_commit(st, record_cb, &a1), SB_OK);
    assert_int_equal(sb_store_put(st, T_KV, "key", 3, "v1", 2), SB_OK);
    assert_int_equal(sb_store_on_commit(st, record_cb, &a2), SB_OK);
    assert_int_equal(sb_store_put(st, T_KV, "key", 3, "value", 5), SB_OK);
    assert_int_equal(sb_store_on_commit(st, record_cb, &a3), SB_OK);
    assert_true(sb_store_pending(st));

    /* Visible here, in the batch... */
    char buf[16];
    size_t len;
    assert_int_equal(sb_store_get(st, T_KV, "key", 3, buf, sizeof buf, &len), SB_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "value", 5);
    /* ...not to another process, and no callback has run. */
    assert_int_equal(ask(cmd[1], ans[0]), '0');
    assert_int_equal(c.n, 0);

    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(c.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.order[i], i + 1);
        assert_int_equal(c.status[i], SB_OK);
    }
    assert_true(c.seen_by_reader);
    assert_false(sb_store_pending(st));
    assert_int_equal(ask(cmd[1], ans[0]), '1');

    /* A delete is invisible outside until its flush too. */
    assert_int_equal(sb_store_del(st, T_KV, "key", 3), SB_OK);
    assert_int_equal(sb_store_get(st, T_KV, "key", 3, buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    assert_int_equal(ask(cmd[1], ans[0]), '1');
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(ask(cmd[1], ans[0]), '0');

    close(cmd[1]);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    close(ans[0]);
    sb_store_close(st);
    tmp_remove(dir);
}

/* ---- callbacks that write ----------------------------------------------- */

typedef struct chain {
    sb_store *st;
    int runs;          /* callbacks run so far */
    int max_runs;      /* keep chaining until this many */
    sb_status last;
    sb_status flush_inside;
} chain;

static void chain_cb(void *ud, sb_status s)
{
    chain *c = ud;
    c->runs++;
    c->last = s;
    c->flush_inside = sb_store_flush(c->st);
    if (s != SB_OK || c->runs >= c->max_runs) return;
    unsigned char k[8];
    sb_key_put_u64(k, (uint64_t)c->runs);
    assert_int_equal(sb_store_put(c->st, T_KV, k, 8, "x", 1), SB_OK);
    assert_int_equal(sb_store_on_commit(c->st, chain_cb, c), SB_OK);
}

static void test_callbacks_write(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .tables = k_tables, .n_tables = 1, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);

    /* A callback with nothing pending still runs at the next flush. */
    chain c = {.st = st, .max_runs = 1};
    assert_int_equal(sb_store_on_commit(st, chain_cb, &c), SB_OK);
    assert_true(sb_store_pending(st));
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(c.runs, 1);
    assert_int_equal(c.last, SB_OK);
    assert_int_equal(c.flush_inside, SB_ERR_STATE);

    /* Three chained batches: one flush commits them all (rounds). */
    c = (chain){.st = st, .max_runs = 3};
    assert_int_equal(sb_store_put(st, T_KV, "first", 5, "1", 1), SB_OK);
    assert_int_equal(sb_store_on_commit(st, chain_cb, &c), SB_OK);
    sb_store_stats s0, s1;
    sb_store_get_stats(st, &s0);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(c.runs, 3);
    assert_int_equal(c.last, SB_OK);
    assert_false(sb_store_pending(st));
    sb_store_get_stats(st, &s1);
    assert_int_equal(s1.commits - s0.commits, 3);
    assert_int_equal(s1.last_batch_writes, 1);
    assert_int_equal(s1.total_writes - s0.total_writes, 3);

    /* An endless chain: flush stops after its rounds, the rest waits. */
    c = (chain){.st = st, .max_runs = 1000};
    assert_int_equal(sb_store_on_commit(st, chain_cb, &c), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(c.runs, 4);
    assert_true(sb_store_pending(st));
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(c.runs, 8);
    /* Close flushes its rounds, then cancels what is still pending: the
     * last callback hears SB_ERR_CANCELLED and cannot chain further. */
    sb_store_close(st);
    assert_int_equal(c.runs, 13);
    assert_int_equal(c.last, SB_ERR_CANCELLED);

    /* What close committed is there, what it cancelled is not. */
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    unsigned char k[8];
    char buf[4];
    size_t len;
    sb_key_put_u64(k, 11);
    assert_int_equal(sb_store_get(st, T_KV, k, 8, buf, sizeof buf, &len), SB_OK);
    sb_key_put_u64(k, 12);
    assert_int_equal(sb_store_get(st, T_KV, k, 8, buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    sb_store_close(st);
    tmp_remove(dir);
}

/* ---- the read and write API --------------------------------------------- */

static void test_api(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .tables = k_tables, .n_tables = 1, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);

    char buf[8];
    size_t len;
    void *p;
    assert_int_equal(sb_store_put(st, T_KV, "a", 1, "0123456789", 10), SB_OK);
    assert_int_equal(sb_store_put(st, T_KV, "empty", 5, NULL, 0), SB_OK);
    for (int round = 0; round < 2; round++) { /* pending, then committed */
        assert_int_equal(sb_store_get(st, T_KV, "a", 1, buf, sizeof buf, &len), SB_ERR_TOO_BIG);
        assert_int_equal(len, 10);
        assert_int_equal(sb_store_get_alloc(st, T_KV, "a", 1, &p, &len), SB_OK);
        assert_int_equal(len, 10);
        assert_memory_equal(p, "0123456789", 10);
        free(p);
        assert_int_equal(sb_store_get(st, T_KV, "empty", 5, NULL, 0, &len), SB_OK);
        assert_int_equal(len, 0);
        assert_int_equal(sb_store_get_alloc(st, T_KV, "empty", 5, &p, &len), SB_OK);
        assert_non_null(p);
        assert_int_equal(len, 0);
        free(p);
        assert_int_equal(sb_store_get(st, T_KV, "b", 1, buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
        assert_int_equal(sb_store_get_alloc(st, T_KV, "b", 1, &p, &len), SB_ERR_NOT_FOUND);
        assert_null(p);
        if (round == 0) assert_int_equal(sb_store_flush(st), SB_OK);
    }
    /* Deleting an absent key changes nothing and is said so. */
    assert_int_equal(sb_store_del(st, T_KV, "b", 1), SB_ERR_NOT_FOUND);
    assert_false(sb_store_pending(st));
    assert_int_equal(sb_store_flush(st), SB_OK);

    /* Bad arguments. */
    unsigned char big[512] = {0};
    assert_int_equal(sb_store_put(st, 1, "a", 1, "v", 1), SB_ERR_INVALID);
    assert_int_equal(sb_store_put(st, T_KV, "", 0, "v", 1), SB_ERR_INVALID);
    assert_int_equal(sb_store_put(st, T_KV, big, sizeof big, "v", 1), SB_ERR_INVALID);
    assert_int_equal(sb_store_put(st, T_KV, big, 511, "v", 1), SB_OK); /* LMDB's max */
    assert_int_equal(sb_store_put(st, T_KV, "a", 1, NULL, 3), SB_ERR_INVALID);
    assert_int_equal(sb_store_get(st, 5, "a", 1, buf, sizeof buf, &len), SB_ERR_INVALID);
    assert_int_equal(sb_store_del(st, T_KV, NULL, 1), SB_ERR_INVALID);
    assert_int_equal(sb_store_on_commit(st, NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_store_flush(st), SB_OK);

    /* Stats: one commit per non-empty batch; the histogram is cumulative. */
    sb_store_stats s;
    sb_store_get_stats(st, &s);
    assert_int_equal(s.commits, 2);
    assert_int_equal(s.total_writes, 3);
    assert_int_equal(s.commit_failures, 0);
    assert_int_equal(s.commit_hist[10] + s.commit_hist[11], s.commits);
    for (int i = 1; i < 11; i++) assert_true(s.commit_hist[i] >= s.commit_hist[i - 1]);
    assert_true(s.commit_seconds_sum > 0);
    assert_true(s.map_size >= (64u << 20)); /* the default */
    assert_int_equal(s.map_grows, 0);
    sb_store_close(st);
    sb_store_close(NULL);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_callbacks_write),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
