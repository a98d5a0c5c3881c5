/* Test host: WebSockets the plugin accepts; the test plays the peer. */
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define MAX_REASON 123 /* a close frame's payload is 125 bytes, 2 for the code */

typedef struct sock {
    sb_th_ws pub; /* first: the test holds a pointer to it */
    sb_th *th;
    sb_ws_message_cb on_message;
    sb_ws_close_cb on_close;
    void *ud;
    size_t cap_sent;
} sock;

static sock *find(const sb_th *th, uint64_t id)
{
    for (size_t i = 0; i < th->sockets.n; i++) {
        sock *s = th->sockets.v[i];
        if (s->pub.id == id) return s;
    }
    return NULL;
}

/* Runs on_close exactly once; the id is stale afterwards. */
static void finish(sock *s, int code)
{
    if (!s->pub.open) return;
    s->pub.open = 0;
    s->pub.close_code = code;
    s->on_close(s->ud, s->pub.id, code);
}

/* The handshake the plugin began ends at the next run_pending (or stop). */
static void queue_close(sock *s)
{
    sb_thi_pend *p = sb_thi_alloc(sizeof *p);
    p->kind = PEND_WS_CLOSE;
    p->rec = s;
    sb_thi_queue(s->th, p);
}

void sb_thi_ws_closed(void *rec)
{
    sock *s = rec;
    finish(s, s->pub.plugin_code);
}

static uint64_t h_ws_accept(sb_ctx *ctx, uint64_t reply_id,
                            sb_ws_message_cb on_message, sb_ws_close_cb on_close,
                            void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "ws_accept");
    if (!th || !on_message || !on_close) return 0;
    if (sb_thi_fault(th, "ws_accept") != SB_OK) return 0;
    sb_status st;
    const sb_th_reply *r = sb_thi_http_upgrade(th, reply_id, &st);
    if (!r) return 0;
    sock *s = sb_thi_alloc(sizeof *s);
    s->pub.id = ++th->next_ws_id;
    s->pub.request = r;
    s->pub.open = 1;
    s->th = th;
    s->on_message = on_message;
    s->on_close = on_close;
    s->ud = ud;
    sb_thi_push(&th->sockets, s);
    return s->pub.id;
}

/* An open socket for a plugin call, or NULL (logged). */
static sock *open_sock(sb_th *th, uint64_t id, const char *fn)
{
    sock *s = find(th, id);
    if (s && s->pub.open) return s;
    sb_thi_log(th, SB_LOG_WARN, "testhost: %s: socket %llu is closed or unknown",
               fn, (unsigned long long)id);
    return NULL;
}

static sb_status h_ws_send(sb_ctx *ctx, uint64_t ws_id, const char *text, size_t len)
{
    sb_th *th = sb_thi_enter(ctx, "ws_send");
    if (!th) return SB_ERR_HANDLE;
    if (!text && len) return SB_ERR_INVALID;
    sock *s = open_sock(th, ws_id, "ws_send");
    if (!s) return SB_ERR_HANDLE;
    if (s->pub.plugin_closed) return SB_ERR_STATE;
    sb_status st = sb_thi_fault(th, "ws_send");
    if (st == SB_ERR_FULL) { /* a slow peer: the core drops it */
        s->pub.plugin_closed = 1;
        s->pub.plugin_code = 1008;
        queue_close(s);
    }
    if (st != SB_OK) return st;
    if (s->pub.n_sent == s->cap_sent) {
        size_t cap = s->cap_sent ? s->cap_sent * 2 : 8;
        sb_th_ws_msg *nv = sb_thi_alloc(cap * sizeof *nv);
        if (s->pub.n_sent) memcpy(nv, s->pub.sent, s->pub.n_sent * sizeof *nv);
        free((sb_th_ws_msg *)s->pub.sent);
        s->pub.sent = nv;
        s->cap_sent = cap;
    }
    sb_th_ws_msg *m = (sb_th_ws_msg *)&s->pub.sent[s->pub.n_sent++];
    m->text = sb_thi_memdup(text, len);
    m->len = len;
    return SB_OK;
}

/* RFC 6455 7.4: the codes an endpoint may send. */
static int close_code_ok(int c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) ||
           (c >= 3000 && c <= 4999);
}

static sb_status h_ws_close(sb_ctx *ctx, uint64_t ws_id, int code, const char *reason)
{
    sb_th *th = sb_thi_enter(ctx, "ws_close");
    if (!th) return SB_ERR_HANDLE;
    if (!code) code = 1000; /* the core's default */
    if (!close_code_ok(code) || (reason && strlen(reason) > MAX_REASON))
        return SB_ERR_INVALID;
    sock *s = open_sock(th, ws_id, "ws_close");
    if (!s) return SB_ERR_HANDLE;
    sb_status st = sb_thi_fault(th, "ws_close");
    if (st != SB_OK) return st;
    if (s->pub.plugin_closed) return SB_OK; /* already closing */
    s->pub.plugin_closed = 1;
    s->pub.plugin_code = code;
    s->pub.plugin_reason = sb_thi_strdup(reason);
    queue_close(s);
    return SB_OK;
}

/* ---- the peer ---------------------------------------------------------------- */

static const sb_header k_upgrade[] = {
    {"Upgrade", "websocket"},
    {"Connection", "Upgrade"},
    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
    {"Sec-WebSocket-Version", "13"},
};

const sb_th_reply *sb_th_ws_connect(sb_th *th, const char *target)
{
    return sb_th_http_request(th, "GET", target, k_upgrade,
                              sizeof k_upgrade / sizeof *k_upgrade, NULL, 0);
}

size_t sb_th_ws_count(const sb_th *th) { return th->sockets.n; }

const sb_th_ws *sb_th_ws_get(const sb_th *th, size_t i)
{
    return i < th->sockets.n ? th->sockets.v[i] : NULL;
}

const sb_th_ws *sb_th_ws_for(const sb_th *th, const sb_th_reply *r)
{
    for (size_t i = 0; i < th->sockets.n; i++) {
        const sock *s = th->sockets.v[i];
        if (s->pub.request == r) return &s->pub;
    }
    return NULL;
}

sb_status sb_th_ws_peer_send(sb_th *th, uint64_t ws_id, int binary,
                             const char *data, size_t len)
{
    sb_thi_loop_only(th, "sb_th_ws_peer_send");
    sock *s = find(th, ws_id);
    if (!s || !s->pub.open) return SB_ERR_HANDLE;
    if (!data && len) return SB_ERR_INVALID;
    /* A copy freed after the call: keeping it is caught by ASan. */
    char *copy = sb_thi_memdup(data, len);
    s->on_message(s->ud, ws_id, binary != 0, copy, len);
    free(copy);
    return SB_OK;
}

sb_status sb_th_ws_peer_close(sb_th *th, uint64_t ws_id, int code)
{
    sb_thi_loop_only(th, "sb_th_ws_peer_close");
    sock *s = find(th, ws_id);
    if (!s || !s->pub.open) return SB_ERR_HANDLE;
    finish(s, code ? code : 1005);
    return SB_OK;
}

/* ---- teardown ------------------------------------------------------------------ */

void sb_thi_ws_stop(sb_th *th)
{
    for (size_t i = 0; i < th->sockets.n; i++) finish(th->sockets.v[i], 1001);
}

void sb_thi_ws_free(sb_th *th)
{
    for (size_t i = 0; i < th->sockets.n; i++) {
        sock *s = th->sockets.v[i];
        for (size_t k = 0; k < s->pub.n_sent; k++) free((char *)s->pub.sent[k].text);
        free((sb_th_ws_msg *)s->pub.sent);
        free((char *)s->pub.plugin_reason);
        free(s);
    }
    free(th->sockets.v);
}

void sb_thi_ws_fill(sb_host *h)
{
    h->ws_accept = h_ws_accept;
    h->ws_send = h_ws_send;
    h->ws_close = h_ws_close;
}
