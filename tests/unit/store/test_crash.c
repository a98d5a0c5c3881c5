/* Crash consistency: a child writes batches (records with checksums, a
 * "last batch" marker, a log record) and reports each batch from its commit
 * callback; the parent kills it with SIGKILL at an arbitrary moment, reopens
 * and checks that every reported batch is there whole, that nothing present
 * is torn, and that batches are all-or-nothing. Several rounds, each going
 * on from where the last one stopped (and growing the map on the way). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test.h"
#include "util/log.h"

enum { T_REC, T_META };
static const char *const k_tables[] = {"rec", "meta"};
enum { PER_BATCH = 5, MAX_PAYLOAD = 3000 };
static const int k_round_ms[] = {150, 320, 220, 400, 180, 280};
enum { ROUNDS = sizeof k_round_ms / sizeof k_round_ms[0] };

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

static size_t payload_len(uint64_t batch, uint32_t j)
{
    return 1 + (size_t)((batch * 2654435761u + j * 40503u) % MAX_PAYLOAD);
}

static const sb_store_options *options(const char *dir)
{
    static sb_store_options opt;
    opt = (sb_store_options){.path = dir, .map_size = 256 << 10, .max_map_size = 256 << 20,
                             .tables = k_tables, .n_tables = 2};
    return &opt;
}

/* value = batch(8) j(4) plen(4) payload(plen) fnv(8) */
static size_t make_value(unsigned char *v, uint64_t batch, uint32_t j)
{
    size_t plen = payload_len(batch, j);
    sb_key_put_u64(v, batch);
    sb_key_put_u32(v + 8, j);
    sb_key_put_u32(v + 12, (uint32_t)plen);
    for (size_t i = 0; i < plen; i++) v[16 + i] = (unsigned char)(batch * 13 + j * 7 + i);
    sb_key_put_u64(v + 16 + plen, fnv(v, 16 + plen));
    return 24 + plen;
}

/* ---- the child ---------------------------------------------------------- */

typedef struct ack {
    int fd;
    uint64_t batch;
} ack;

static void ack_cb(void *ud, sb_status s)
{
    ack *a = ud;
    unsigned char b[8];
    if (s != SB_OK) _exit(4);
    sb_key_put_u64(b, a->batch);
    if (write(a->fd, b, 8) != 8) _exit(6);
}

static void writer_child(const char *dir, int fd)
{
    sb_log_set_level(SB_LOG_WARN);
    sb_store *st;
    if (sb_store_open(&st, options(dir), NULL, 0) != SB_OK) _exit(2);
    unsigned char k[12], v[24 + MAX_PAYLOAD], last[8];
    size_t len;
    uint64_t batch = 0;
    if (sb_store_get(st, T_META, "last", 4, last, 8, &len) == SB_OK) batch = sb_key_get_u64(last);
    ack a = {fd, 0};
    for (;;) {
        batch++;
        for (uint32_t j = 0; j < PER_BATCH; j++) {
            sb_key_put_u64(k, batch);
            sb_key_put_u32(k + 8, j);
            size_t vlen = make_value(v, batch, j);
            if (sb_store_put(st, T_REC, k, 12, v, vlen) != SB_OK) _exit(3);
        }
        sb_key_put_u64(last, batch);
        unsigned char rec[16];
        sb_key_put_u64(rec, batch);
        sb_key_put_u64(rec + 8, fnv(rec, 8));
        if (sb_store_put(st, T_META, "last", 4, last, 8) != SB_OK ||
            sb_store_log_append(st, rec, 16, NULL) != SB_OK)
            _exit(3);
        a.batch = batch;
        if (sb_store_on_commit(st, ack_cb, &a) != SB_OK) _exit(3);
        if (sb_store_flush(st) != SB_OK) _exit(5);
    }
}

/* ---- the parent's checks ------------------------------------------------ */

typedef struct census {
    uint64_t last;
    unsigned *count; /* records per batch, [1..last] */
    size_t bad;
} census;

static int count_rec(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    census *c = ud;
    const unsigned char *k = key, *v = val;
    if (klen != 12 || vlen < 24) { c->bad++; return 0; }
    uint64_t batch = sb_key_get_u64(v);
    uint32_t j = sb_key_get_u32(v + 8);
    size_t plen = sb_key_get_u32(v + 12);
    if (vlen != 24 + plen || plen != payload_len(batch, j) ||
        sb_key_get_u64(v + 16 + plen) != fnv(v, 16 + plen) ||
        memcmp(k, v, 12) != 0 || batch == 0 || batch > c->last) {
        c->bad++;
        return 0;
    }
    c->count[batch]++;
    return 0;
}

static int check_log(void *ud, uint64_t seq, const void *rec, size_t len)
{
    size_t *bad = ud;
    const unsigned char *r = rec;
    /* One append per batch: seq is the batch number. */
    if (len != 16 || sb_key_get_u64(r) != seq || sb_key_get_u64(r + 8) != fnv(r, 8)) (*bad)++;
    return 0;
}

/* Returns the last committed batch; asserts it holds everything acked. */
static uint64_t verify(const char *dir, uint64_t acked)
{
    sb_store *st;
    char err[256];
    assert_int_equal(sb_store_open(&st, options(dir), err, sizeof err), SB_OK);
    unsigned char last[8];
    size_t len;
    census c = {0};
    if (sb_store_get(st, T_META, "last", 4, last, 8, &len) == SB_OK) c.last = sb_key_get_u64(last);
    assert_true(c.last >= acked);
    c.count = calloc(c.last + 1, sizeof *c.count);
    assert_non_null(c.count);
    long n = sb_store_scan(st, T_REC, NULL, 0, NULL, 0, false, 0, count_rec, &c);
    assert_int_equal(c.bad, 0);
    assert_int_equal(n, (long)(c.last * PER_BATCH));
    for (uint64_t b = 1; b <= c.last; b++) assert_int_equal(c.count[b], PER_BATCH);
    size_t bad = 0;
    assert_true(sb_store_log_last(st) == c.last);
    assert_int_equal(sb_store_log_read(st, 1, 0, check_log, &bad), (long)c.last);
    assert_int_equal(bad, 0);
    free(c.count);
    sb_store_close(st);
    return c.last;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads 8-byte acks until the deadline (or EOF when deadline < 0); each
 * must be the next batch. */
static void read_acks(int fd, int64_t deadline, uint64_t *acked, unsigned char *carry,
                      size_t *ncarry)
{
    for (;;) {
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) return;
            wait_ms = (int)left;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR) continue;
        assert_true(r >= 0);
        if (r == 0) continue;
        ssize_t got = read(fd, carry + *ncarry, 4096 - *ncarry);
        if (got < 0 && errno == EINTR) continue;
        assert_true(got >= 0);
        if (got == 0) return; /* EOF: the child is gone */
        *ncarry += (size_t)got;
        size_t off = 0;
        for (; *ncarry - off >= 8; off += 8) {
            uint64_t b = sb_key_get_u64(carry + off);
            assert_true(b == *acked + 1);
            *acked = b;
        }
        memmove(carry, carry + off, *ncarry - off);
        *ncarry -= off;
    }
}

static void test_kill9(void **state)
{
    (void)state;
    char *dir = tmp_make();
    uint64_t committed = 0; /* last batch found on disk */
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            writer_child(dir, p[1]);
        }
        close(p[1]);
        uint64_t acked = committed;
        unsigned char carry[4096];
        size_t ncarry = 0;
        read_acks(p[0], now_ms() + k_round_ms[round], &acked, carry, &ncarry);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int wst;
        assert_int_equal(waitpid(pid, &wst, 0), pid);
        if (!WIFSIGNALED(wst)) fail_msg("writer exited with %d", WEXITSTATUS(wst));
        read_acks(p[0], -1, &acked, carry, &ncarry); /* acks sent before the kill */
        close(p[0]);
        assert_true(acked > committed); /* the round made progress */
        committed = verify(dir, acked);
    }
    /* The map had to grow from 256 KiB on the way: it kept its size. */
    sb_store *st;
    assert_int_equal(sb_store_open(&st, options(dir), NULL, 0), SB_OK);
    sb_store_stats s;
    sb_store_get_stats(st, &s);
    assert_true(s.map_size > (256u << 10));
    sb_store_close(st);
    tmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
