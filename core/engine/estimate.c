#include "engine/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Wait estimates. A group learns its average handle time (assignment to
 * close) and its inter-arrival time as moving averages (the plain mean for
 * the first 10 samples, then EWMA with alpha 0.1), stored per group so that
 * they survive a restart. The servers are the group's slots: the sum of
 * the online members' limits (chats are handled several at once).
 *   - enough history (20 samples of each): Erlang C. Offered traffic
 *     A = AHT / inter-arrival; when A < N the mean wait of an arrival is
 *     ASA = C(N, A) * AHT / (N - A); the estimate for position p adds the
 *     drain time of those ahead: ASA + (p - 1) * AHT / N. An overloaded
 *     group (A >= N) falls back to p * AHT / N.
 *   - otherwise: AHT * p / N, with AHT 5 minutes until one is known. */

enum { STATS_V = 1, STATS_N = 5, WARMUP = 10, ENOUGH = 20 };
static const double k_alpha = 0.1;
static const double k_default_aht = 300000.0;

static void learn(double *avg, uint32_t *n, double x)
{
    if (*n < WARMUP) *avg = (*avg * *n + x) / (*n + 1);
    else *avg += k_alpha * (x - *avg);
    if (*n < UINT32_MAX) (*n)++;
}

static sb_status stats_save(sb_engine *e, const rt_group *g)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, STATS_V, STATS_N);
    sb_rec_double(w, g->aht_ms);
    sb_rec_u64(w, g->aht_n);
    sb_rec_double(w, g->iat_ms);
    sb_rec_u64(w, g->iat_n);
    sb_rec_i64(w, g->last_arrival);
    return sb_eng_rec_put(e, TB_GROUP_STATS, g->id, strlen(g->id));
}

sb_status sb_eng_rt_stats_load(sb_engine *e, rt_group *g)
{
    void *buf;
    size_t len;
    sb_status s = sb_store_get_alloc(e->st, TBL(e, TB_GROUP_STATS), g->id, strlen(g->id), &buf, &len);
    if (s == SB_ERR_NOT_FOUND) return SB_OK;
    if (s != SB_OK) return s;
    sb_rec_reader r;
    if (sb_rec_open(&r, buf, len) == SB_OK) {
        g->aht_ms = sb_rec_next_double(&r, 0);
        uint64_t n = sb_rec_next_u64(&r, 0);
        g->aht_n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        g->iat_ms = sb_rec_next_double(&r, 0);
        n = sb_rec_next_u64(&r, 0);
        g->iat_n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        g->last_arrival = sb_rec_next_i64(&r, 0);
        if (sb_rec_close(&r) != SB_OK || !(g->aht_ms >= 0) || !(g->iat_ms >= 0)) {
            g->aht_ms = g->iat_ms = 0;
            g->aht_n = g->iat_n = 0;
        }
    } else {
        sb_warn("engine", "group %s: stored statistics unreadable; starting afresh", g->id);
    }
    free(buf);
    return SB_OK;
}

sb_status sb_eng_rt_note_arrival(sb_engine *e, rt_group *g, int64_t now)
{
    if (g->last_arrival && now >= g->last_arrival)
        learn(&g->iat_ms, &g->iat_n, (double)(now - g->last_arrival));
    g->last_arrival = now;
    return stats_save(e, g);
}

sb_status sb_eng_rt_note_handled(sb_engine *e, rt_group *g, int64_t ms)
{
    learn(&g->aht_ms, &g->aht_n, ms < 0 ? 0 : (double)ms);
    return stats_save(e, g);
}

double sb_eng_erlang_c(unsigned servers, double a)
{
    if (servers == 0 || a <= 0) return 0;
    if (a >= servers) return 1;
    /* Erlang B by its recurrence (stable for thousands of servers), then C */
    double b = 1;
    for (unsigned k = 1; k <= servers; k++) b = a * b / (k + a * b);
    return servers * b / (servers - a * (1 - b));
}

int64_t sb_eng_rt_estimate(sb_engine *e, const rt_group *cg, size_t pos)
{
    (void)e;
    const rt_group *g = cg;
    unsigned n = g->slots > 1000000 ? 1000000 : (unsigned)g->slots;
    if (!n || !pos) return -1;
    double aht = g->aht_n ? g->aht_ms : k_default_aht;
    double est;
    if (g->aht_n >= ENOUGH && g->iat_n >= ENOUGH && g->iat_ms > 0) {
        double a = aht / g->iat_ms;
        if (a < n) est = sb_eng_erlang_c(n, a) * aht / (n - a) + (double)(pos - 1) * aht / n;
        else est = (double)pos * aht / n;
    } else {
        est = aht * (double)pos / n;
    }
    return est > 1e15 ? (int64_t)1e15 : (int64_t)est;
}
