/* One client connection: socket I/O (plain or TLS), the output queue,
 * the single timer, closing (flush, shut the write side, linger). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/http_internal.h"

#define READ_CHUNK (16 * 1024)
#define IOV_BATCH 64
/* After the last byte is sent, unread input (a refused body) is drained
 * this long so that closing does not reset the connection under the
 * answer. */
#define LINGER_MS 2000

/* ---- helpers --------------------------------------------------------------- */

static size_t in_limit(const sb_http_conn *c)
{
    return (size_t)c->srv->lim.max_header + READ_CHUNK;
}

static void conn_free(sb_http_conn *c)
{
    sb_http_outbuf *b = c->out_head;
    while (b) {
        sb_http_outbuf *n = b->next;
        free(b);
        b = n;
    }
    free(c->in);
    sb_http_parse_free(c);
    free(c);
}

void sb_http_conn_enter(sb_http_conn *c)
{
    c->busy++;
}

void sb_http_conn_leave(sb_http_conn *c)
{
    if (--c->busy == 0 && c->closed)
        conn_free(c);
}

void sb_http_conn_close(sb_http_conn *c)
{
    sb_http_server *srv = c->srv;
    if (c->closed)
        return;
    c->closed = true;
    if (c->ws)
        sb_ws_gone(c, 1006);
    if (c->req_id) {
        sb_idmap_del(&srv->ids, c->req_id);
        c->req_id = 0;
    }
    ev_io_stop(srv->loop, &c->rw);
    ev_io_stop(srv->loop, &c->ww);
    ev_timer_stop(srv->loop, &c->tm);
    sb_tls_conn_free(c->tls);
    c->tls = NULL;
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sb_http_server_conn_gone(srv);
    if (!c->busy)
        conn_free(c);
}

void sb_http_conn_arm(sb_http_conn *c, uint64_t ms)
{
    ev_timer_stop(c->srv->loop, &c->tm);
    if (ms) {
        ev_timer_set(&c->tm, (double)ms / 1000.0, 0.);
        ev_timer_start(c->srv->loop, &c->tm);
    }
}

void sb_http_conn_kick(sb_http_conn *c)
{
    if (!c->closed)
        ev_feed_event(c->srv->loop, &c->rw, EV_CUSTOM);
}

void sb_http_conn_update_read(sb_http_conn *c)
{
    bool want;
    if (c->closed)
        return;
    want = !c->eof && c->st != SB_CS_CLOSING && c->in_len - c->in_off < in_limit(c);
    if (want) {
        ev_io_start(c->srv->loop, &c->rw);
        /* decrypted bytes inside mbedtls do not make the socket readable */
        if (c->tls && c->st != SB_CS_TLS && c->st != SB_CS_LINGER && sb_tls_pending(c->tls))
            sb_http_conn_kick(c);
    } else {
        ev_io_stop(c->srv->loop, &c->rw);
    }
    /* an idle connection keeps no input buffer */
    if (c->in_off == c->in_len && c->in_cap && c->st != SB_CS_HEAD && c->st != SB_CS_BODY) {
        free(c->in);
        c->in = NULL;
        c->in_cap = c->in_len = c->in_off = 0;
    }
}

/* ---- output -------------------------------------------------------------- */

sb_http_outbuf *sb_http_outbuf_new(size_t cap)
{
    sb_http_outbuf *b = malloc(sizeof *b + cap);
    if (b) {
        b->next = NULL;
        b->len = b->off = 0;
        b->cap = cap;
    }
    return b;
}

void sb_http_conn_queue_buf(sb_http_conn *c, sb_http_outbuf *b)
{
    if (c->out_tail)
        c->out_tail->next = b;
    else
        c->out_head = b;
    c->out_tail = b;
    c->out_bytes += b->len - b->off;
}

sb_status sb_http_conn_queue(sb_http_conn *c, const void *data, size_t len)
{
    sb_http_outbuf *t = c->out_tail;
    if (!len)
        return SB_OK;
    /* small writes (WebSocket frame headers) share the tail buffer; a TLS
     * retry keeps its own length in tls_retry, so growing is safe */
    if (t && t->cap - t->len >= len) {
        memcpy(t->data + t->len, data, len);
        t->len += len;
        c->out_bytes += len;
        return SB_OK;
    }
    t = sb_http_outbuf_new(len < 4096 ? 4096 : len);
    if (!t)
        return SB_ERR_NOMEM;
    memcpy(t->data, data, len);
    t->len = len;
    sb_http_conn_queue_buf(c, t);
    return SB_OK;
}

static void out_advance(sb_http_conn *c, size_t n)
{
    c->out_bytes -= n;
    while (n) {
        sb_http_outbuf *b = c->out_head;
        size_t left = b->len - b->off;
        if (n < left) {
            b->off += n;
            return;
        }
        n -= left;
        c->out_head = b->next;
        if (!c->out_head)
            c->out_tail = NULL;
        free(b);
    }
}

void sb_http_conn_flush(sb_http_conn *c)
{
    struct ev_loop *loop = c->srv->loop;
    if (c->closed || c->st == SB_CS_TLS)
        return;
    while (c->out_head) {
        if (c->tls) {
            sb_http_outbuf *b = c->out_head;
            size_t len = c->tls_retry ? c->tls_retry : b->len - b->off;
            ssize_t n = sb_tls_write(c->tls, b->data + b->off, len);
            if (n == SB_TLS_WANT_WRITE) {
                c->tls_retry = len;
                ev_io_start(loop, &c->ww);
                return;
            }
            if (n <= 0) { /* WANT_READ too: renegotiation is off */
                sb_http_conn_close(c);
                return;
            }
            c->tls_retry = 0;
            out_advance(c, (size_t)n);
        } else {
            struct iovec iov[IOV_BATCH];
            struct msghdr mh = {.msg_iov = iov};
            int cnt = 0;
            ssize_t n;
            for (sb_http_outbuf *b = c->out_head; b && cnt < IOV_BATCH; b = b->next) {
                iov[cnt].iov_base = b->data + b->off;
                iov[cnt].iov_len = b->len - b->off;
                cnt++;
            }
            mh.msg_iovlen = (size_t)cnt;
            n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    ev_io_start(loop, &c->ww);
                    return;
                }
                sb_http_conn_close(c);
                return;
            }
            out_advance(c, (size_t)n);
        }
    }
    if (!c->tls_read_wants_write)
        ev_io_stop(loop, &c->ww);
}

/* Bytes not yet delivered: the output queue and the kernel's send queue. */
static size_t pending_out(const sb_http_conn *c)
{
    int q = 0;
    if (ioctl(c->fd, SIOCOUTQ, &q) < 0 || q < 0)
        q = 0;
    return c->out_bytes + (size_t)q;
}

void sb_http_conn_arm_idle(sb_http_conn *c)
{
    c->out_mark = SIZE_MAX; /* the first expiry with output pending re-arms */
    sb_http_conn_arm(c, c->srv->lim.idle_timeout_ms);
}

/* ---- closing --------------------------------------------------------------- */

static void enter_linger(sb_http_conn *c)
{
    if (c->tls)
        sb_tls_close_notify(c->tls);
    if (c->eof || shutdown(c->fd, SHUT_WR) < 0) {
        sb_http_conn_close(c);
        return;
    }
    c->st = SB_CS_LINGER;
    ev_io_stop(c->srv->loop, &c->ww);
    ev_io_start(c->srv->loop, &c->rw);
    sb_http_conn_arm(c, c->srv->lim.idle_timeout_ms < LINGER_MS ? c->srv->lim.idle_timeout_ms
                                                                : LINGER_MS);
}

void sb_http_conn_begin_close(sb_http_conn *c)
{
    if (c->closed)
        return;
    c->st = SB_CS_CLOSING;
    sb_http_conn_arm_idle(c);
    sb_http_conn_update_read(c);
    sb_http_conn_flush(c);
    if (!c->closed && !c->out_head)
        enter_linger(c);
}

static void linger_drain(sb_http_conn *c)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        sb_http_conn_close(c);
        return;
    }
}

/* ---- input --------------------------------------------------------------- */

/* >0 bytes, 0 EOF, -1 nothing now, -2 error. */
static ssize_t io_read(sb_http_conn *c, char *buf, size_t len)
{
    if (c->tls) {
        ssize_t n = sb_tls_read(c->tls, buf, len);
        if (n >= 0)
            return n;
        if (n == SB_TLS_WANT_READ)
            return -1;
        if (n == SB_TLS_WANT_WRITE) {
            c->tls_read_wants_write = true;
            ev_io_start(c->srv->loop, &c->ww);
            return -1;
        }
        return -2;
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
}

/* Reads until the socket is empty, EOF, or the buffer limit. */
static void read_input(sb_http_conn *c)
{
    size_t limit = in_limit(c);
    while (!c->eof) {
        size_t room;
        ssize_t n;
        if (c->in_off == c->in_len)
            c->in_off = c->in_len = 0;
        if (c->in_len - c->in_off >= limit)
            return;
        if (c->in_cap - c->in_len < READ_CHUNK) {
            if (c->in_off) {
                memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
                c->in_len -= c->in_off;
                c->in_off = 0;
            }
            if (c->in_cap - c->in_len < READ_CHUNK) {
                char *nb = realloc(c->in, c->in_len + READ_CHUNK);
                if (!nb) {
                    sb_http_conn_close(c);
                    return;
                }
                c->in = nb;
                c->in_cap = c->in_len + READ_CHUNK;
            }
        }
        room = c->in_cap - c->in_len;
        n = io_read(c, c->in + c->in_len, room);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->last_rx = ev_now(c->srv->loop);
            if ((size_t)n < room && !c->tls)
                return; /* short read: the socket is drained */
        } else if (n == 0) {
            c->eof = true;
        } else if (n == -1) {
            return;
        } else {
            sb_http_conn_close(c);
            return;
        }
    }
}

/* The peer sent everything it will: a pending request is abandoned (its
 * late answer gets SB_ERR_HANDLE); queued answers still go out. */
static void handle_eof(sb_http_conn *c)
{
    switch (c->st) {
    case SB_CS_CLOSING:
        return;
    case SB_CS_WS:
        sb_ws_gone(c, 1006);
        break;
    case SB_CS_HANDLER:
        sb_http_conn_close(c);
        return;
    default:
        break;
    }
    if (c->out_head)
        sb_http_conn_begin_close(c);
    else
        sb_http_conn_close(c);
}

static void process_input(sb_http_conn *c)
{
    if (c->st != SB_CS_WS)
        sb_http_process(c);
    if (!c->closed && c->st == SB_CS_WS)
        sb_ws_on_input(c);
    /* pipelined requests still buffered are served before EOF counts */
    if (!c->closed && c->eof &&
        (c->in_off == c->in_len || c->st == SB_CS_HANDLER || c->st == SB_CS_WS))
        handle_eof(c);
    sb_http_conn_update_read(c);
}

static void conn_readable(sb_http_conn *c);

static void tls_step(sb_http_conn *c)
{
    int r = sb_tls_handshake(c->tls);
    if (r == SB_TLS_WANT_READ) {
        ev_io_stop(c->srv->loop, &c->ww);
        return;
    }
    if (r == SB_TLS_WANT_WRITE) {
        ev_io_start(c->srv->loop, &c->ww);
        return;
    }
    if (r != 0) {
        sb_http_conn_close(c);
        return;
    }
    ev_io_stop(c->srv->loop, &c->ww);
    c->st = SB_CS_IDLE;
    sb_http_conn_arm_idle(c);
    conn_readable(c); /* the first request may have come with the Finished */
}

static void conn_readable(sb_http_conn *c)
{
    if (c->st == SB_CS_TLS) {
        tls_step(c);
        return;
    }
    if (c->st == SB_CS_LINGER) {
        linger_drain(c);
        return;
    }
    read_input(c);
    if (!c->closed)
        process_input(c);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    sb_http_conn *c = w->data;
    (void)loop;
    (void)revents;
    sb_http_conn_enter(c);
    conn_readable(c);
    sb_http_conn_leave(c);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    sb_http_conn *c = w->data;
    (void)loop;
    (void)revents;
    sb_http_conn_enter(c);
    if (c->st == SB_CS_TLS) {
        tls_step(c);
    } else {
        if (c->tls_read_wants_write) {
            c->tls_read_wants_write = false;
            conn_readable(c);
        }
        sb_http_conn_flush(c);
        if (!c->closed) {
            if (c->st == SB_CS_CLOSING && !c->out_head)
                enter_linger(c);
            else if (c->st == SB_CS_WS)
                sb_ws_on_writable(c);
            else if (c->out_bytes < SB_HTTP_OUT_HIGH && c->in_off < c->in_len)
                process_input(c); /* pipelined requests held back by output */
        }
    }
    sb_http_conn_leave(c);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    sb_http_conn *c = w->data;
    (void)loop;
    (void)revents;
    sb_http_conn_enter(c);
    switch (c->st) {
    case SB_CS_HEAD:
    case SB_CS_BODY:
        sb_http_conn_fail(c, 408, "timeout", "request not received in time", true);
        break;
    case SB_CS_IDLE:
    case SB_CS_CLOSING:
        /* an answer still being read, slowly but steadily, is not idle:
         * close only when nothing moved during a whole timeout */
        if (c->out_head && pending_out(c) < c->out_mark) {
            c->out_mark = pending_out(c);
            sb_http_conn_arm(c, c->srv->lim.idle_timeout_ms);
        } else {
            sb_http_conn_close(c);
        }
        break;
    case SB_CS_WS:
        sb_ws_on_timer(c);
        break;
    default: /* TLS handshake, linger */
        sb_http_conn_close(c);
        break;
    }
    sb_http_conn_leave(c);
}

sb_http_conn *sb_http_conn_new(sb_http_server *srv, int fd, sb_tls_server *tls, const char *peer)
{
    sb_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->fd = fd;
    if (tls && !(c->tls = sb_tls_conn_new(tls, fd))) {
        free(c);
        return NULL;
    }
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    ev_io_init(&c->rw, on_read, fd, EV_READ);
    ev_io_init(&c->ww, on_write, fd, EV_WRITE);
    ev_init(&c->tm, on_timer);
    c->rw.data = c->ww.data = c->tm.data = c;
    sb_http_parse_init(c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    c->st = tls ? SB_CS_TLS : SB_CS_IDLE;
    c->last_rx = ev_now(srv->loop);
    if (tls)
        sb_http_conn_arm(c, srv->lim.header_timeout_ms);
    else
        sb_http_conn_arm_idle(c);
    ev_io_start(srv->loop, &c->rw);
    return c;
}
