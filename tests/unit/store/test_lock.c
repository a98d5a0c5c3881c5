/* Opening: one process per directory (flock), clear messages for a locked,
 * unwritable or unusable path, bad options refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"

static const char *const k_tables[] = {"kv"};

static sb_status try_open(const char *path, char *err, size_t errlen)
{
    sb_store *st;
    sb_store_options opt = {.path = path, .tables = k_tables, .n_tables = 1, .no_sync = true};
    sb_status s = sb_store_open(&st, &opt, err, errlen);
    if (s == SB_OK) sb_store_close(st);
    else assert_null(st);
    return s;
}

/* Runs try_open in a child process (as uid, unless -1); returns 0 when its
 * status and message are the expected ones. */
static int open_in_child(const char *path, int uid, sb_status want, const char *want_err)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (uid >= 0 && setuid((uid_t)uid) != 0) _exit(3);
        char err[512];
        sb_status s = try_open(path, err, sizeof err);
        if (s != want) _exit(1);
        if (want_err && strcmp(err, want_err) != 0) {
            fprintf(stderr, "got \"%s\"\nwant \"%s\"\n", err, want_err);
            _exit(2);
        }
        _exit(0);
    }
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst));
    return WEXITSTATUS(wst);
}

static void test_lock(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .tables = k_tables, .n_tables = 1, .no_sync = true};
    char err[512], want[512];
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_OK);
    assert_string_equal(err, "");
    assert_int_equal(sb_store_put(st, 0, "k", 1, "v", 1), SB_OK);

    /* Our pid is in the lock file. */
    FILE *f = fopen(tmp_sub(dir, "switchboard.lock"), "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    assert_int_equal(pid, (long)getpid());

    snprintf(want, sizeof want,
             "storage.path %s: locked by another running switchboard (pid %ld)", dir,
             (long)getpid());
    /* flock is per open file description: a second open in this process
     * conflicts too... */
    assert_int_equal(try_open(dir, err, sizeof err), SB_ERR_STATE);
    assert_string_equal(err, want);
    /* ...and its failure did not release our lock: another process is
     * still refused. */
    assert_int_equal(open_in_child(dir, -1, SB_ERR_STATE, want), 0);
    /* The first store is unharmed. */
    assert_int_equal(sb_store_flush(st), SB_OK);
    sb_store_close(st);

    /* Closed: the lock is free for another process, then for us. */
    assert_int_equal(open_in_child(dir, -1, SB_OK, NULL), 0);
    assert_int_equal(try_open(dir, err, sizeof err), SB_OK);
    tmp_remove(dir);
}

static void test_bad_paths(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(try_open("/dev/null/x", err, sizeof err), SB_ERR_IO);
    assert_string_equal(err, "storage.path /dev/null/x: cannot create directory: Not a directory");
    assert_int_equal(try_open("/nonexistent-sb-dir/a/b", err, sizeof err), SB_ERR_IO);
    assert_string_equal(err, "storage.path /nonexistent-sb-dir/a/b: cannot create directory: "
                             "No such file or directory");

    char *dir = tmp_make();
    char file[512];
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(try_open(file, err, sizeof err), SB_ERR_IO);
    assert_true(strstr(err, ": cannot create directory: Not a directory") != NULL);

    /* Only the last component is created. */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/new", dir);
    assert_int_equal(try_open(sub, err, sizeof err), SB_OK);

    /* A data file that is not LMDB: refused with a message, no crash. */
    f = fopen(tmp_sub(sub, "data.mdb"), "w");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++) fputs("garbage ", f);
    fclose(f);
    assert_int_equal(try_open(sub, err, sizeof err), SB_ERR_IO);
    char want[600];
    snprintf(want, sizeof want, "storage.path %s: cannot open database: ", sub);
    assert_memory_equal(err, want, strlen(want));

    /* Not writable. Root writes anywhere, so the check runs as nobody. */
    int uid = geteuid() == 0 ? 65534 : -1;
    assert_int_equal(chmod(dir, 0755), 0);
    char ro[512], msg[700];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    assert_int_equal(mkdir(ro, 0555), 0);
    snprintf(msg, sizeof msg, "storage.path %s: not writable: Permission denied", ro);
    assert_int_equal(open_in_child(ro, uid, SB_ERR_IO, msg), 0);
    snprintf(sub, sizeof sub, "%s/ro/x", dir);
    snprintf(msg, sizeof msg, "storage.path %s: not writable: Permission denied", sub);
    assert_int_equal(open_in_child(sub, uid, SB_ERR_IO, msg), 0);
    tmp_remove(dir);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    char err[256];
    sb_store_options opt = {.path = NULL};
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_ERR_INVALID);
    assert_string_equal(err, "storage.path: missing");
    assert_int_equal(sb_store_open(&st, NULL, NULL, 0), SB_ERR_INVALID);
    const char *reserved[] = {"ok", "_events"};
    opt = (sb_store_options){.path = dir, .tables = reserved, .n_tables = 2};
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_ERR_INVALID);
    assert_string_equal(err, "storage: table 1: name starting with '_' is reserved");
    const char *empty[] = {""};
    opt.tables = empty;
    opt.n_tables = 1;
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_ERR_INVALID);
    assert_string_equal(err, "storage: table 0: name empty");
    opt.n_tables = 1025;
    assert_int_equal(sb_store_open(&st, &opt, err, sizeof err), SB_ERR_INVALID);
    assert_string_equal(err, "storage: 1025 tables, at most 1024");
    opt.n_tables = 1;
    /* A tiny err buffer is truncated, never overrun. */
    char tiny[8];
    assert_int_equal(sb_store_open(&st, &opt, tiny, sizeof tiny), SB_ERR_INVALID);
    assert_string_equal(tiny, "storage");
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
