/* The server: limits, listeners, accept (with the connection limit),
 * statistics. Connections themselves live in http_conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_internal.h"
#include "util/log.h"

/* Per readiness: enough to drain a burst, bounded so one listener cannot
 * starve the loop. */
#define ACCEPT_BURST 64
/* After EMFILE/ENFILE the listening socket stays readable: back off. */
#define ACCEPT_RETRY_S 0.1
/* http-parser is built with an 80 KiB head ceiling. */
#define PARSER_HEAD_MAX (80 * 1024)

static void fill_limits(sb_http_limits *l, const sb_http_limits *in)
{
    static const sb_http_limits def = {
        .max_body = 1 << 20,
        .max_header = 16 << 10,
        .max_headers = 100,
        .max_connections = 10000,
        .idle_timeout_ms = 60000,
        .header_timeout_ms = 10000,
        .body_timeout_ms = 30000,
        .ws_max_message = 1 << 20,
        .ws_max_queue = 4 << 20,
        .ws_ping_ms = 30000,
    };
    *l = in ? *in : def;
#define DEF(f)                                                                                     \
    if (l->f <= 0)                                                                                 \
    l->f = def.f
    DEF(max_body);
    DEF(max_header);
    DEF(max_headers);
    DEF(max_connections);
    DEF(idle_timeout_ms);
    DEF(header_timeout_ms);
    DEF(body_timeout_ms);
    DEF(ws_max_message);
    DEF(ws_max_queue);
    DEF(ws_ping_ms);
#undef DEF
    if (l->max_header > PARSER_HEAD_MAX)
        l->max_header = PARSER_HEAD_MAX;
}

static void update_accept(sb_http_server *srv)
{
    bool on = !srv->stopping && !srv->paused && !ev_is_active(&srv->retry);
    for (size_t i = 0; i < srv->n_ls; i++) {
        if (on)
            ev_io_start(srv->loop, &srv->ls[i]->w);
        else
            ev_io_stop(srv->loop, &srv->ls[i]->w);
    }
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    update_accept(w->data);
}

sb_http_server *sb_http_server_new(struct ev_loop *loop, const sb_http_limits *lim)
{
    sb_http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->loop = loop;
    fill_limits(&srv->lim, lim);
    ev_timer_init(&srv->retry, on_retry, ACCEPT_RETRY_S, 0);
    srv->retry.data = srv;
    return srv;
}

void sb_http_server_free(sb_http_server *srv)
{
    if (!srv)
        return;
    srv->stopping = true;
    ev_timer_stop(srv->loop, &srv->retry);
    update_accept(srv);
    while (srv->conns) {
        sb_http_conn *c = srv->conns;
        if (c->ws)
            sb_ws_gone(c, 1001);
        sb_http_conn_close(c);
    }
    for (size_t i = 0; i < srv->n_ls; i++) {
        close(srv->ls[i]->fd);
        sb_tls_server_free(srv->ls[i]->tls);
        free(srv->ls[i]);
    }
    free(srv->ls);
    sb_idmap_free(&srv->ids);
    sb_http_routes_free(srv);
    free(srv);
}

uint64_t sb_http_next_id(sb_http_server *srv)
{
    return ++srv->next_id;
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, len, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, len, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
    } else {
        snprintf(out, len, "local");
    }
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    sb_http_server *srv = w->data;
    sb_http_listener *l = (sb_http_listener *)w;
    (void)revents;
    for (int i = 0; i < ACCEPT_BURST && ev_is_active(w); i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char peer[64];
        int one = 1;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                sb_warn("http", "accept: %s; pausing accept for %.0f ms", strerror(errno),
                        ACCEPT_RETRY_S * 1000);
                ev_timer_set(&srv->retry, ACCEPT_RETRY_S, 0);
                ev_timer_start(loop, &srv->retry);
                update_accept(srv);
            }
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        format_peer(&ss, peer, sizeof peer);
        srv->stats.accepted++;
        sb_http_adopt_fd(srv, fd, l->tls, peer);
    }
}

void sb_http_server_conn_gone(sb_http_server *srv)
{
    srv->stats.open_connections--;
    if (srv->paused && (int64_t)srv->stats.open_connections < srv->lim.max_connections) {
        srv->paused = false;
        update_accept(srv);
    }
}

/* Called by sb_http_adopt_fd once the connection is counted. */
static void count_conn(sb_http_server *srv)
{
    srv->stats.open_connections++;
    if (!srv->paused && (int64_t)srv->stats.open_connections >= srv->lim.max_connections) {
        srv->paused = true;
        srv->stats.rejected_limit++;
        update_accept(srv);
    }
}

/* The address forms of sb_http_listen. */
static bool parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, char *err,
                       size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *port_s;
    char *end;
    long port;
    size_t hlen;

    memset(ss, 0, sizeof *ss);
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "listen %s: expected [v6]:port", addr);
            return false;
        }
        hlen = (size_t)(rb - addr - 1);
        port_s = rb + 2;
        if (hlen >= sizeof host) {
            snprintf(err, errlen, "listen %s: bad IPv6 address", addr);
            return false;
        }
        memcpy(host, addr + 1, hlen);
        host[hlen] = 0;
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            snprintf(err, errlen, "listen %s: bad IPv6 address", addr);
            return false;
        }
        *sl = sizeof *a;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon) {
            snprintf(err, errlen, "listen %s: expected host:port", addr);
            return false;
        }
        hlen = (size_t)(colon - addr);
        port_s = colon + 1;
        if (hlen >= sizeof host) {
            snprintf(err, errlen, "listen %s: bad host", addr);
            return false;
        }
        memcpy(host, addr, hlen);
        host[hlen] = 0;
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        if (!host[0] || !strcmp(host, "*"))
            a->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (!strcmp(host, "localhost"))
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            /* no DNS here: the loop never blocks on a resolver */
            snprintf(err, errlen, "listen %s: host must be a numeric address", addr);
            return false;
        }
        *sl = sizeof *a;
    }
    errno = 0;
    port = strtol(port_s, &end, 10);
    if (!*port_s || *end || errno || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen %s: bad port", addr);
        return false;
    }
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    return true;
}

sb_status sb_http_listen(sb_http_server *srv, const char *addr, const char *tls_cert,
                         const char *tls_key, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1;
    sb_http_listener *l, **nls;
    sb_tls_server *tls = NULL;
    char dummy[8];

    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!srv || !addr) {
        snprintf(err, errlen, "listen: no address");
        return SB_ERR_INVALID;
    }
    if (!parse_addr(addr, &ss, &sl, err, errlen))
        return SB_ERR_INVALID;
    if ((tls_cert && *tls_cert) != (tls_key && *tls_key)) {
        snprintf(err, errlen, "listen %s: TLS needs both a certificate and a key", addr);
        return SB_ERR_INVALID;
    }
    if (tls_cert && *tls_cert) {
        char why[256];
        tls = sb_tls_server_new(tls_cert, tls_key, why, sizeof why);
        if (!tls) {
            snprintf(err, errlen, "listen %s: TLS: %s", addr, why);
            return SB_ERR_INVALID;
        }
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "listen %s: socket: %s", addr, strerror(errno));
        sb_tls_server_free(tls);
        return SB_ERR_IO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
        snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
        close(fd);
        sb_tls_server_free(tls);
        return SB_ERR_IO;
    }
    l = calloc(1, sizeof *l);
    nls = realloc(srv->ls, (srv->n_ls + 1) * sizeof *nls);
    if (!l || !nls) {
        free(l);
        if (nls)
            srv->ls = nls;
        close(fd);
        sb_tls_server_free(tls);
        snprintf(err, errlen, "listen %s: out of memory", addr);
        return SB_ERR_NOMEM;
    }
    srv->ls = nls;
    l->fd = fd;
    l->tls = tls;
    ev_io_init(&l->w, on_accept, fd, EV_READ);
    l->w.data = srv;
    srv->ls[srv->n_ls++] = l;
    {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        int port = 0;
        if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0)
            port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
        if (!srv->port)
            srv->port = port;
        sb_info("http", "bound %s (port %d)%s", addr, port, tls ? ", TLS" : "");
    }
    update_accept(srv);
    return SB_OK;
}

int sb_http_port(const sb_http_server *srv)
{
    return srv ? srv->port : 0;
}

void sb_http_stop_accepting(sb_http_server *srv)
{
    srv->stopping = true;
    update_accept(srv);
}

void sb_http_set_observer(sb_http_server *srv, sb_http_observe_fn fn, void *ud)
{
    srv->observe = fn;
    srv->observe_ud = ud;
}

void sb_http_get_stats(const sb_http_server *srv, sb_http_stats *out)
{
    *out = srv->stats;
}

sb_http_conn *sb_http_adopt_fd(sb_http_server *srv, int fd, sb_tls_server *tls, const char *peer)
{
    sb_http_conn *c = sb_http_conn_new(srv, fd, tls, peer);
    if (!c) {
        sb_warn("http", "dropping connection from %s: out of memory", peer);
        close(fd);
        return NULL;
    }
    count_conn(srv);
    return c;
}
