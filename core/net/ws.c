/* WebSocket connections: wslay's event API over the connection's input
 * buffer and output queue. wslay never touches the socket: its recv
 * callback takes bytes already read, its send callback appends to the
 * connection's queue (bounded by SB_HTTP_OUT_HIGH; the rest waits in
 * wslay's own queue), and the connection's write watcher does the I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "net/http_internal.h"

struct sb_ws {
    wslay_event_context_ptr ctx;
    sb_ws_handlers h;
    void *ud;
    uint64_t id;
    int code;     /* close code the server chose, 0 when none */
    bool closing; /* close begun: sends refused, grace timer running */
};

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *ud)
{
    sb_http_conn *c = ud;
    size_t avail = c->in_len - c->in_off;
    (void)flags;
    if (!avail) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > avail)
        len = avail;
    memcpy(buf, c->in + c->in_off, len);
    c->in_off += len;
    return (ssize_t)len;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *ud)
{
    sb_http_conn *c = ud;
    (void)flags;
    if (c->out_bytes >= SB_HTTP_OUT_HIGH) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > SB_HTTP_OUT_HIGH - c->out_bytes)
        len = SB_HTTP_OUT_HIGH - c->out_bytes;
    if (sb_http_conn_queue(c, data, len) != SB_OK) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    sb_http_conn *c = ud;
    sb_ws *ws = c->ws;
    (void)ctx;
    if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && !ws->closing &&
        ws->h.on_message)
        ws->h.on_message(ws->ud, ws->id, arg->opcode == WSLAY_BINARY_FRAME,
                         arg->msg ? (const void *)arg->msg : "", arg->msg_length);
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

/* A close handshake that does not finish within one ping interval is
 * cut. */
static void start_closing(sb_http_conn *c, int code)
{
    sb_ws *ws = c->ws;
    if (code && !ws->code)
        ws->code = code;
    if (!ws->closing) {
        ws->closing = true;
        sb_http_conn_arm(c, c->srv->lim.ws_ping_ms);
    }
}

void sb_ws_gone(sb_http_conn *c, int code)
{
    sb_ws *ws = c->ws;
    sb_ws_handlers h;
    void *ud;
    uint64_t id;
    if (!ws)
        return;
    if (wslay_event_get_close_received(ws->ctx))
        code = wslay_event_get_status_code_received(ws->ctx);
    else if (ws->code)
        code = ws->code;
    else if (wslay_event_get_close_sent(ws->ctx))
        code = wslay_event_get_status_code_sent(ws->ctx);
    h = ws->h;
    ud = ws->ud;
    id = ws->id;
    c->ws = NULL;
    sb_idmap_del(&c->srv->ids, id);
    c->srv->stats.ws_clients--;
    wslay_event_context_free(ws->ctx);
    free(ws);
    if (h.on_close)
        h.on_close(ud, id, code);
}

/* Moves wslay's frames to the socket and notices the end of the close
 * handshake. */
static void pump(sb_http_conn *c)
{
    sb_ws *ws = c->ws;
    if (!ws->closing &&
        (!wslay_event_get_read_enabled(ws->ctx) || wslay_event_get_close_sent(ws->ctx)))
        start_closing(c, 0);
    /* wslay hands over at most SB_HTTP_OUT_HIGH at a time: refill while the
     * socket takes everything, stop when it is full (the write watcher is
     * on) or wslay has nothing more */
    do {
        if (wslay_event_send(ws->ctx) != 0) {
            sb_http_conn_close(c);
            return;
        }
        sb_http_conn_flush(c);
        if (c->closed)
            return;
    } while (!c->out_head && wslay_event_want_write(ws->ctx));
    if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx) && !c->out_head) {
        sb_ws_gone(c, 1006);
        sb_http_conn_begin_close(c);
    }
}

void sb_ws_on_input(sb_http_conn *c)
{
    sb_ws *ws = c->ws;
    if (!wslay_event_want_read(ws->ctx)) {
        c->in_off = c->in_len; /* after a close frame nothing more is read */
    } else if (wslay_event_recv(ws->ctx) != 0) {
        sb_http_conn_close(c); /* out of memory */
        return;
    }
    pump(c);
}

void sb_ws_on_writable(sb_http_conn *c)
{
    pump(c);
}

void sb_ws_on_timer(sb_http_conn *c)
{
    sb_ws *ws = c->ws;
    uint64_t ping = c->srv->lim.ws_ping_ms;
    if (ws->closing || (ev_now(c->srv->loop) - c->last_rx) * 1000.0 >= 2.0 * (double)ping) {
        sb_http_conn_close(c);
        return;
    }
    struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
    if (wslay_event_queue_msg(ws->ctx, &m) != 0) {
        sb_http_conn_close(c);
        return;
    }
    pump(c);
    if (!c->closed && c->ws && !c->ws->closing)
        sb_http_conn_arm(c, ping);
}

sb_status sb_ws_accept(sb_http_server *srv, uint64_t req_id, const sb_ws_handlers *h, void *ud,
                       uint64_t *ws_id)
{
    sb_http_conn *c = sb_http_conn_by_id(srv, req_id);
    const char *why;
    bool bad_version;
    char accept[29];
    char resp[160];
    int n;
    sb_ws *ws;

    if (!c || c->req_id != req_id || c->st != SB_CS_HANDLER)
        return SB_ERR_HANDLE;
    if (!h || !ws_id)
        return SB_ERR_INVALID;
    sb_http_conn_enter(c);
    why = sb_ws_check_upgrade(&c->req, &bad_version);
    if (!why && !(c->hp.http_major == 1 && c->hp.http_minor >= 1))
        why = "a WebSocket upgrade needs HTTP/1.1";
    if (why) {
        char body[256];
        sb_header vh = {"Sec-WebSocket-Version", "13"};
        size_t bl = sb_http_error_json(body, sizeof body, "bad_request", why);
        sb_http_conn_respond(c, 400, NULL, bad_version ? &vh : NULL, bad_version ? 1 : 0, body,
                             bl < sizeof body ? bl : 0, true);
        sb_http_conn_leave(c);
        return SB_ERR_INVALID;
    }
    sb_ws_accept_key(sb_http_header(&c->req, "Sec-WebSocket-Key"), accept);
    ws = calloc(1, sizeof *ws);
    if (!ws || wslay_event_context_server_init(&ws->ctx, &ws_callbacks, c) != 0) {
        free(ws);
        sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
        sb_http_conn_leave(c);
        return SB_ERR_NOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, srv->lim.ws_max_message);
    ws->h = *h;
    ws->ud = ud;
    ws->id = sb_http_next_id(srv);
    n = snprintf(resp, sizeof resp,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    if (sb_idmap_put(&srv->ids, ws->id, (uint64_t)(uintptr_t)c) != SB_OK ||
        sb_http_conn_queue(c, resp, (size_t)n) != SB_OK) {
        sb_idmap_del(&srv->ids, ws->id);
        wslay_event_context_free(ws->ctx);
        free(ws);
        sb_http_conn_close(c);
        sb_http_conn_leave(c);
        return SB_ERR_NOMEM;
    }
    sb_http_conn_done(c, 101);
    c->ws = ws;
    c->st = SB_CS_WS;
    c->last_rx = ev_now(srv->loop);
    srv->stats.ws_clients++;
    sb_http_conn_arm(c, srv->lim.ws_ping_ms);
    sb_http_conn_update_read(c);
    /* the 101 and any frames that came with the request: from the loop */
    ev_io_start(srv->loop, &c->ww);
    sb_http_conn_kick(c);
    *ws_id = ws->id;
    sb_http_conn_leave(c);
    return SB_OK;
}

static sb_http_conn *ws_conn(sb_http_server *srv, uint64_t id)
{
    sb_http_conn *c = sb_http_conn_by_id(srv, id);
    return c && c->ws && c->ws->id == id ? c : NULL;
}

sb_status sb_ws_send(sb_http_server *srv, uint64_t ws_id, bool binary, const void *data, size_t len)
{
    sb_http_conn *c = ws_conn(srv, ws_id);
    sb_ws *ws;
    struct wslay_event_msg m;
    int r;
    if (!c)
        return SB_ERR_HANDLE;
    ws = c->ws;
    if (ws->closing)
        return SB_ERR_STATE;
    if (len && !data)
        return SB_ERR_INVALID;
    if (wslay_event_get_queued_msg_length(ws->ctx) + c->out_bytes + len > srv->lim.ws_max_queue) {
        static const char why[] = "send queue full";
        wslay_event_queue_close(ws->ctx, 1008, (const uint8_t *)why, sizeof why - 1);
        start_closing(c, 1008);
        ev_io_start(srv->loop, &c->ww);
        return SB_ERR_FULL;
    }
    m.opcode = binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME;
    m.msg = data;
    m.msg_length = len;
    r = wslay_event_queue_msg(ws->ctx, &m);
    if (r == WSLAY_ERR_NOMEM)
        return SB_ERR_NOMEM;
    if (r != 0)
        return SB_ERR_STATE;
    ev_io_start(srv->loop, &c->ww);
    return SB_OK;
}

static bool valid_close_code(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

sb_status sb_ws_close(sb_http_server *srv, uint64_t ws_id, int code, const char *reason)
{
    sb_http_conn *c = ws_conn(srv, ws_id);
    size_t rlen = reason ? strlen(reason) : 0;
    if (!c)
        return SB_ERR_HANDLE;
    if (c->ws->closing)
        return SB_OK;
    if (!valid_close_code(code) || rlen > 123)
        return SB_ERR_INVALID;
    wslay_event_queue_close(c->ws->ctx, (uint16_t)code, (const uint8_t *)reason, rlen);
    start_closing(c, code);
    ev_io_start(srv->loop, &c->ww);
    return SB_OK;
}
