/* Allocation failure: this executable interposes realloc (the journal, the
 * callback list and the record writer all grow with it) and makes it fail
 * on demand. A write that cannot be journaled is refused and leaves the
 * batch as it was; nothing crashes; the store goes on. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/record.h"
#include "store/store.h"
#include "store_test.h"

static bool g_fail_realloc;
static void *(*g_real_realloc)(void *, size_t);

void *realloc(void *p, size_t n)
{
    if (g_fail_realloc) return NULL;
    if (!g_real_realloc) g_real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    return g_real_realloc(p, n);
}

enum { T_KV };
static const char *const k_tables[] = {"kv"};

static void status_cb(void *ud, sb_status s) { *(sb_status *)ud = s; }

static void test_store_nomem(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st;
    sb_store_options opt = {.path = dir, .tables = k_tables, .n_tables = 1, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);

    /* The very first callback and write need memory for their lists. */
    sb_status cb = SB_ERR_STATE;
    g_fail_realloc = true;
    assert_int_equal(sb_store_on_commit(st, status_cb, &cb), SB_ERR_NOMEM);
    assert_int_equal(sb_store_put(st, T_KV, "a", 1, "1", 1), SB_ERR_NOMEM);
    g_fail_realloc = false;
    assert_int_equal(sb_store_put(st, T_KV, "a", 1, "1", 1), SB_OK);
    assert_int_equal(sb_store_on_commit(st, status_cb, &cb), SB_OK);

    /* A value bigger than the journal holds: refused, the batch keeps "a". */
    size_t big = 256 << 10;
    char *v = calloc(1, big);
    assert_non_null(v);
    g_fail_realloc = true;
    assert_int_equal(sb_store_put(st, T_KV, "b", 1, v, big), SB_ERR_NOMEM);
    assert_int_equal(sb_store_log_append(st, v, big, NULL), SB_ERR_NOMEM);
    /* dedup's record cannot be built either. */
    assert_int_equal(sb_store_dedup(st, "d", 1, v, big, 10, 0, NULL, 0, NULL), SB_ERR_NOMEM);
    g_fail_realloc = false;
    char buf[4];
    size_t len;
    assert_int_equal(sb_store_get(st, T_KV, "b", 1, buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(cb, SB_OK);
    assert_true(sb_store_log_last(st) == 0);
    assert_int_equal(sb_store_get(st, T_KV, "a", 1, buf, sizeof buf, &len), SB_OK);
    assert_int_equal(sb_store_get(st, T_KV, "b", 1, buf, sizeof buf, &len), SB_ERR_NOT_FOUND);

    /* With memory back, the same writes go through. */
    assert_int_equal(sb_store_put(st, T_KV, "b", 1, v, big), SB_OK);
    assert_int_equal(sb_store_dedup(st, "d", 1, v, big, 10, 0, NULL, 0, NULL), SB_OK);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(sb_store_get(st, T_KV, "b", 1, NULL, 0, &len), SB_ERR_TOO_BIG);
    assert_int_equal(len, big);
    free(v);
    sb_store_close(st);
    tmp_remove(dir);
}

static void test_record_nomem(void **state)
{
    (void)state;
    sb_rec_writer w;
    const void *data;
    size_t len;
    sb_rec_writer_init(&w);
    g_fail_realloc = true;
    sb_rec_begin(&w, 1, 2);
    sb_rec_str(&w, "x");
    sb_rec_u64(&w, 1);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_ERR_NOMEM);
    assert_null(data);
    g_fail_realloc = false;
    sb_rec_begin(&w, 1, 2);
    sb_rec_str(&w, "x");
    sb_rec_u64(&w, 1);
    assert_int_equal(sb_rec_end(&w, &data, &len), SB_OK);
    sb_rec_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_nomem),
        cmocka_unit_test(test_record_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
