/* Live delivery to visitors: long polls parked until a new item or their
 * deadline, and WebSockets. Both arrive on the route owner's context, so
 * replies and socket calls go through it; timers and kv through the
 * visitor's instance. Socket records live in one list of this .so, not in
 * an instance, because their close callback comes from the owner's
 * context and may come after the visitor's instance stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wc.h"

struct wc_waiter {
    wc_waiter *next;
    wc_state *s;
    uint64_t reply_id, after, timer_id;
    char vid[WC_VID_HEX + 1];
    char origin[257]; /* "" = no CORS headers */
};

typedef struct wc_socket {
    struct wc_socket *next;
    wc_state *s;        /* NULL once that instance stopped */
    uint64_t ws_id, sent;
    char vid[WC_VID_HEX + 1];
} wc_socket;

static wc_socket *g_sockets;

static sb_ctx *owner_ctx(void)
{
    wc_state *o = wc_registry_owner();
    return o ? o->ctx : NULL;
}

static json_t *batch(json_t *hist, uint64_t after)
{
    return json_pack("{s:s,s:o,s:I}", "type", "messages", "messages",
                     wc_history_after(hist, after), "seq", (json_int_t)wc_history_seq(hist));
}

static void waiter_unlink(wc_waiter *w)
{
    wc_waiter **pp = &w->s->waiters;
    while (*pp != w) pp = &(*pp)->next;
    *pp = w->next;
    w->s->n_waiters--;
}

static void waiter_answer(wc_waiter *w, json_t *hist)
{
    sb_ctx *oc = owner_ctx();
    json_t *j = hist ? batch(hist, w->after) : NULL;
    if (oc && j) wc_reply_to(w->s->host, oc, w->reply_id, *w->origin ? w->origin : NULL, 200, j);
    else if (oc) w->s->host->http_error(oc, w->reply_id, 503, "unavailable", "history unreadable");
    else json_decref(j);
}

static void poll_deadline(void *ud, uint64_t timer_id)
{
    (void)timer_id;
    wc_waiter *w = ud;
    waiter_unlink(w);
    json_t *hist = wc_history_load(w->s, w->vid);
    waiter_answer(w, hist);
    json_decref(hist);
    free(w);
}

void wc_poll_park(wc_state *s, const sb_http_request *r, const char *vid, uint64_t after,
                  uint64_t wait_ms)
{
    const sb_host *h = s->host;
    sb_ctx *oc = owner_ctx();
    json_t *hist = wc_history_load(s, vid);
    if (!hist) {
        wc_reply_error(h, oc, r, s, 503, "unavailable", "history unreadable, try again");
        return;
    }
    if (wc_history_seq(hist) > after || wait_ms == 0) {
        wc_reply_json(h, oc, r, s, 200, batch(hist, after));
        json_decref(hist);
        return;
    }
    json_decref(hist);
    wc_waiter *w = s->n_waiters < WC_MAX_WAITERS ? calloc(1, sizeof *w) : NULL;
    if (!w) {
        wc_reply_error(h, oc, r, s, 503, "busy", "too many waiting visitors, retry later");
        return;
    }
    w->s = s;
    w->reply_id = r->reply_id;
    w->after = after;
    memcpy(w->vid, vid, sizeof w->vid);
    sb_header hdr[4];
    bool allowed;
    const char *origin = wc_cors(s, r, hdr, &allowed) ? wc_header(r, "Origin") : NULL;
    if (origin && strlen(origin) < sizeof w->origin) strcpy(w->origin, origin);
    w->timer_id = h->timer_start(s->ctx, wait_ms, 0, poll_deadline, w);
    if (!w->timer_id) {
        free(w);
        wc_reply_error(h, oc, r, s, 503, "unavailable", "no timer for the poll");
        return;
    }
    w->next = s->waiters;
    s->waiters = w;
    s->n_waiters++;
}

static void socket_push(wc_socket *k, json_t *hist)
{
    sb_ctx *oc = owner_ctx();
    if (!oc || wc_history_seq(hist) <= k->sent) return;
    json_t *j = batch(hist, k->sent);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text && k->s->host->ws_send(oc, k->ws_id, text, strlen(text)) == SB_OK)
        k->sent = wc_history_seq(hist);
    free(text);
}

static void ws_message(void *ud, uint64_t ws_id, int binary, const char *data, size_t len)
{
    (void)ws_id;
    wc_socket *k = ud;
    if (!k->s || binary || len > 8192) return;
    json_t *j = json_loadb(data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *text = json_string_value(json_object_get(j, "text"));
    if (type && strcmp(type, "typing") == 0 && text) wc_typing(k->s, k->vid, text);
    json_decref(j);
}

static void ws_closed(void *ud, uint64_t ws_id, int code)
{
    (void)ws_id;
    (void)code;
    wc_socket *k = ud, **pp = &g_sockets;
    while (*pp && *pp != k) pp = &(*pp)->next;
    if (*pp) *pp = k->next;
    if (k->s) k->s->n_sockets--;
    free(k);
}

void wc_ws_open(wc_state *s, uint64_t reply_id, const char *vid, uint64_t after)
{
    const sb_host *h = s->host;
    sb_ctx *oc = owner_ctx();
    if (s->n_sockets >= WC_MAX_SOCKETS) {
        h->http_error(oc, reply_id, 503, "busy", "too many open chats, retry later");
        return;
    }
    wc_socket *k = calloc(1, sizeof *k);
    if (!k) {
        h->http_error(oc, reply_id, 503, "unavailable", "out of memory");
        return;
    }
    k->s = s;
    k->sent = after;
    memcpy(k->vid, vid, sizeof k->vid);
    k->ws_id = h->ws_accept(oc, reply_id, ws_message, ws_closed, k);
    if (!k->ws_id) { /* the host has answered 400 */
        free(k);
        return;
    }
    k->next = g_sockets;
    g_sockets = k;
    s->n_sockets++;
    json_t *hist = wc_history_load(s, vid);
    if (hist) socket_push(k, hist);
    json_decref(hist);
}

void wc_live_notify(wc_state *s, const char *vid, json_t *known)
{
    json_t *hist = known ? json_incref(known) : wc_history_load(s, vid);
    if (!hist) return;
    for (wc_waiter *w = s->waiters, *next; w; w = next) {
        next = w->next;
        if (strcmp(w->vid, vid) != 0) continue;
        waiter_unlink(w);
        s->host->timer_stop(s->ctx, w->timer_id);
        waiter_answer(w, hist);
        free(w);
    }
    for (wc_socket *k = g_sockets; k; k = k->next)
        if (k->s == s && strcmp(k->vid, vid) == 0) socket_push(k, hist);
    json_decref(hist);
}

void wc_live_forget(wc_state *s, const char *vid)
{
    sb_ctx *oc = owner_ctx();
    for (wc_waiter *w = s->waiters, *next; w; w = next) {
        next = w->next;
        if (strcmp(w->vid, vid) != 0) continue;
        waiter_unlink(w);
        s->host->timer_stop(s->ctx, w->timer_id);
        if (oc) s->host->http_error(oc, w->reply_id, 410, "gone", "this chat was erased");
        free(w);
    }
    for (wc_socket *k = g_sockets; k; k = k->next)
        if (k->s == s && strcmp(k->vid, vid) == 0 && oc)
            s->host->ws_close(oc, k->ws_id, 4410, "this chat was erased");
}

void wc_live_stop(wc_state *s)
{
    sb_ctx *oc = owner_ctx();
    while (s->waiters) {
        wc_waiter *w = s->waiters;
        waiter_unlink(w);
        s->host->timer_stop(s->ctx, w->timer_id);
        if (oc) s->host->http_error(oc, w->reply_id, 503, "unavailable", "server stopping");
        free(w);
    }
    for (wc_socket *k = g_sockets; k; k = k->next)
        if (k->s == s) {
            if (oc) s->host->ws_close(oc, k->ws_id, 1001, "server stopping");
            k->s = NULL;
        }
    s->n_sockets = 0;
}

void wc_live_owner_gone(void)
{
    while (g_sockets) {
        wc_socket *k = g_sockets;
        g_sockets = k->next;
        if (k->s) k->s->n_sockets--;
        free(k);
    }
}

void wc_typing(wc_state *s, const char *vid, const char *text)
{
    const sb_host *h = s->host;
    if (!SB_HOST_HAS(h, client_typing)) return;
    unsigned slot = 0;
    for (const char *p = vid; *p; p++) slot = slot * 31u + (unsigned char)*p;
    slot %= sizeof s->typing / sizeof *s->typing;
    int64_t now = h->now_ms(s->ctx);
    bool same = strcmp(s->typing[slot].vid, vid) == 0;
    /* At most about three previews a second per visitor; "stopped" always. */
    if (*text && same && now - s->typing[slot].at < 300) return;
    memcpy(s->typing[slot].vid, vid, WC_VID_HEX + 1);
    s->typing[slot].at = now;
    /* The host cuts the text at 1024 bytes; our inputs are bounded at 8 KiB. */
    h->client_typing(s->ctx, vid, text);
}
