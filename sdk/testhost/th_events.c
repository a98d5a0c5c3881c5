/* Test host: event subscriptions fed by the test, and metric counters. */
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define MAX_METRICS 64

typedef struct sub {
    char *prefix;
    sb_event_cb cb;
    void *ud;
} sub;

typedef struct metric {
    char *name;
    double value;
} metric;

static sb_status h_subscribe(sb_ctx *ctx, const char *prefix, sb_event_cb cb,
                             void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "subscribe");
    if (!th) return SB_ERR_HANDLE;
    if (!prefix || !cb) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "subscribe");
    if (st != SB_OK) return st;
    sub *s = sb_thi_alloc(sizeof *s);
    s->prefix = sb_thi_strdup(prefix);
    s->cb = cb;
    s->ud = ud;
    sb_thi_push(&th->subs, s);
    return SB_OK;
}

size_t sb_th_emit_event(sb_th *th, const char *type, const char *json)
{
    sb_thi_loop_only(th, "sb_th_emit_event");
    /* Copies, freed after the calls: keeping them is caught by ASan. */
    char *t = sb_thi_strdup(type ? type : "");
    char *j = sb_thi_strdup(json ? json : "{}");
    sb_event ev = {.struct_size = sizeof ev, .seq = ++th->event_seq,
                   .type = t, .json = j, .json_len = strlen(j)};
    size_t called = 0, n = th->subs.n; /* not those subscribed meanwhile */
    for (size_t i = 0; i < n && i < th->subs.n; i++) {
        const sub *s = th->subs.v[i];
        if (strncmp(t, s->prefix, strlen(s->prefix)) != 0) continue;
        s->cb(s->ud, &ev);
        called++;
    }
    free(t);
    free(j);
    return called;
}

/* [a-z_][a-z0-9_]* */
static int metric_name_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static metric *find_metric(const sb_th *th, const char *name)
{
    for (size_t i = 0; i < th->metrics.n; i++) {
        metric *m = th->metrics.v[i];
        if (strcmp(m->name, name) == 0) return m;
    }
    return NULL;
}

static sb_status h_metric_add(sb_ctx *ctx, const char *name, double delta)
{
    sb_th *th = sb_thi_enter(ctx, "metric_add");
    if (!th) return SB_ERR_HANDLE;
    if (!metric_name_ok(name)) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "metric_add");
    if (st != SB_OK) return st;
    metric *m = find_metric(th, name);
    if (!m) {
        if (th->metrics.n == MAX_METRICS) return SB_ERR_FULL;
        m = sb_thi_alloc(sizeof *m);
        m->name = sb_thi_strdup(name);
        sb_thi_push(&th->metrics, m);
    }
    m->value += delta;
    return SB_OK;
}

double sb_th_metric(const sb_th *th, const char *name)
{
    const metric *m = find_metric(th, name);
    return m ? m->value : 0;
}

void sb_thi_events_drop(sb_th *th)
{
    for (size_t i = 0; i < th->subs.n; i++) {
        sub *s = th->subs.v[i];
        free(s->prefix);
        free(s);
    }
    th->subs.n = 0;
}

void sb_thi_events_free(sb_th *th)
{
    sb_thi_events_drop(th);
    free(th->subs.v);
    for (size_t i = 0; i < th->metrics.n; i++) {
        metric *m = th->metrics.v[i];
        free(m->name);
        free(m);
    }
    free(th->metrics.v);
}

void sb_thi_events_fill(sb_host *h)
{
    h->subscribe = h_subscribe;
    h->metric_add = h_metric_add;
}
