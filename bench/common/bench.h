/* What the engine benchmarks share (header only: each bench is one C file
 * built by bench/build_with_core.sh): a monotonic clock, latency
 * percentiles, a seeded PRNG and an engine on a fresh store. */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "engine/engine.h"
#include "store/store.h"

static inline int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v (n > 0 nanosecond samples, each covering div operations) and
 * prints p50/p99/max per operation in microseconds. */
static inline void bench_report(const char *what, int64_t *v, size_t n, double div)
{
    qsort(v, n, sizeof *v, bench_cmp_i64);
    printf("%-58s n=%-7zu p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what, n,
           v[n / 2] / div / 1000.0, v[n * 99 / 100] / div / 1000.0, v[n - 1] / div / 1000.0);
}

/* xorshift64: a fixed seed in *s makes runs comparable. */
static inline uint64_t bench_rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Opens the engine's tables in dir without fsync (what is measured is the
 * engine, not the disk) and an engine on them. false, with the reason on
 * stderr, on failure. */
static inline bool bench_open(struct ev_loop *loop, const char *dir, size_t map_size,
                              sb_store **st, sb_engine **e)
{
    size_t nt;
    const char *const *names = sb_engine_table_names(&nt);
    sb_store_options so = {.path = dir, .map_size = map_size, .tables = names,
                           .n_tables = nt, .no_sync = true};
    char err[256];
    if (sb_store_open(st, &so, err, sizeof err) != SB_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return false;
    }
    *e = sb_engine_new(loop, *st, 0, NULL);
    if (!*e) fprintf(stderr, "bench: engine failed\n");
    return *e != NULL;
}

#endif
