/* Test fixture: GET /hooks/slow/<instance> spins for `spin` (default 300ms)
 * before answering, so the watchdog must name this plugin in a log line.
 * Also answers its instance name and a per-instance counter kept in kv, to
 * show two instances of one .so side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <switchboard/plugin.h>

typedef struct {
    const sb_host *h;
    sb_ctx *c;
    uint64_t spin_ms;
} slow_state;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void handler(void *ud, const sb_http_request *req)
{
    slow_state *s = ud;
    uint64_t until = now_ms() + s->spin_ms;
    while (now_ms() < until) { /* busy on purpose */ }
    uint64_t count = 0;
    size_t len = 0;
    s->h->kv_get(s->c, "count", 5, &count, sizeof count, &len);
    count++;
    s->h->kv_put(s->c, "count", 5, &count, sizeof count, NULL, NULL);
    char body[200];
    int n = snprintf(body, sizeof body, "{\"instance\":\"%s\",\"count\":%llu}",
                     s->h->instance_name(s->c), (unsigned long long)count);
    s->h->http_reply(s->c, req->reply_id, 200, "application/json", NULL, 0, body, (size_t)n);
}

static sb_status init(const sb_host *h, sb_ctx *c, void **st)
{
    slow_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->h = h;
    s->c = c;
    s->spin_ms = 300;
    *st = s;
    if (h->config_duration(c, "spin", &s->spin_ms) == SB_ERR_INVALID) return SB_ERR_INVALID;
    return h->http_route(c, "GET", "", 0, handler, s);
}

static void destroy(void *st) { free(st); }

static const sb_plugin desc = {
    SB_PLUGIN_HEADER("slow", "1.0", SB_KIND_SERVICE),
    .init = init,
    .destroy = destroy,
};

SB_PLUGIN_EXPORT(desc)
