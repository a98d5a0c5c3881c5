/* /healthz and /metrics (Prometheus text exposition format 0.0.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"

static const double k_lat_bounds[SB_API_LAT_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

/* A growable text buffer; a failed allocation just truncates the page. */
typedef struct { char *s; size_t n, cap; } sbuf;

static void bprintf(sbuf *b, const char *fmt, ...) SB_PRINTF(2, 3);
static void bprintf(sbuf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) return;
        if (b->s && b->n + (size_t)w < b->cap) { b->n += (size_t)w; return; }
        size_t cap = (b->cap ? b->cap * 2 : 8192) + (size_t)w;
        char *s = realloc(b->s, cap);
        if (!s) return;
        b->s = s;
        b->cap = cap;
    }
}

/* Label values escape \, " and newline. */
static const char *esc(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') out[n++] = '\\';
        if (*in == '\n') { out[n++] = '\\'; out[n++] = 'n'; continue; }
        out[n++] = *in;
    }
    out[n] = 0;
    return out;
}

static void observe(void *ud, const char *route, const char *method, int status, double secs)
{
    sb_api *api = ud;
    sb_req_counter *c = api->counters;
    while (c && !(c->status == status && strcmp(c->route, route) == 0 &&
                  strcmp(c->method, method) == 0))
        c = c->next;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->route = strdup(route)) || !(c->method = strdup(method))) {
            if (c) { free(c->route); free(c); }
            return;
        }
        c->status = status;
        c->next = api->counters;
        api->counters = c;
    }
    c->count++;
    size_t i = 0;
    while (i < SB_API_LAT_BUCKETS - 1 && secs > k_lat_bounds[i]) i++;
    api->lat_buckets[i]++;
    api->lat_sum += secs;
    api->lat_count++;
}

static void healthz(sb_http_req *req, void *ud)
{
    sb_api *api = ud;
    bool ok = api->state == SB_API_READY && api->d.store;
    const char *body = ok ? "{\"status\":\"ok\"}"
                          : api->state == SB_API_STOPPING ? "{\"status\":\"stopping\"}"
                                                          : "{\"status\":\"starting\"}";
    sb_http_respond(api->d.http, req->id, ok ? 200 : 503, NULL, NULL, 0, body, strlen(body));
}

/* Prometheus wants every sample of a family in one group after its TYPE
 * line, while the sources report per instance: samples are collected per
 * family first and written out family by family. */
enum { F_CB_SECS, F_CBS, F_SLOW, F_UP, F_OB_PENDING, F_OB_SENT, F_OB_RETRIES, F_OB_FAIL, F_N };
static const char *const k_fam[F_N][3] = {
    {"sb_plugin_callback_seconds_total", "counter", "Time spent in plugin callbacks."},
    {"sb_plugin_callbacks_total", "counter", "Plugin callbacks run."},
    {"sb_plugin_slow_callbacks_total", "counter", "Plugin callbacks over the watchdog threshold."},
    {"sb_plugin_up", "gauge", "1 when the plugin instance is running."},
    {"sb_outbox_pending", "gauge", "Outbound messages waiting per channel instance."},
    {"sb_outbox_sent_total", "counter", "Outbound messages delivered to the channel."},
    {"sb_outbox_retries_total", "counter", "Outbound send retries."},
    {"sb_outbox_failures_total", "counter", "Outbound messages that failed for good."},
};

typedef struct {
    sbuf fam[F_N];
    sbuf custom;       /* plugins' own counters, sorted later */
} collect;

static void plugin_inst(void *ud, const sb_plugin_metrics *m)
{
    collect *c = ud;
    char n[256], i[256], l[600];
    snprintf(l, sizeof l, "{plugin=\"%s\",instance=\"%s\"}", esc(m->name, n, sizeof n),
             esc(m->instance, i, sizeof i));
    bprintf(&c->fam[F_CB_SECS], "%s%s %.6f\n", k_fam[F_CB_SECS][0], l, m->callback_seconds);
    bprintf(&c->fam[F_CBS], "%s%s %llu\n", k_fam[F_CBS][0], l, (unsigned long long)m->callbacks);
    bprintf(&c->fam[F_SLOW], "%s%s %llu\n", k_fam[F_SLOW][0], l,
            (unsigned long long)m->slow_callbacks);
    bprintf(&c->fam[F_UP], "%s{plugin=\"%s\",instance=\"%s\",state=\"%s\"} %d\n", k_fam[F_UP][0],
            n, i, m->state, strcmp(m->state, "running") == 0);
}

/* One line per counter, "name plugin instance value"; sorted by name later
 * so each family is contiguous. */
static void plugin_counter(void *ud, const char *plugin, const char *instance, const char *name,
                           double v)
{
    collect *c = ud;
    char n[256], i[256];
    bprintf(&c->custom, "sb_plugin_%s{plugin=\"%s\",instance=\"%s\"} %.17g\n", name,
            esc(plugin, n, sizeof n), esc(instance, i, sizeof i), v);
}

static void outbox_line(void *ud, const sb_outbox_stats *s)
{
    collect *c = ud;
    char n[256], i[256], l[600];
    snprintf(l, sizeof l, "{plugin=\"%s\",instance=\"%s\"}", esc(s->plugin, n, sizeof n),
             esc(s->instance, i, sizeof i));
    const uint64_t v[] = {s->pending, s->sent, s->retries, s->failures};
    for (int f = F_OB_PENDING; f <= F_OB_FAIL; f++)
        bprintf(&c->fam[f], "%s%s %llu\n", k_fam[f][0], l, (unsigned long long)v[f - F_OB_PENDING]);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void render_custom(sbuf *out, sbuf *in)
{
    if (!in->s) return;
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++) n += in->s[i] == '\n';
    char **lines = calloc(n ? n : 1, sizeof *lines);
    if (!lines) return;
    size_t k = 0;
    for (char *p = in->s; k < n; p = strchr(p, '\n') + 1) lines[k++] = p;
    for (size_t i = 0; i < n; i++) *strchr(lines[i], '\n') = 0;
    qsort(lines, n, sizeof *lines, cmp_line);
    char last[128] = "";
    for (size_t i = 0; i < n; i++) {
        size_t fl = strcspn(lines[i], "{");
        if (fl < sizeof last && (strlen(last) != fl || strncmp(last, lines[i], fl) != 0)) {
            memcpy(last, lines[i], fl);
            last[fl] = 0;
            bprintf(out, "# TYPE %s counter\n", last);
        }
        bprintf(out, "%s\n", lines[i]);
    }
    free(lines);
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

static void render_http(sb_api *api, sbuf *b)
{
    char r[512];
    bprintf(b, "# HELP sb_http_requests_total HTTP requests by route, method and status.\n"
               "# TYPE sb_http_requests_total counter\n");
    for (sb_req_counter *c = api->counters; c; c = c->next)
        bprintf(b, "sb_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                esc(c->route, r, sizeof r), c->method, c->status, (unsigned long long)c->count);
    bprintf(b, "# HELP sb_http_request_duration_seconds Time from request head to response.\n"
               "# TYPE sb_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < SB_API_LAT_BUCKETS - 1; i++) {
        cum += api->lat_buckets[i];
        bprintf(b, "sb_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", k_lat_bounds[i],
                (unsigned long long)cum);
    }
    bprintf(b, "sb_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "sb_http_request_duration_seconds_sum %.6f\n"
               "sb_http_request_duration_seconds_count %llu\n",
            (unsigned long long)api->lat_count, api->lat_sum, (unsigned long long)api->lat_count);
    sb_http_stats hs;
    sb_http_get_stats(api->d.http, &hs);
    bprintf(b, "# HELP sb_http_open_connections Open client connections.\n"
               "# TYPE sb_http_open_connections gauge\nsb_http_open_connections %llu\n"
               "# HELP sb_ws_clients Open WebSocket connections.\n"
               "# TYPE sb_ws_clients gauge\nsb_ws_clients %llu\n",
            (unsigned long long)hs.open_connections, (unsigned long long)hs.ws_clients);
}

static void render_store(sb_api *api, sbuf *b)
{
    if (!api->d.store) return;
    sb_store_stats s;
    sb_store_get_stats(api->d.store, &s);
    bprintf(b, "# HELP sb_store_commit_seconds Time to commit one batch (group commit).\n"
               "# TYPE sb_store_commit_seconds histogram\n");
    uint64_t cum = 0;
    double bound = 0.0001;
    for (int i = 0; i < 11; i++, bound *= 2) {
        cum += s.commit_hist[i];
        bprintf(b, "sb_store_commit_seconds_bucket{le=\"%g\"} %llu\n", bound,
                (unsigned long long)cum);
    }
    bprintf(b, "sb_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
               "sb_store_commit_seconds_sum %.6f\nsb_store_commit_seconds_count %llu\n",
            (unsigned long long)(cum + s.commit_hist[11]), s.commit_seconds_sum,
            (unsigned long long)s.commits);
    bprintf(b, "# TYPE sb_store_commit_failures_total counter\nsb_store_commit_failures_total %llu\n"
               "# TYPE sb_store_writes_total counter\nsb_store_writes_total %llu\n"
               "# HELP sb_store_batch_writes Writes in the last committed batch.\n"
               "# TYPE sb_store_batch_writes gauge\nsb_store_batch_writes %llu\n"
               "# TYPE sb_store_map_size_bytes gauge\nsb_store_map_size_bytes %llu\n",
            (unsigned long long)s.commit_failures, (unsigned long long)s.total_writes,
            (unsigned long long)s.last_batch_writes, (unsigned long long)s.map_size);
}

static void metrics(sb_http_req *req, void *ud)
{
    sb_api *api = ud;
    sb_principal who;
    if (!sb_api_require(api, req, "admin", &who)) return;
    sbuf b = {0};
    render_http(api, &b);
    render_store(api, &b);
    collect c = {0};
    if (api->d.engine) sb_engine_outbox_stats(api->d.engine, outbox_line, &c);
    sb_plugins_metrics(api->d.plugins, plugin_inst, plugin_counter, &c);
    for (int f = 0; f < F_N; f++) {
        bprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", k_fam[f][0], k_fam[f][2], k_fam[f][0],
                k_fam[f][1]);
        if (c.fam[f].s) bprintf(&b, "%s", c.fam[f].s);
        free(c.fam[f].s);
    }
    render_custom(&b, &c.custom);
    free(c.custom.s);
    bprintf(&b, "# HELP sb_process_resident_memory_bytes Resident set size.\n"
                "# TYPE sb_process_resident_memory_bytes gauge\n"
                "sb_process_resident_memory_bytes %ld\n", rss_bytes());
    sb_http_respond(api->d.http, req->id, b.s ? 200 : 500, "text/plain; version=0.0.4",
                    NULL, 0, b.s ? b.s : "", b.n);
    free(b.s);
}

void sb_api_metrics_init(sb_api *api)
{
    sb_http_set_observer(api->d.http, observe, api);
    sb_http_route(api->d.http, NULL, "/healthz", false, healthz, api, api);
    sb_http_route(api->d.http, "GET", "/metrics", false, metrics, api, api);
}

void sb_api_metrics_free(sb_api *api)
{
    while (api->counters) {
        sb_req_counter *c = api->counters;
        api->counters = c->next;
        free(c->route);
        free(c->method);
        free(c);
    }
}
