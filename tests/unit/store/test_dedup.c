/* Dedup keys: the second sighting returns the first value; expired keys are
 * absent; expiry deletes through the expiry index, oldest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"

static sb_store *open_store(const char *dir)
{
    sb_store *st;
    sb_store_options opt = {.path = dir, .no_sync = true};
    assert_int_equal(sb_store_open(&st, &opt, NULL, 0), SB_OK);
    return st;
}

static void test_dedup(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st = open_store(dir);
    char out[32];
    size_t len = 99;
    const char *key = "telegram/bot1:update:1001";
    size_t klen = strlen(key);

    assert_int_equal(sb_store_dedup(st, key, klen, "msg-1", 5, 1000, 100, out, sizeof out, &len),
                     SB_OK);
    assert_int_equal(len, 0);
    /* Same batch: already there, with the first value. */
    assert_int_equal(sb_store_dedup(st, key, klen, "msg-2", 5, 1000, 200, out, sizeof out, &len),
                     SB_ERR_EXISTS);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "msg-1", 5);
    assert_int_equal(sb_store_flush(st), SB_OK);
    sb_store_close(st);

    /* After a commit and a restart. */
    st = open_store(dir);
    memset(out, 0, sizeof out);
    assert_int_equal(sb_store_dedup(st, key, klen, "msg-3", 5, 2000, 999, out, sizeof out, &len),
                     SB_ERR_EXISTS);
    assert_memory_equal(out, "msg-1", 5);
    /* A small buffer gets a prefix and the full length. */
    memset(out, 0, sizeof out);
    assert_int_equal(sb_store_dedup(st, key, klen, "x", 1, 2000, 999, out, 3, &len),
                     SB_ERR_EXISTS);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "msg\0", 4);
    assert_int_equal(sb_store_dedup(st, key, klen, "x", 1, 2000, 999, NULL, 0, NULL),
                     SB_ERR_EXISTS);

    /* At expires_at it is expired: stored anew with the new value. */
    assert_int_equal(sb_store_dedup(st, key, klen, "msg-4", 5, 3000, 1000, out, sizeof out, &len),
                     SB_OK);
    assert_int_equal(sb_store_dedup(st, key, klen, "msg-5", 5, 3000, 2999, out, sizeof out, &len),
                     SB_ERR_EXISTS);
    assert_memory_equal(out, "msg-4", 5);
    /* The old expiry's index entry went with the old value: expiring at
     * 2000 finds nothing, the key is still there. */
    assert_int_equal(sb_store_dedup_expire(st, 2000, 100), 0);
    assert_int_equal(sb_store_dedup(st, key, klen, "m", 1, 9000, 2000, NULL, 0, NULL),
                     SB_ERR_EXISTS);
    /* An empty value, and negative times, are fine. */
    assert_int_equal(sb_store_dedup(st, "e", 1, NULL, 0, -5, -10, out, sizeof out, &len), SB_OK);
    assert_int_equal(sb_store_dedup(st, "e", 1, "z", 1, -5, -6, out, sizeof out, &len),
                     SB_ERR_EXISTS);
    assert_int_equal(len, 0);

    unsigned char big[510] = {0};
    assert_int_equal(sb_store_dedup(st, big, 504, "v", 1, 1, 0, NULL, 0, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_store_dedup(st, big, 503, "v", 1, 1, 0, NULL, 0, NULL), SB_OK);
    assert_int_equal(sb_store_dedup(st, "", 0, "v", 1, 1, 0, NULL, 0, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_store_flush(st), SB_OK);
    sb_store_close(st);
    tmp_remove(dir);
}

static void test_expire(void **state)
{
    (void)state;
    char *dir = tmp_make();
    sb_store *st = open_store(dir);
    /* Key names in the opposite order of their expiry, so that key order
     * and expiry order differ: k00 expires last, k19 first. */
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        assert_int_equal(sb_store_dedup(st, key, 3, "v", 1, (int64_t)(100 * (20 - i)), 0,
                                        NULL, 0, NULL),
                         SB_OK);
    }
    assert_int_equal(sb_store_flush(st), SB_OK);

    /* At 1000, expires_at <= 1000 are expired: k10..k19 (1000 down to 100). */
    assert_int_equal(sb_store_dedup_expire(st, 1000, 3), 3); /* k19, k18, k17 */
    assert_int_equal(sb_store_flush(st), SB_OK);
    /* Deleted keys are new again; later ones are still known (as expired,
     * so the dedup call below at now=50 tells them apart). */
    assert_int_equal(sb_store_dedup(st, "k19", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_OK);
    assert_int_equal(sb_store_dedup(st, "k16", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_ERR_EXISTS);
    assert_int_equal(sb_store_flush(st), SB_OK);

    /* k16..k10: seven left at 1000 (k19 now expires at 5000). */
    assert_int_equal(sb_store_dedup_expire(st, 1000, 1000), 7);
    assert_int_equal(sb_store_dedup_expire(st, 1000, 1000), 0);
    assert_int_equal(sb_store_flush(st), SB_OK);
    assert_int_equal(sb_store_dedup(st, "k10", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_OK);
    assert_int_equal(sb_store_dedup(st, "k09", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_ERR_EXISTS);
    assert_int_equal(sb_store_dedup(st, "k19", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_ERR_EXISTS);
    /* More than one chunk (64) in one call, in the pending batch. */
    for (int i = 0; i < 150; i++) {
        snprintf(key, sizeof key, "m%03d", i);
        assert_int_equal(sb_store_dedup(st, key, 4, "v", 1, 1500, 0, NULL, 0, NULL), SB_OK);
    }
    assert_int_equal(sb_store_dedup_expire(st, 1499, 1000), 4); /* k09..k06 */
    /* 150 m-keys (1500) and k05..k00 (1500..2000). */
    assert_int_equal(sb_store_dedup_expire(st, 2000, 1000), 156);
    assert_int_equal(sb_store_dedup_expire(st, 4999, 1000), 0);
    assert_int_equal(sb_store_dedup_expire(st, 5000, 1000), 2); /* k19, k10 */
    assert_int_equal(sb_store_flush(st), SB_OK);
    sb_store_close(st);

    st = open_store(dir);
    assert_int_equal(sb_store_dedup_expire(st, INT64_MAX, 1000), 0);
    assert_int_equal(sb_store_dedup(st, "k05", 3, "n", 1, 5000, 50, NULL, 0, NULL), SB_OK);
    sb_store_close(st);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_expire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
