/* MDB_MAP_FULL: a batch bigger than the map grows it and commits whole;
 * when the map may not grow, the batch fails cleanly with SB_ERR_FULL and
 * the store goes on. The same for a full disk. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"

enum { T_BLOBS };
static const char *const k_tables[] = {"blobs"};
enum { BLOB = 4096, N_BLOBS = 256 }; /* 1 MiB in one batch */

static void fill(unsigned char *v, uint32_t i)
{
    for (size_t j = 0; j < BLOB; j++) v[j] = (unsigned char)(i * 31 + j * 7);
}

static bool blob_ok(sb_store *st, uint32_t i)
{
    unsigned char k[4], want[BLOB], got[BLOB];
    size_t len;
    sb_key_put_u32(k, i);
    fill(want, i);
    return sb_store_get(st, T_BLOBS, k, 4, got, sizeof got, &len) == SB_OK && len == BLOB &&
           memcmp(got, want, BLOB) == 0;
}

/* Stages blob i (key = i, big endian) in the open batch and, when log and
 * the put went in, its key in the store's log (a second write). Returns the
 * put's status. */
static sb_status put_blob(sb_store *st, uint32_t i, bool log)
{
    unsigned char k[4], v[BLOB];
    sb_key_put_u32(k, i);
    fill(v, i);
    sb_status s = sb_store_put(st, T_BLOBS, k, 4, v, BLOB);
    if (s == SB_OK && log) assert_int_equal(sb_store_log_append(st, k, 4, NULL), SB_OK);
    return s;
}

static void status_cb(void *ud, sb_status s) { *(sb_status *)ud = s; }

static void test_grow(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .map_size = 64 << 10, .max_map_size = 8 << 20,
                            .tables = k_tables, .n_tables = 1, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    /* Something committed, and the read txn used (reset) before the remap. */
    assert_int_equal(put_blob(st, 0, false), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_true(blob_ok(st, 0));

    sb_status cb = SB_ERR_STATE;
    assert_int_equal(sb_store_on_commit(st, status_cb, &cb), SB_OK);
    for (uint32_t i = 1; i <= N_BLOBS; i++) assert_int_equal(put_blob(st, i, true), SB_OK);
    assert_true(blob_ok(st, 1) && blob_ok(st, N_BLOBS)); /* in the batch */
    assert_int_equal(cb, SB_ERR_STATE);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(cb, SB_OK);

    sb_store_stats s;
    sb_store_get_stats(st, &s);
    assert_true(s.map_grows >= 4); /* 64 KiB -> at least 1 MiB */
    assert_true(s.map_size >= (1u << 20) && s.map_size <= (8u << 20));
    assert_int_equal(s.commit_failures, 0);
    assert_int_equal(s.last_batch_writes, 2 * N_BLOBS);
    for (uint32_t i = 0; i <= N_BLOBS; i++) assert_true(blob_ok(st, i));
    assert_true(sb_store_log_last(st) == N_BLOBS);
    uint64_t grown = s.map_size;
    sb_store_close(st);

    /* All of it survived, and the grown size is kept on reopen (not
     * shrunk back to the configured 64 KiB, to grow again). */
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    for (uint32_t i = 0; i <= N_BLOBS; i++) assert_true(blob_ok(st, i));
    sb_store_get_stats(st, &s);
    assert_true(s.map_size == grown);
    assert_true(sb_store_log_last(st) == N_BLOBS);
    sb_store_close(st);
    tmp_remove(dir);
}

static void test_cannot_grow(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .map_size = 64 << 10, .max_map_size = 64 << 10,
                            .tables = k_tables, .n_tables = 1, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    assert_int_equal(put_blob(st, 0, false), SB_OK);
    assert_int_equal(sb_store_log_append(st, "committed", 9, NULL), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);

    sb_status before = SB_ERR_STATE, after = SB_ERR_STATE;
    assert_int_equal(sb_store_on_commit(st, status_cb, &before), SB_OK);
    uint32_t i;
    sb_status ps = SB_OK;
    for (i = 1; i <= N_BLOBS && ps == SB_OK; i++) ps = put_blob(st, i, true);
    assert_int_equal(ps, SB_ERR_FULL);
    assert_true(i >= 3 && i < N_BLOBS); /* some went in before the map filled */
    /* The batch is failed: every write says so, the log is rewound, its
     * writes are gone, committed data is still readable. */
    assert_int_equal(sb_store_put(st, T_BLOBS, "x", 1, "y", 1), SB_ERR_FULL);
    assert_int_equal(sb_store_log_append(st, "x", 1, NULL), SB_ERR_FULL);
    assert_int_equal(sb_store_dedup(st, "d", 1, "v", 1, 10, 0, NULL, 0, NULL), SB_ERR_FULL);
    assert_true(sb_store_log_last(st) == 1);
    assert_true(blob_ok(st, 0));
    assert_false(blob_ok(st, 1));
    assert_true(sb_store_pending(st));
    assert_int_equal(sb_store_on_commit(st, status_cb, &after), SB_OK);
    assert_int_equal(before, SB_ERR_STATE); /* nothing reported before the flush */

    assert_int_equal(sb_store_flush(st), SB_ERR_FULL);
    assert_int_equal(before, SB_ERR_FULL);
    assert_int_equal(after, SB_ERR_FULL);
    assert_false(sb_store_pending(st));
    sb_store_stats s;
    sb_store_get_stats(st, &s);
    assert_int_equal(s.commit_failures, 1);
    assert_int_equal(s.map_grows, 0);

    /* Usable afterwards: a small batch commits. */
    sb_status small = SB_ERR_STATE;
    assert_int_equal(sb_store_put(st, T_BLOBS, "small", 5, "ok", 2), SB_OK);
    uint64_t seq = 0;
    assert_int_equal(sb_store_log_append(st, "after", 5, &seq), SB_OK);
    assert_true(seq == 2);
    assert_int_equal(sb_store_on_commit(st, status_cb, &small), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(small, SB_OK);
    sb_store_close(st);

    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    char buf[4];
    size_t len;
    assert_int_equal(sb_store_get(st, T_BLOBS, "small", 5, buf, sizeof buf, &len), SB_OK);
    assert_memory_equal(buf, "ok", 2);
    assert_true(blob_ok(st, 0));
    assert_false(blob_ok(st, 1));
    assert_true(sb_store_log_last(st) == 2);
    sb_store_close(st);
    tmp_remove(dir);
}

/* A full disk, played by a file size limit in a child (writes past it fail
 * with EFBIG instead of killing the process): the big batch fails at its
 * commit, the store stays usable and consistent. Returns the child's code. */
static int disk_full_child(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {256 << 10, 256 << 10};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 9;
    sb_store *st;
    sb_store_options opt = {.path = dir, .map_size = 8 << 20, .tables = k_tables,
                            .n_tables = 1, .no_sync = true};
    if (sb_store_open(&st, &opt, NULL, 0) != SB_OK) return 10;
    if (put_blob(st, 0, false) != SB_OK || sb_store_flush(st) != SB_OK)
        return 11;
    sb_status cb = SB_OK;
    if (sb_store_on_commit(st, status_cb, &cb) != SB_OK) return 12;
    for (uint32_t i = 1; i <= N_BLOBS; i++) /* 1 MiB: past the limit */
        if (put_blob(st, i, false) != SB_OK) return 13;
    /* A short write is EIO to LMDB, a refused one EFBIG (full). */
    sb_status fs = sb_store_flush(st);
    if ((fs != SB_ERR_FULL && fs != SB_ERR_IO) || cb != fs) return 14;
    if (sb_store_put(st, T_BLOBS, "after", 5, "ok", 2) != SB_OK || sb_store_flush(st) != SB_OK)
        return 15;
    sb_store_close(st);
    if (sb_store_open(&st, &opt, NULL, 0) != SB_OK) return 16;
    char buf[4];
    size_t len;
    bool ok = blob_ok(st, 0) && !blob_ok(st, 1) &&
              sb_store_get(st, T_BLOBS, "after", 5, buf, sizeof buf, &len) == SB_OK;
    sb_store_close(st);
    return ok ? 0 : 17;
}

static void test_disk_full(void **state)
{
    (void)state;
    char *dir = tmp_make();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(disk_full_child(dir));
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    assert_int_equal(WEXITSTATUS(wst), 0);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_cannot_grow),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
