/* Test host: life of the instance, the pending queue, post(), log, faults
 * and the assembly of the host table. Contract in testhost.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define MAX_RUN 1000000 /* sb_th_run_pending's guard against endless reposts */

/* ---- small helpers shared by the files ----------------------------------- */

void *sb_thi_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fputs("sb_testhost: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *sb_thi_memdup(const void *p, size_t n)
{
    char *s = sb_thi_alloc(n + 1);
    if (n) memcpy(s, p, n);
    return s;
}

char *sb_thi_strdup(const char *s)
{
    return s ? sb_thi_memdup(s, strlen(s)) : NULL;
}

char *sb_thi_printf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = sb_thi_alloc((size_t)(n < 0 ? 0 : n) + 1);
    if (n > 0) vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

void sb_thi_push(sb_thi_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) {
            fputs("sb_testhost: out of memory\n", stderr);
            abort();
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = p;
}

void sb_thi_remove(sb_thi_vec *v, size_t i)
{
    memmove(v->v + i, v->v + i + 1, (v->n - i - 1) * sizeof *v->v);
    v->n--;
}

/* ---- entry checks and injected faults ------------------------------------ */

void sb_thi_loop_only(const sb_th *th, const char *fn)
{
    if (!pthread_equal(pthread_self(), th->loop_thread)) {
        fprintf(stderr, "sb_testhost: %s() called off the loop thread "
                        "(only post() may be; see plugin.h)\n", fn);
        abort();
    }
}

sb_th *sb_thi_enter(sb_ctx *ctx, const char *fn)
{
    if (!ctx || !ctx->th) return NULL;
    sb_thi_loop_only(ctx->th, fn);
    return ctx->live ? ctx->th : NULL;
}

typedef struct fault {
    const char *fn; /* one of k_faultable, static */
    sb_status status;
} fault;

static const char *const k_faultable[] = {
    "post", "kv_put", "kv_del", "kv_get", "http_route", "http_reply",
    "http_error", "inbound", "send_result", "subscribe", "metric_add",
    "http_call", "timer_start", "ws_accept", "ws_send", "ws_close",
    "bot_reply", "bot_set_attributes", "bot_add_tag", "bot_handoff",
    "bot_close", "conversation_get", "client_typing"};

sb_status sb_th_fail_next(sb_th *th, const char *host_fn, sb_status status)
{
    if (!host_fn || status == SB_OK) return SB_ERR_INVALID;
    for (size_t i = 0; i < sizeof k_faultable / sizeof *k_faultable; i++)
        if (strcmp(host_fn, k_faultable[i]) == 0) {
            fault *f = sb_thi_alloc(sizeof *f);
            f->fn = k_faultable[i];
            f->status = status;
            pthread_mutex_lock(&th->mu);
            sb_thi_push(&th->faults, f);
            pthread_mutex_unlock(&th->mu);
            return SB_OK;
        }
    return SB_ERR_INVALID;
}

/* Locked: post() consults it from any thread. */
sb_status sb_thi_fault(sb_th *th, const char *fn)
{
    sb_status st = SB_OK;
    pthread_mutex_lock(&th->mu);
    for (size_t i = 0; i < th->faults.n; i++) {
        fault *f = th->faults.v[i];
        if (strcmp(f->fn, fn) == 0) {
            st = f->status;
            free(f);
            sb_thi_remove(&th->faults, i);
            break;
        }
    }
    pthread_mutex_unlock(&th->mu);
    return st;
}

/* ---- log ------------------------------------------------------------------- */

typedef struct log_line {
    sb_log_level level;
    char *text;
} log_line;

static void capture(sb_th *th, sb_log_level level, char *text)
{
    log_line *l = sb_thi_alloc(sizeof *l);
    l->level = level;
    l->text = text;
    sb_thi_push(&th->logs, l);
    if (getenv("SB_TH_LOG"))
        fprintf(stderr, "[%s/%s %d] %s\n", th->plugin_name, th->instance,
                (int)level, text);
}

void sb_thi_log(sb_th *th, sb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = sb_thi_alloc((size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    if (n > 0) vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    capture(th, level, s);
}

static void h_vlog(sb_ctx *ctx, sb_log_level level, const char *fmt, va_list ap)
{
    sb_th *th = sb_thi_enter(ctx, "vlog");
    if (!th || !fmt) return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = sb_thi_alloc((size_t)(n < 0 ? 0 : n) + 1);
    if (n > 0) vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    capture(th, level, s);
}

static void h_log(sb_ctx *ctx, sb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

size_t sb_th_log_count(const sb_th *th) { return th->logs.n; }

const char *sb_th_log_line(const sb_th *th, size_t i, sb_log_level *level)
{
    if (i >= th->logs.n) return NULL;
    const log_line *l = th->logs.v[i];
    if (level) *level = l->level;
    return l->text;
}

long sb_th_log_find(const sb_th *th, const char *needle)
{
    for (size_t i = 0; i < th->logs.n; i++)
        if (strstr(((const log_line *)th->logs.v[i])->text, needle))
            return (long)i;
    return -1;
}

/* ---- the pending queue ----------------------------------------------------- */

void sb_thi_queue(sb_th *th, sb_thi_pend *p)
{
    pthread_mutex_lock(&th->mu);
    p->next = NULL;
    if (th->pend_tail) th->pend_tail->next = p;
    else th->pend_head = p;
    th->pend_tail = p;
    pthread_mutex_unlock(&th->mu);
}

/* Unlinks the first item `keep` does not want to keep; NULL when none. */
static sb_thi_pend *take(sb_th *th, int (*keep)(const sb_thi_pend *, void *),
                         void *arg)
{
    pthread_mutex_lock(&th->mu);
    sb_thi_pend *prev = NULL, *p = th->pend_head;
    while (p && keep && keep(p, arg)) {
        prev = p;
        p = p->next;
    }
    if (p) {
        if (prev) prev->next = p->next;
        else th->pend_head = p->next;
        if (th->pend_tail == p) th->pend_tail = prev;
    }
    pthread_mutex_unlock(&th->mu);
    return p;
}

static int keep_other_calls(const sb_thi_pend *p, void *rec)
{
    return !(p->kind == PEND_HTTP_DONE && p->rec == rec);
}

int sb_thi_unqueue_call(sb_th *th, void *rec)
{
    sb_thi_pend *p = take(th, keep_other_calls, rec);
    free(p);
    return p != NULL;
}

static int keep_non_posts(const sb_thi_pend *p, void *arg)
{
    (void)arg;
    return p->kind != PEND_POST;
}

/* Runs (SB_OK) or cancels (SB_ERR_CANCELLED) one item, and frees it. */
static void run_one(sb_thi_pend *p, sb_status st)
{
    switch (p->kind) {
    case PEND_POST:
        ((sb_post_cb)p->fn)(p->ud);
        break;
    case PEND_KV_DONE:
        ((sb_done_cb)p->fn)(p->ud, st);
        break;
    case PEND_INBOUND:
        if (p->duplicate) sb_thi_inbound_dup(p->rec, p, st);
        else sb_thi_inbound_finish(p->rec, st);
        break;
    case PEND_HTTP_DONE:
        sb_thi_call_deliver(p->rec, st);
        break;
    case PEND_WS_CLOSE: /* the handshake ends even when stopping */
        sb_thi_ws_closed(p->rec);
        break;
    }
    free(p);
}

size_t sb_th_run_pending(sb_th *th)
{
    sb_thi_loop_only(th, "sb_th_run_pending");
    size_t n = 0;
    sb_thi_pend *p;
    while ((p = take(th, NULL, NULL))) {
        if (n == MAX_RUN) {
            /* Put it back: the test sees it in sb_th_pending(). */
            pthread_mutex_lock(&th->mu);
            p->next = th->pend_head;
            th->pend_head = p;
            if (!th->pend_tail) th->pend_tail = p;
            pthread_mutex_unlock(&th->mu);
            sb_thi_log(th, SB_LOG_ERROR, "testhost: run_pending: still busy "
                                         "after %d callbacks", MAX_RUN);
            break;
        }
        run_one(p, SB_OK);
        n++;
    }
    return n;
}

size_t sb_th_pending(sb_th *th)
{
    size_t n = 0;
    pthread_mutex_lock(&th->mu);
    for (sb_thi_pend *p = th->pend_head; p; p = p->next) n++;
    pthread_mutex_unlock(&th->mu);
    return n;
}

/* Any thread: ctx->th never changes; `stopping` is read under the lock. */
static sb_status h_post(sb_ctx *ctx, sb_post_cb cb, void *ud)
{
    if (!ctx || !ctx->th) return SB_ERR_HANDLE;
    sb_th *th = ctx->th;
    if (!cb) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "post");
    if (st != SB_OK) return st;
    sb_thi_pend *p = sb_thi_alloc(sizeof *p);
    p->kind = PEND_POST;
    p->fn = (void (*)(void))cb;
    p->ud = ud;
    pthread_mutex_lock(&th->mu);
    if (!ctx->live || th->stopping) {
        pthread_mutex_unlock(&th->mu);
        free(p);
        return SB_ERR_STATE;
    }
    if (th->pend_tail) th->pend_tail->next = p;
    else th->pend_head = p;
    th->pend_tail = p;
    pthread_mutex_unlock(&th->mu);
    return SB_OK;
}

/* ---- identity, status text ------------------------------------------------- */

static const char *h_strstatus(sb_status s) { return sb_status_text(s); }

static const char *h_instance_name(sb_ctx *ctx)
{
    sb_th *th = sb_thi_enter(ctx, "instance_name");
    return th ? th->instance : NULL;
}

static const char *h_plugin_name(sb_ctx *ctx)
{
    sb_th *th = sb_thi_enter(ctx, "plugin_name");
    return th ? th->plugin_name : NULL;
}

/* ---- life ------------------------------------------------------------------ */

sb_th *sb_th_new(const char *plugin_name, const char *instance)
{
    sb_th *th = sb_thi_alloc(sizeof *th);
    th->plugin_name = sb_thi_strdup(plugin_name ? plugin_name : "");
    th->instance = sb_thi_strdup(instance ? instance : "");
    th->loop_thread = pthread_self();
    pthread_mutex_init(&th->mu, NULL);
    th->ctx.th = th;
    th->now = 1767225600000; /* 2026-01-01T00:00:00Z */
    sb_host *h = &th->host;
    h->struct_size = sizeof *h;
    h->abi_major = SB_ABI_MAJOR;
    h->abi_minor = SB_ABI_MINOR;
    h->strstatus = h_strstatus;
    h->log = h_log;
    h->vlog = h_vlog;
    h->instance_name = h_instance_name;
    h->plugin_name = h_plugin_name;
    h->post = h_post;
    sb_thi_config_fill(h);
    sb_thi_time_fill(h);
    sb_thi_kv_fill(h);
    sb_thi_route_fill(h);
    sb_thi_call_fill(h);
    sb_thi_channel_fill(h);
    sb_thi_events_fill(h);
    sb_thi_ws_fill(h);
    sb_thi_bot_fill(h);
    return th;
}

const sb_host *sb_th_host(sb_th *th) { return &th->host; }
sb_ctx *sb_th_ctx(sb_th *th) { return &th->ctx; }
void *sb_th_state(sb_th *th) { return th->started ? th->state : NULL; }

/* Init marks: none read and no errors, so the checks cover one init. */
static void begin_config_pass(sb_th *th)
{
    sb_thi_config_reset_use(th);
    for (size_t i = 0; i < th->config_errors.n; i++) free(th->config_errors.v[i]);
    th->config_errors.n = 0;
}

/* The core's verdict on a config pass that returned SB_OK. */
static sb_status config_verdict(sb_th *th, const char *what)
{
    if (th->config_errors.n) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: %s returned SB_OK after "
                   "recording a config error: %s", what,
                   (const char *)th->config_errors.v[0]);
        return SB_ERR_INVALID;
    }
    const char *key = sb_th_unused_config(th);
    if (key) {
        sb_thi_push(&th->config_errors, sb_thi_printf("%s: unknown key", key));
        sb_thi_log(th, SB_LOG_ERROR, "testhost: config: %s: unknown key", key);
        return SB_ERR_INVALID;
    }
    return SB_OK;
}

/* Steps 1-6 of sb_th_stop; also the teardown of a failed start, which
 * (as in the core) skips stop. */
static void shut(sb_th *th, int call_stop)
{
    pthread_mutex_lock(&th->mu);
    th->stopping = 1;
    pthread_mutex_unlock(&th->mu);
    /* as in the core: open sockets hear 1001 just before stop() */
    sb_thi_ws_stop(th);
    if (call_stop && SB_THI_HAS(th->plugin, stop)) th->plugin->stop(th->state);
    sb_thi_pend *p;
    while ((p = take(th, keep_non_posts, NULL))) free(p);
    while ((p = take(th, NULL, NULL))) run_one(p, SB_ERR_CANCELLED);
    sb_thi_channel_cancel_open(th);
    sb_thi_time_drop(th);
    sb_thi_http_drop_routes(th);
    sb_thi_events_drop(th);
    if (th->state && SB_THI_HAS(th->plugin, destroy))
        th->plugin->destroy(th->state);
    pthread_mutex_lock(&th->mu);
    th->ctx.live = 0;
    pthread_mutex_unlock(&th->mu);
    th->started = 0;
    th->state = NULL;
    th->plugin = NULL;
}

static sb_status check_descriptor(sb_th *th, const sb_plugin *p)
{
    if (!p) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: no descriptor (entry returned NULL)");
        return SB_ERR_UNSUPPORTED;
    }
    if (p->abi_major != SB_ABI_MAJOR) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: plugin ABI %u.%u, host ABI %d.%d",
                   p->abi_major, p->abi_minor, SB_ABI_MAJOR, SB_ABI_MINOR);
        return SB_ERR_UNSUPPORTED;
    }
    const char *why = NULL;
    if (p->struct_size < offsetof(sb_plugin, init) + sizeof p->init)
        why = "descriptor too small (struct_size)";
    else if (!p->name || strcmp(p->name, th->plugin_name) != 0)
        why = "name differs from the plugin name given to sb_th_new";
    else if (p->kind != SB_KIND_CHANNEL && p->kind != SB_KIND_BOT &&
             p->kind != SB_KIND_SERVICE)
        why = "unknown kind";
    else if (!p->init)
        why = "init is mandatory";
    else if (p->kind == SB_KIND_CHANNEL && !SB_THI_HAS(p, send))
        why = "a channel must have send";
    else if (p->kind == SB_KIND_BOT && !SB_THI_HAS(p, bot_event))
        why = "a bot must have bot_event";
    if (why) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: plugin '%s' refused: %s",
                   p->name ? p->name : "(null)", why);
        return SB_ERR_INVALID;
    }
    return SB_OK;
}

sb_status sb_th_start(sb_th *th, const sb_plugin *p)
{
    sb_thi_loop_only(th, "sb_th_start");
    if (th->started) return SB_ERR_STATE;
    sb_status st = check_descriptor(th, p);
    if (st != SB_OK) return st;
    begin_config_pass(th);
    th->plugin = p;
    th->state = NULL;
    pthread_mutex_lock(&th->mu);
    th->stopping = 0;
    th->ctx.live = 1;
    pthread_mutex_unlock(&th->mu);

    st = p->init(&th->host, &th->ctx, &th->state);
    if (st != SB_OK) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: init failed: %s", h_strstatus(st));
        shut(th, 0);
        return st;
    }
    if ((st = config_verdict(th, "init")) != SB_OK) {
        shut(th, 0);
        return st;
    }
    if (SB_THI_HAS(p, start) && (st = p->start(th->state)) != SB_OK) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: start failed: %s", h_strstatus(st));
        shut(th, 0);
        return st;
    }
    th->started = 1;
    return SB_OK;
}

sb_status sb_th_reload(sb_th *th)
{
    sb_thi_loop_only(th, "sb_th_reload");
    if (!th->started) return SB_ERR_STATE;
    if (!SB_THI_HAS(th->plugin, reload)) return SB_ERR_UNSUPPORTED;
    begin_config_pass(th);
    sb_status st = th->plugin->reload(th->state);
    return st == SB_OK ? config_verdict(th, "reload") : st;
}

void sb_th_stop(sb_th *th)
{
    sb_thi_loop_only(th, "sb_th_stop");
    if (th->started) shut(th, 1);
}

static void free_vec(sb_thi_vec *v)
{
    for (size_t i = 0; i < v->n; i++) free(v->v[i]);
    free(v->v);
}

void sb_th_free(sb_th *th)
{
    if (!th) return;
    sb_th_stop(th); /* leaves the queue empty: nothing queues when not live */
    for (size_t i = 0; i < th->logs.n; i++)
        free(((log_line *)th->logs.v[i])->text);
    free_vec(&th->logs);
    free_vec(&th->faults);
    free_vec(&th->config_errors);
    sb_thi_config_free(th);
    sb_thi_kv_free(th);
    sb_thi_route_free(th);
    sb_thi_call_free(th);
    sb_thi_channel_free(th);
    sb_thi_events_free(th);
    sb_thi_ws_free(th);
    sb_thi_bot_free(th);
    free(th->timers.v);
    pthread_mutex_destroy(&th->mu);
    free(th->plugin_name);
    free(th->instance);
    free(th);
}
