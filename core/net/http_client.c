/* Outbound HTTP: one CURLM driven by libev through curl_multi_socket_action.
 * Contract in http_client.h. */
#include "net/http_client.h"

#include <curl/curl.h>
#include <ev.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/log.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define MAX_RESPONSE_HEAD ((size_t)64 << 10) /* header bytes kept per answer */
#define MAX_METHOD 16

/* The fields of sb_http_call in ABI 1.0; a newer plugin's bigger struct is
 * fine, a smaller one is not a call. */
#define CALL_V1_SIZE (offsetof(sb_http_call, max_response) + sizeof(size_t))

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

typedef struct req req;
struct req {
    req *prev, *next;
    sb_http_client *c;
    uint64_t id;
    CURL *easy;
    const void *owner;
    sb_http_done done;
    void *ud;
    struct curl_slist *out_headers;
    char *out_body;
    size_t max_response;
    buf body;            /* NUL-terminated */
    buf head;            /* answer headers as "name\0value\0" pairs */
    size_t n_head;
    const char *overflow; /* what went over its cap, aborting the transfer */
    int nomem;
    int doomed;          /* picked by a bulk cancel */
    uint64_t t0_ms;
    char errbuf[CURL_ERROR_SIZE];
};

struct sb_http_client {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    req *reqs; /* in flight, newest first */
    uint64_t next_id;
    unsigned active;
    int closing;
};

/* One per socket curl asks us to watch, attached with curl_multi_assign. */
typedef struct sock {
    ev_io io;
    sb_http_client *c;
} sock;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Appends n bytes and keeps a NUL after them; 0 or -1 (out of memory). */
static int buf_add(buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* ---- completion ---------------------------------------------------------- */

static void req_free(req *r)
{
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->out_headers);
    free(r->out_body);
    free(r->body.p);
    free(r->head.p);
    free(r);
}

/* Detaches r, runs its done once with `st` (and the answer when SB_OK), frees
 * it. r is out of the list before done runs, so done may start, cancel (r's
 * id is then stale) or cancel others freely. */
static void deliver(req *r, sb_status st, const char *error)
{
    sb_http_client *c = r->c;
    if (r->prev) r->prev->next = r->next;
    else c->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    c->active--;
    curl_multi_remove_handle(c->multi, r->easy);

    sb_http_response res = {.struct_size = sizeof res, .status = st,
                            .error = error, .body = "",
                            .elapsed_ms = mono_ms() - r->t0_ms};
    sb_header *hs = NULL;
    if (st == SB_OK) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
        if (r->body.p) {
            res.body = r->body.p;
            res.body_len = r->body.len;
        }
        if (r->n_head && !(hs = calloc(r->n_head, sizeof *hs))) {
            res = (sb_http_response){.struct_size = sizeof res,
                                     .status = SB_ERR_NOMEM,
                                     .error = "out of memory", .body = "",
                                     .elapsed_ms = res.elapsed_ms};
        } else {
            const char *p = r->head.p;
            for (size_t i = 0; i < r->n_head; i++) {
                hs[i].name = p;
                p += strlen(p) + 1;
                hs[i].value = p;
                p += strlen(p) + 1;
            }
            res.headers = hs;
            res.n_headers = r->n_head;
        }
    }
    r->done(r->ud, r->id, &res);
    free(hs);
    req_free(r);
}

static void finish(req *r, CURLcode rc)
{
    char err[CURL_ERROR_SIZE + 128];
    if (rc == CURLE_OK) {
        deliver(r, SB_OK, NULL);
        return;
    }
    sb_status st = SB_ERR_IO;
    if (r->overflow || rc == CURLE_FILESIZE_EXCEEDED) {
        st = SB_ERR_TOO_BIG;
        if (r->overflow && strcmp(r->overflow, "headers") == 0)
            snprintf(err, sizeof err, "response headers over %zu bytes",
                     MAX_RESPONSE_HEAD);
        else
            snprintf(err, sizeof err, "response body over %zu bytes",
                     r->max_response);
    } else if (r->nomem) {
        st = SB_ERR_NOMEM;
        snprintf(err, sizeof err, "out of memory");
    } else {
        if (rc == CURLE_OPERATION_TIMEDOUT) st = SB_ERR_TIMEOUT;
        if (r->errbuf[0])
            snprintf(err, sizeof err, "%s: %s", curl_easy_strerror(rc),
                     r->errbuf);
        else
            snprintf(err, sizeof err, "%s", curl_easy_strerror(rc));
    }
    deliver(r, st, err);
}

/* Hands every finished transfer to its done. Runs only after
 * curl_multi_socket_action returned, never inside a curl callback. */
static void drain(sb_http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        char *p = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
        finish((req *)p, m->data.result);
    }
}

/* ---- curl <-> libev ------------------------------------------------------ */

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    sb_http_client *c = ((sock *)w)->c;
    int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
                 (revents & EV_WRITE ? CURL_CSELECT_OUT : 0) |
                 (revents & EV_ERROR ? CURL_CSELECT_ERR : 0);
    int running;
    /* w may be freed inside (CURL_POLL_REMOVE); only the fd is used. */
    curl_multi_socket_action(c->multi, w->fd, action, &running);
    drain(c);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    sb_http_client *c = w->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(c);
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    (void)e;
    sb_http_client *c = userp;
    sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(c->loop, &s->io);
            free(s);
        }
        return 0;
    }
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return -1;
        s->c = c;
        ev_init(&s->io, on_io);
        curl_multi_assign(c->multi, fd, s);
    } else {
        ev_io_stop(c->loop, &s->io);
    }
    ev_io_set(&s->io, fd, (what & CURL_POLL_IN ? EV_READ : 0) |
                              (what & CURL_POLL_OUT ? EV_WRITE : 0));
    ev_io_start(c->loop, &s->io);
    return 0;
}

/* curl only asks for a (re)armed timer here; calling socket_action from
 * inside this callback is not allowed, so even 0 ms goes through libev. */
static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    sb_http_client *c = userp;
    ev_timer_stop(c->loop, &c->timer);
    if (timeout_ms >= 0) {
        /* Floating-point seconds: evhiperfifo's `timeout_ms / 1000` turns
         * 1..999 ms into 0 and busy-loops until the deadline. */
        ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(c->loop, &c->timer);
    }
    return 0;
}

/* ---- answer capture ------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    req *r = ud;
    size_t len = size * n;
    if (len > r->max_response - r->body.len) {
        r->overflow = "body";
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (buf_add(&r->body, p, len) != 0) {
        r->nomem = 1;
        return 0;
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    req *r = ud;
    size_t len = size * n, end = len;
    while (end && (p[end - 1] == '\r' || p[end - 1] == '\n')) end--;
    /* A status line starts a new answer (after 100 Continue, a proxy's
     * CONNECT): only the last answer's headers are kept. */
    if (end >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->head.len = 0;
        r->n_head = 0;
        return len;
    }
    const char *colon = memchr(p, ':', end);
    /* The blank line, and obsolete folded lines, carry no header. */
    if (!colon || colon == p || p[0] == ' ' || p[0] == '\t') return len;
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1, *vend = p + end;
    while (v < vend && (*v == ' ' || *v == '\t')) v++;
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
    size_t vlen = (size_t)(vend - v);
    if (r->head.len + nlen + vlen + 2 > MAX_RESPONSE_HEAD) {
        r->overflow = "headers";
        return 0;
    }
    if (buf_add(&r->head, p, nlen) || buf_add(&r->head, "", 1) ||
        buf_add(&r->head, v, vlen) || buf_add(&r->head, "", 1)) {
        r->nomem = 1;
        return 0;
    }
    r->n_head++;
    return len;
}

/* ---- starting ------------------------------------------------------------ */

static int url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (strcasecmp(scheme, "http") == 0 ||
              strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

static int method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > MAX_METHOD) return 0;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return 0;
    return 1;
}

/* "Name: value" lines; CR/LF anywhere would smuggle a header, so refused.
 * curl sends an empty value only when written "Name;". */
static int add_headers(req *r, const sb_header *hs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = hs[i].name, *val = hs[i].value ? hs[i].value : "";
        if (!name || !*name || strpbrk(name, "\r\n:; ") || strpbrk(val, "\r\n"))
            return -1;
        size_t sz = strlen(name) + strlen(val) + 3;
        char *line = malloc(sz);
        if (!line) return -1;
        if (*val) snprintf(line, sz, "%s: %s", name, val);
        else snprintf(line, sz, "%s;", name);
        struct curl_slist *l = curl_slist_append(r->out_headers, line);
        free(line);
        if (!l) return -1;
        r->out_headers = l;
    }
    return 0;
}

static int setup(req *r, const sb_http_call *call, const char *m)
{
    CURL *e = r->easy;
    if (call->body_len) {
        if (!(r->out_body = malloc(call->body_len))) return -1;
        memcpy(r->out_body, call->body, call->body_len);
    }
    if (add_headers(r, call->headers, call->n_headers) != 0) return -1;
    uint32_t tmo = call->timeout_ms ? call->timeout_ms : DEFAULT_TIMEOUT_MS;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_PRIVATE, (char *)r);
    SET(CURLOPT_URL, call->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)tmo);
    SET(CURLOPT_USERAGENT, "switchboard/" SB_VERSION);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    /* Refuses a declared Content-Length over the cap before any byte. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_response);
    SET(CURLOPT_HTTPHEADER, r->out_headers);
    int with_body = call->body_len > 0 || strcmp(m, "POST") == 0 ||
                    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
    if (strcmp(m, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (with_body) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
        SET(CURLOPT_POSTFIELDS, r->out_body ? r->out_body : "");
        if (strcmp(m, "POST") != 0) SET(CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, m);
    }
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

uint64_t sb_http_client_start(sb_http_client *c, const sb_http_call *call,
                              sb_http_done done, void *ud, const void *owner)
{
    if (!c || c->closing || !call || !done || call->struct_size < CALL_V1_SIZE)
        return 0;
    const char *m = call->method ? call->method : "GET";
    if (!call->url || !url_ok(call->url) || !method_ok(m) ||
        (call->n_headers && !call->headers) ||
        (call->body_len && !call->body))
        return 0;
    req *r = calloc(1, sizeof *r);
    if (!r) return 0;
    r->c = c;
    r->owner = owner;
    r->done = done;
    r->ud = ud;
    r->max_response = call->max_response ? call->max_response
                                         : DEFAULT_MAX_RESPONSE;
    r->t0_ms = mono_ms();
    if (!(r->easy = curl_easy_init()) || setup(r, call, m) != 0 ||
        curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        req_free(r);
        return 0;
    }
    /* add_handle only armed the timer; the transfer, and so any done,
     * begins on a later loop iteration. */
    r->id = ++c->next_id;
    r->next = c->reqs;
    if (c->reqs) c->reqs->prev = r;
    c->reqs = r;
    c->active++;
    return r->id;
}

/* ---- cancelling ---------------------------------------------------------- */

void sb_http_client_cancel(sb_http_client *c, uint64_t id)
{
    for (req *r = c->reqs; r; r = r->next)
        if (r->id == id) {
            deliver(r, SB_ERR_CANCELLED, "cancelled");
            return;
        }
}

/* Marks first, then delivers one at a time from the head: a done may cancel
 * or start others, and what it starts is not marked. */
static void cancel_marked(sb_http_client *c)
{
    for (;;) {
        req *r = c->reqs;
        while (r && !r->doomed) r = r->next;
        if (!r) return;
        deliver(r, SB_ERR_CANCELLED, "cancelled");
    }
}

void sb_http_client_cancel_owner(sb_http_client *c, const void *owner)
{
    for (req *r = c->reqs; r; r = r->next)
        if (r->owner == owner) r->doomed = 1;
    cancel_marked(c);
}

unsigned sb_http_client_active(const sb_http_client *c) { return c->active; }

/* ---- life ---------------------------------------------------------------- */

sb_http_client *sb_http_client_new(struct ev_loop *loop)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
    sb_http_client *c = calloc(1, sizeof *c);
    if (!c || !(c->multi = curl_multi_init())) {
        sb_error("http", "http client: out of memory");
        free(c);
        curl_global_cleanup();
        return NULL;
    }
    c->loop = loop;
    ev_init(&c->timer, on_timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void sb_http_client_free(sb_http_client *c)
{
    if (!c) return;
    c->closing = 1;
    for (req *r = c->reqs; r; r = r->next) r->doomed = 1;
    cancel_marked(c);
    /* Closes the cached connections; curl removes their sockets through
     * on_socket, so every watcher is freed here too. */
    curl_multi_cleanup(c->multi);
    ev_timer_stop(c->loop, &c->timer);
    free(c);
    curl_global_cleanup();
}
