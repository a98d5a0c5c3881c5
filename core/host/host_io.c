/* The sb_host functions that reach other core modules: private key-value
 * storage (store), HTTP routes (net/http), outbound calls (net/http_client),
 * channels and events (engine), and counters for /metrics.
 *
 * Completion callbacks are wrapped: the wrapper holds the instance's ctx
 * (never freed) and calls into the plugin only while the instance lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "util/log.h"

#define KV_MAX_KEY 400
#define KV_MAX_VAL (1u << 20)

typedef struct {
    sb_ctx *ctx;
    union { sb_done_cb done; sb_http_done http; sb_inbound_done inbound; } cb;
    void *ud;
} sb_wrap;

static sb_wrap *wrap_new(sb_ctx *ctx, void *ud)
{
    sb_wrap *w = malloc(sizeof *w);
    if (w) { w->ctx = ctx; w->ud = ud; }
    return w;
}

/* ---- key-value ----------------------------------------------------------- */

/* Keys are "<plugin>/<instance>\0<key>": instances never see each other's. */
static size_t kv_key(const sb_inst *in, const void *key, size_t klen, unsigned char *out)
{
    size_t l = strlen(in->label);
    memcpy(out, in->label, l);
    out[l] = 0;
    memcpy(out + l + 1, key, klen);
    return l + 1 + klen;
}

static void kv_done(void *ud, sb_status st)
{
    sb_wrap *w = ud;
    sb_inst *in = sb_ctx_inst(w->ctx);
    if (in) SB_PLUGIN_CALL(in, "kv done", w->cb.done(w->ud, st));
    free(w);
}

static sb_status kv_check(sb_inst *in, const void *key, size_t klen)
{
    if (!in) return SB_ERR_HANDLE;
    if (!in->host->d.store) return SB_ERR_STATE;
    if (!key || klen == 0 || klen > KV_MAX_KEY) return SB_ERR_INVALID;
    return SB_OK;
}

static sb_status kv_after(sb_inst *in, sb_status st, sb_done_cb done, void *ud)
{
    if (st != SB_OK || !done) return st;
    sb_wrap *w = wrap_new(in->ctx, ud);
    if (!w) return SB_ERR_NOMEM;
    w->cb.done = done;
    st = sb_store_on_commit(in->host->d.store, kv_done, w);
    if (st != SB_OK) free(w);
    return st;
}

static sb_status h_kv_put(sb_ctx *ctx, const void *key, size_t klen, const void *val,
                          size_t vlen, sb_done_cb done, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    sb_status st = kv_check(in, key, klen);
    if (st != SB_OK) return st;
    if (vlen > KV_MAX_VAL || (!val && vlen)) return SB_ERR_TOO_BIG;
    unsigned char k[KV_MAX_KEY + 300];
    st = sb_store_put(in->host->d.store, in->host->d.kv_table, k, kv_key(in, key, klen, k),
                      val ? val : "", vlen);
    return kv_after(in, st, done, ud);
}

static sb_status h_kv_del(sb_ctx *ctx, const void *key, size_t klen, sb_done_cb done, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    sb_status st = kv_check(in, key, klen);
    if (st != SB_OK) return st;
    unsigned char k[KV_MAX_KEY + 300];
    st = sb_store_del(in->host->d.store, in->host->d.kv_table, k, kv_key(in, key, klen, k));
    if (st == SB_ERR_NOT_FOUND) st = SB_OK;
    return kv_after(in, st, done, ud);
}

static sb_status h_kv_get(sb_ctx *ctx, const void *key, size_t klen, void *buf, size_t cap,
                          size_t *vlen)
{
    sb_inst *in = sb_ctx_inst(ctx);
    sb_status st = kv_check(in, key, klen);
    if (st != SB_OK) return st;
    if (!vlen || (!buf && cap)) return SB_ERR_INVALID;
    unsigned char k[KV_MAX_KEY + 300];
    return sb_store_get(in->host->d.store, in->host->d.kv_table, k, kv_key(in, key, klen, k),
                        buf, cap, vlen);
}

/* ---- HTTP routes ----------------------------------------------------------- */

static int role_rank(const char *role)
{
    return !strcmp(role, "admin") ? 3 : !strcmp(role, "supervisor") ? 2
           : !strcmp(role, "operator") ? 1 : 0;
}

/* API routes: who calls, and whether the route lets it. False when the
 * request was answered (401/403). */
static bool route_auth(sb_route_rec *r, sb_http_req *req, char *role, size_t rcap, char *user,
                       size_t ucap)
{
    sb_plugins *p = r->inst->host;
    *role = *user = 0;
    if (!(r->flags & SB_ROUTE_API)) return true;
    bool ok = p->auth && p->auth(p->auth_ud, req, role, rcap, user, ucap);
    if (!ok) *role = *user = 0;
    int need = (r->flags & SB_ROUTE_AUTH_ADMIN) ? 3 : (r->flags & SB_ROUTE_AUTH_SUPERVISOR) ? 2
               : (r->flags & SB_ROUTE_AUTH_OPERATOR) ? 1 : 0;
    if (need && !ok) {
        sb_http_error(p->d.http, req->id, 401, "unauthorized", "a valid bearer token is required");
        return false;
    }
    if (need > role_rank(role)) {
        sb_http_error(p->d.http, req->id, 403, "forbidden",
                      need == 3 ? "admins only" : "supervisors and admins only");
        return false;
    }
    return true;
}

static void route_tramp(sb_http_req *req, void *ud)
{
    sb_route_rec *r = ud;
    char role[16], user[64];
    if (!route_auth(r, req, role, sizeof role, user, sizeof user)) return;
    sb_http_request pr = {
        .struct_size = sizeof pr, .method = req->method, .path = req->path,
        .subpath = req->subpath ? req->subpath : "", .query = req->query,
        .headers = req->headers, .n_headers = req->n_headers, .body = req->body,
        .body_len = req->body_len, .peer = req->peer, .reply_id = req->id,
        .auth_role = *role ? role : NULL, .auth_user = *role && *user ? user : NULL,
    };
    SB_PLUGIN_CALL(r->inst, "http handler", r->fn(r->ud, &pr));
}

static sb_status h_http_route(sb_ctx *ctx, const char *method, const char *path, unsigned flags,
                              sb_http_handler fn, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!path || !fn || (*path && *path != '/') || strlen(path) > 256) return SB_ERR_INVALID;
    if ((flags & SB_ROUTE_API) && (flags & SB_ROUTE_PAGE)) return SB_ERR_INVALID;
    if ((flags & SB_ROUTE_API) && (!*path || !strcmp(path, "/ws"))) return SB_ERR_EXISTS;
    char full[512];
    if (flags & SB_ROUTE_PAGE) snprintf(full, sizeof full, "/%s%s", in->name, path);
    else if (flags & SB_ROUTE_API) snprintf(full, sizeof full, "/api/v1%s", path);
    else snprintf(full, sizeof full, "/hooks/%s/%s%s", in->name, in->instance, path);
    sb_route_rec *r = calloc(1, sizeof *r);
    if (!r) return SB_ERR_NOMEM;
    r->inst = in;
    r->flags = flags;
    r->fn = fn;
    r->ud = ud;
    r->prefix_len = strlen(full);
    sb_status st = sb_http_route(in->host->d.http, method, full, (flags & SB_ROUTE_PREFIX) != 0,
                                 route_tramp, r, in);
    if (st != SB_OK) {
        free(r);
        return st;
    }
    r->next = in->routes;
    in->routes = r;
    return SB_OK;
}

static sb_status h_http_reply(sb_ctx *ctx, uint64_t reply_id, int status, const char *ctype,
                              const sb_header *headers, size_t n_headers, const void *body,
                              size_t len)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (status < 100 || status > 599) return SB_ERR_INVALID;
    return sb_http_respond(in->host->d.http, reply_id, status, ctype, headers, n_headers, body,
                           len);
}

static sb_status h_http_error(sb_ctx *ctx, uint64_t reply_id, int status, const char *code,
                              const char *message)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (status < 400 || status > 599) return SB_ERR_INVALID;
    return sb_http_error(in->host->d.http, reply_id, status, code ? code : "error",
                         message ? message : "");
}

/* ---- HTTP client ------------------------------------------------------------ */

static void call_done(void *ud, uint64_t id, const sb_http_response *res)
{
    sb_wrap *w = ud;
    sb_inst *in = sb_ctx_inst(w->ctx);
    if (in) SB_PLUGIN_CALL(in, "http done", w->cb.http(w->ud, id, res));
    free(w);
}

static uint64_t h_http_call(sb_ctx *ctx, const sb_http_call *call, sb_http_done done, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in || !call || !done || !call->url || !in->host->d.client) return 0;
    if (call->struct_size < offsetof(sb_http_call, max_response) + sizeof call->max_response)
        return 0;
    sb_wrap *w = wrap_new(ctx, ud);
    if (!w) return 0;
    w->cb.http = done;
    uint64_t id = sb_http_client_start(in->host->d.client, call, call_done, w, in);
    if (!id) free(w);
    return id;
}

static void h_http_cancel(sb_ctx *ctx, uint64_t id)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (in && in->host->d.client) sb_http_client_cancel(in->host->d.client, id);
}

/* ---- channels -------------------------------------------------------------- */

static void inbound_done(void *ud, sb_status st, const char *message_id, int duplicate)
{
    sb_wrap *w = ud;
    sb_inst *in = sb_ctx_inst(w->ctx);
    if (in) SB_PLUGIN_CALL(in, "inbound done", w->cb.inbound(w->ud, st, message_id, duplicate));
    free(w);
}

static sb_status h_inbound(sb_ctx *ctx, const sb_inbound *msg, sb_inbound_done done, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!in->host->d.engine) return SB_ERR_STATE;
    if (!msg || !done || msg->struct_size < offsetof(sb_inbound, sent_at_ms)) return SB_ERR_INVALID;
    /* A plugin built against an older header has a shorter struct: copy
     * what it has and zero the rest, so the engine reads one layout. */
    sb_inbound m;
    memset(&m, 0, sizeof m);
    memcpy(&m, msg, msg->struct_size < sizeof m ? msg->struct_size : sizeof m);
    m.struct_size = sizeof m;
    sb_wrap *w = wrap_new(ctx, ud);
    if (!w) return SB_ERR_NOMEM;
    w->cb.inbound = done;
    sb_status st = sb_engine_inbound(in->host->d.engine, in->name, in->instance, &m,
                                     inbound_done, w);
    if (st != SB_OK) free(w);
    return st;
}

static sb_status h_send_result(sb_ctx *ctx, uint64_t op, sb_send_status status,
                               const char *remote_id, uint64_t retry_after_ms, const char *error)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!in->host->d.engine) return SB_ERR_STATE;
    if (status > SB_SEND_UNREACHABLE) return SB_ERR_INVALID;
    return sb_engine_send_result(in->host->d.engine, op, status, remote_id, retry_after_ms,
                                 error);
}

/* ---- events and metrics ------------------------------------------------------ */

static void sub_tramp(void *ud, const sb_event *ev)
{
    sb_sub_rec *s = ud;
    SB_PLUGIN_CALL(s->inst, "event", s->cb(s->ud, ev));
}

static sb_status h_subscribe(sb_ctx *ctx, const char *prefix, sb_event_cb cb, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!cb || !prefix) return SB_ERR_INVALID;
    if (!in->host->d.engine) return SB_OK; /* --check: nothing will happen */
    sb_sub_rec *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->inst = in;
    s->cb = cb;
    s->ud = ud;
    sb_status st = sb_engine_subscribe(in->host->d.engine, prefix, sub_tramp, s, in);
    if (st != SB_OK) {
        free(s);
        return st;
    }
    s->next = in->subs;
    in->subs = s;
    return SB_OK;
}

static bool metric_name_ok(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > 64 || (n[0] >= '0' && n[0] <= '9')) return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_')) return false;
    return true;
}

static sb_status h_metric_add(sb_ctx *ctx, const char *name, double delta)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!name || !metric_name_ok(name)) return SB_ERR_INVALID;
    for (size_t i = 0; i < in->n_metrics; i++)
        if (strcmp(in->metrics[i].name, name) == 0) {
            in->metrics[i].value += delta;
            return SB_OK;
        }
    if (in->n_metrics == SB_MAX_METRICS) return SB_ERR_FULL;
    sb_metric *m = &in->metrics[in->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = delta;
    return SB_OK;
}

void sb_plugins_set_auth(sb_plugins *p, sb_plugins_auth_fn fn, void *ud)
{
    p->auth = fn;
    p->auth_ud = ud;
}

/* Everything an instance registered goes when it stops or its init fails. */
void sb_inst_release(sb_inst *in)
{
    sb_plugins *p = in->host;
    sb_timers_release(in);
    sb_http_unroute_owner(p->d.http, in);
    while (in->routes) {
        sb_route_rec *r = in->routes;
        in->routes = r->next;
        free(r);
    }
    if (p->d.engine) sb_engine_unsubscribe_owner(p->d.engine, in);
    while (in->subs) {
        sb_sub_rec *s = in->subs;
        in->subs = s->next;
        free(s);
    }
    if (p->d.client) sb_http_client_cancel_owner(p->d.client, in);
    sb_ws_release(in, false);
}

void sb_host_io_fill(sb_host *t)
{
    t->kv_put = h_kv_put;
    t->kv_del = h_kv_del;
    t->kv_get = h_kv_get;
    t->http_route = h_http_route;
    t->http_reply = h_http_reply;
    t->http_error = h_http_error;
    t->http_call = h_http_call;
    t->http_cancel = h_http_cancel;
    t->inbound = h_inbound;
    t->send_result = h_send_result;
    t->subscribe = h_subscribe;
    t->metric_add = h_metric_add;
    sb_host_ws_fill(t);
    sb_host_bot_fill(t);
}
