/* http-parser glue: request arena, limits, dispatch to routes.
 *
 * The parser is paused twice per request: when the head is complete (to
 * check limits and answer Expect before any body byte is read) and when
 * the message is complete (to dispatch it; pipelined bytes stay in the
 * connection's input buffer until the answer is queued). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_internal.h"

enum { CB_NONE, CB_FIELD, CB_VALUE };
enum { PAUSE_HEAD = 1, PAUSE_DONE = 2 };

/* Room for n more bytes in the request's string arena. */
static int hb_reserve(sb_http_conn *c, size_t n)
{
    size_t ncap = c->hcap ? c->hcap : 1024;
    char *nb;
    if (c->hlen + n <= c->hcap)
        return 0;
    while (ncap < c->hlen + n)
        ncap *= 2;
    nb = realloc(c->hbuf, ncap);
    if (!nb)
        return -1;
    c->hbuf = nb;
    c->hcap = ncap;
    return 0;
}

static int hb_append(sb_http_conn *c, const char *s, size_t n)
{
    if (hb_reserve(c, n))
        return -1;
    memcpy(c->hbuf + c->hlen, s, n);
    c->hlen += n;
    return 0;
}

static int hb_nul(sb_http_conn *c)
{
    return hb_append(c, "", 1);
}

/* Appends hbuf[off, off+n) and a NUL: the source lives in the buffer that
 * may move, so it is addressed by offset after growing. */
static int hb_copy(sb_http_conn *c, size_t off, size_t n)
{
    if (hb_reserve(c, n + 1))
        return -1;
    memcpy(c->hbuf + c->hlen, c->hbuf + off, n);
    c->hlen += n;
    c->hbuf[c->hlen++] = 0;
    return 0;
}

static int fail_with(sb_http_conn *c, int status)
{
    c->fail_status = status;
    return -1;
}

static int on_message_begin(http_parser *p)
{
    sb_http_conn *c = p->data;
    if (c->st == SB_CS_IDLE) {
        c->st = SB_CS_HEAD;
        c->started = ev_now(c->srv->loop);
        sb_http_conn_arm(c, c->srv->lim.header_timeout_ms);
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    sb_http_conn *c = p->data;
    c->method_known = true;
    if (hb_append(c, at, len))
        return fail_with(c, 503);
    c->url_len += len;
    return 0;
}

/* Trailers of a chunked body count against the head limits, then go. */
static int trailer_bytes(sb_http_conn *c, size_t len, bool field)
{
    const sb_http_limits *l = &c->srv->lim;
    if (field && c->last_cb != CB_FIELD && ++c->trailer_lines > l->max_headers)
        return fail_with(c, 431);
    c->last_cb = field ? CB_FIELD : CB_VALUE;
    c->trailer_bytes += len;
    return c->trailer_bytes > l->max_header ? fail_with(c, 431) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    sb_http_conn *c = p->data;
    if (c->st == SB_CS_BODY)
        return trailer_bytes(c, len, true);
    if (c->last_cb != CB_FIELD) {
        if ((int64_t)c->nh >= c->srv->lim.max_headers)
            return fail_with(c, 431);
        if (c->nh == c->hoff_cap) {
            size_t ncap = c->hoff_cap ? c->hoff_cap * 2 : 16;
            sb_http_hdroff *n = realloc(c->hoff, ncap * sizeof *n);
            if (!n)
                return fail_with(c, 503);
            c->hoff = n;
            c->hoff_cap = ncap;
        }
        if (hb_nul(c)) /* ends the url or the previous value */
            return fail_with(c, 503);
        c->hoff[c->nh].name = c->hlen;
        c->hoff[c->nh].value = SIZE_MAX;
        c->nh++;
        c->last_cb = CB_FIELD;
    }
    return hb_append(c, at, len) ? fail_with(c, 503) : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    sb_http_conn *c = p->data;
    if (c->st == SB_CS_BODY)
        return trailer_bytes(c, len, false);
    if (c->last_cb != CB_VALUE) {
        if (hb_nul(c))
            return fail_with(c, 503);
        c->hoff[c->nh - 1].value = c->hlen;
        c->last_cb = CB_VALUE;
    }
    return hb_append(c, at, len) ? fail_with(c, 503) : 0;
}

static int on_headers_complete(http_parser *p)
{
    sb_http_conn *c = p->data;
    c->pause_why = PAUSE_HEAD;
    http_parser_pause(p, 1);
    return 0;
}

/* Keeps room for the terminating NUL. */
static int body_append(sb_http_conn *c, const char *at, size_t len)
{
    if (c->blen + len > c->srv->lim.max_body)
        return fail_with(c, 413);
    if (c->blen + len + 1 > c->bcap) {
        size_t ncap = c->bcap ? c->bcap : 1024;
        while (ncap < c->blen + len + 1)
            ncap *= 2;
        char *nb = realloc(c->body, ncap);
        if (!nb)
            return fail_with(c, 503);
        c->body = nb;
        c->bcap = ncap;
    }
    memcpy(c->body + c->blen, at, len);
    c->blen += len;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    return body_append(p->data, at, len);
}

static int on_message_complete(http_parser *p)
{
    sb_http_conn *c = p->data;
    c->pause_why = PAUSE_DONE;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void sb_http_parse_init(sb_http_conn *c)
{
    http_parser_init(&c->hp, HTTP_REQUEST);
    c->hp.data = c;
    c->route_off = SIZE_MAX;
}

void sb_http_req_reset(sb_http_conn *c)
{
    c->hlen = 0;
    c->nh = 0;
    c->blen = 0;
    c->url_len = 0;
    c->head_used = 0;
    c->trailer_bytes = 0;
    c->trailer_lines = 0;
    c->last_cb = CB_NONE;
    c->fail_status = 0;
    c->method_known = false;
    c->head_req = false;
    c->route_off = SIZE_MAX;
    c->started = 0;
    memset(&c->req, 0, sizeof c->req);
}

void sb_http_parse_free(sb_http_conn *c)
{
    free(c->hbuf);
    free(c->hoff);
    free(c->hdrs);
    free(c->body);
    c->hbuf = NULL;
    c->hoff = NULL;
    c->hdrs = NULL;
    c->body = NULL;
    c->hcap = c->hoff_cap = c->hdrs_cap = c->bcap = 0;
}

/* Origin form "/p?q#f" or absolute form "http://host/p?q": path [ps,pe),
 * query [qs,qe). True when the path is empty in absolute form ("/"). */
static bool split_url(const char *url, size_t len, size_t *ps, size_t *pe, size_t *qs, size_t *qe)
{
    const char *abs = len && url[0] != '/' ? memmem(url, len, "://", 3) : NULL;
    size_t i = 0;
    if (abs) {
        const char *slash = memchr(abs + 3, '/', (size_t)(url + len - abs - 3));
        i = slash ? (size_t)(slash - url) : len;
    }
    *ps = i;
    while (i < len && url[i] != '?' && url[i] != '#')
        i++;
    *pe = *qs = *qe = i;
    if (i < len && url[i] == '?') {
        *qs = *qe = i + 1;
        while (*qe < len && url[*qe] != '#')
            (*qe)++;
    }
    return abs && *ps == *pe;
}

static void trim_value(char *v)
{
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = 0;
}

/* Head complete: strings finished, url split, limits and Expect checked.
 * Returns false when it answered an error (connection closing). */
static bool head_complete(sb_http_conn *c)
{
    const sb_http_limits *l = &c->srv->lim;
    http_parser *p = &c->hp;
    size_t path_off, query_off;
    char *expect;
    bool has_body;

    if (c->head_used + 1 > l->max_header) {
        sb_http_conn_fail(c, 431, "header_too_large", "request head too large", true);
        return false;
    }
    if (hb_nul(c)) /* ends the url (no headers) or the last value */
        goto nomem;
    if (c->nh && c->hoff[c->nh - 1].value == SIZE_MAX)
        c->hoff[c->nh - 1].value = c->hlen - 1; /* empty value: the NUL just added */
    /* path and query become strings of their own after the head */
    {
        size_t ps, pe, qs, qe;
        bool root = split_url(c->hbuf, c->url_len, &ps, &pe, &qs, &qe);
        path_off = c->hlen;
        if (root ? hb_append(c, "/", 2) : hb_copy(c, ps, pe - ps)) /* "/" and its NUL */
            goto nomem;
        query_off = c->hlen;
        if (hb_copy(c, qs, qe - qs))
            goto nomem;
    }
    /* hbuf may still grow (route pattern at dispatch): keep offsets until
     * the pointers are built there */
    c->path_off = path_off;
    c->query_off = query_off;
    c->keep_alive = http_should_keep_alive(p);
    c->head_req = p->method == HTTP_HEAD;
    c->req.received_ms = (int64_t)(ev_now(c->srv->loop) * 1000.0);

    has_body = (p->flags & F_CHUNKED) || (p->content_length > 0 && p->content_length != ULLONG_MAX);
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
        p->content_length > l->max_body) {
        sb_http_conn_fail(c, 413, "too_large", "request body too large", true);
        return false;
    }
    expect = NULL;
    for (size_t i = 0; i < c->nh; i++)
        if (!strcasecmp(c->hbuf + c->hoff[i].name, "expect"))
            expect = c->hbuf + c->hoff[i].value;
    if (expect) {
        trim_value(expect);
        if (strcasecmp(expect, "100-continue") != 0) {
            sb_http_conn_fail(c, 417, "expectation_failed", "only 100-continue is supported", true);
            return false;
        }
        if (has_body && p->http_major == 1 && p->http_minor >= 1) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (sb_http_conn_queue(c, cont, sizeof cont - 1) != SB_OK) {
                sb_http_conn_close(c);
                return false;
            }
            sb_http_conn_flush(c);
            if (c->closed)
                return false;
        }
    }
    c->st = SB_CS_BODY;
    sb_http_conn_arm(c, l->body_timeout_ms);
    return true;

nomem:
    sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
    return false;
}

/* Message complete: build the request view, route it, call the handler. */
static void dispatch(sb_http_conn *c)
{
    sb_http_server *srv = c->srv;
    sb_http_match m;
    const char *method = http_method_str(c->hp.method);

    /* the body buffer exists even when empty: req.body is never NULL */
    if (body_append(c, "", 0) != 0) {
        sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
        return;
    }
    c->body[c->blen] = 0;
    sb_http_route_find(srv, method, c->hbuf + c->path_off, &m);
    if (m.route) {
        c->route_off = c->hlen;
        if (hb_append(c, m.route->path, m.route->path_len + 1)) {
            c->route_off = SIZE_MAX;
            sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
            return;
        }
    }
    if (c->nh > c->hdrs_cap) {
        sb_header *nh = realloc(c->hdrs, c->nh * sizeof *nh);
        if (!nh) {
            sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
            return;
        }
        c->hdrs = nh;
        c->hdrs_cap = c->nh;
    }
    for (size_t i = 0; i < c->nh; i++) {
        trim_value(c->hbuf + c->hoff[i].value);
        c->hdrs[i].name = c->hbuf + c->hoff[i].name;
        c->hdrs[i].value = c->hbuf + c->hoff[i].value;
    }
    c->req.method = method;
    c->req.path = c->hbuf + c->path_off;
    c->req.query = c->hbuf + c->query_off;
    c->req.headers = c->hdrs;
    c->req.n_headers = c->nh;
    c->req.body = c->body;
    c->req.body_len = c->blen;
    c->req.peer = c->peer;

    if (!m.route) {
        if (m.allow[0]) {
            sb_header allow = {"Allow", m.allow};
            char body[160];
            size_t n =
                sb_http_error_json(body, sizeof body, "method_not_allowed", "method not allowed");
            sb_http_conn_respond(c, 405, NULL, &allow, 1, body, n, false);
        } else {
            sb_http_conn_fail(c, 404, "not_found", "no such path", false);
        }
        return;
    }
    c->req.subpath = c->req.path + m.sub_off;
    c->req.route_ud = m.route->ud;
    c->req.id = sb_http_next_id(srv);
    if (sb_idmap_put(&srv->ids, c->req.id, (uint64_t)(uintptr_t)c) != SB_OK) {
        sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
        return;
    }
    c->req_id = c->req.id;
    c->st = SB_CS_HANDLER;
    sb_http_conn_arm(c, 0);
    m.route->fn(&c->req, m.route->ud);
}

static void parse_error(sb_http_conn *c, enum http_errno e)
{
    switch (c->fail_status) {
    case 413:
        sb_http_conn_fail(c, 413, "too_large", "request body too large", true);
        return;
    case 431:
        sb_http_conn_fail(c, 431, "header_too_large", "request head too large", true);
        return;
    case 503:
        sb_http_conn_fail(c, 503, "unavailable", "out of memory", true);
        return;
    default:
        break;
    }
    if (e == HPE_HEADER_OVERFLOW)
        sb_http_conn_fail(c, 431, "header_too_large", "request head too large", true);
    else
        sb_http_conn_fail(c, 400, "bad_request", http_errno_description(e), true);
}

void sb_http_process(sb_http_conn *c)
{
    const sb_http_limits *l = &c->srv->lim;
    if (c->in_process)
        return;
    c->in_process = true;
    sb_http_conn_enter(c);
    while (!c->closed && c->in_off < c->in_len && c->out_bytes < SB_HTTP_OUT_HIGH &&
           (c->st == SB_CS_IDLE || c->st == SB_CS_HEAD || c->st == SB_CS_BODY)) {
        bool in_head = c->st != SB_CS_BODY;
        size_t feed = c->in_len - c->in_off;
        size_t n;
        enum http_errno e;

        /* Never hand the parser more head than the limit allows (+1 to see
         * the overflow): the head is bounded before it is buffered. */
        if (in_head && feed > l->max_header + 1 - c->head_used)
            feed = (size_t)(l->max_header + 1 - c->head_used);
        c->pause_why = 0;
        n = http_parser_execute(&c->hp, &settings, c->in + c->in_off, feed);
        c->in_off += n;
        if (in_head)
            c->head_used += n;
        e = HTTP_PARSER_ERRNO(&c->hp);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->hp, 0);
            if (c->pause_why == PAUSE_HEAD) {
                if (!head_complete(c))
                    break;
            } else if (c->pause_why == PAUSE_DONE) {
                dispatch(c);
            }
            continue;
        }
        if (e != HPE_OK) {
            parse_error(c, e);
            break;
        }
        if (in_head && c->head_used > l->max_header) {
            sb_http_conn_fail(c, 431, "header_too_large", "request head too large", true);
            break;
        }
        if (n < feed) { /* stopped without an error: never leave input stuck */
            parse_error(c, HPE_UNKNOWN);
            break;
        }
    }
    c->in_process = false;
    sb_http_conn_leave(c);
}
