/* Responses: header validation, framing, the JSON error body, the
 * observer, and what the connection does after an answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_internal.h"

const char *sb_http_header(const sb_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

static const char *reason_phrase(int status)
{
    const char *s = http_status_str((enum http_status)status);
    return strcmp(s, "<unknown>") ? s : "Unknown";
}

static bool token_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!token_char((unsigned char)*s))
            return false;
    return true;
}

/* No CR or LF: a value must not start a header of its own. */
static bool valid_value(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* Framing belongs to the server. */
static bool framing_header(const char *name)
{
    return !strcasecmp(name, "content-length") || !strcasecmp(name, "connection") ||
           !strcasecmp(name, "transfer-encoding");
}

void sb_http_conn_done(sb_http_conn *c, int status)
{
    sb_http_server *srv = c->srv;
    /* the id is gone before the observer runs: it cannot answer twice */
    if (c->req_id) {
        sb_idmap_del(&srv->ids, c->req_id);
        c->req_id = 0;
    }
    if (srv->observe) {
        ev_tstamp from = c->req.received_ms ? (double)c->req.received_ms / 1000.0 : c->started;
        double secs = from > 0 ? ev_time() - from : 0.0;
        const char *route = c->route_off != SIZE_MAX ? c->hbuf + c->route_off : "unmatched";
        const char *method = c->method_known ? http_method_str(c->hp.method) : "UNKNOWN";
        srv->observe(srv->observe_ud, route, method, status, secs < 0 ? 0.0 : secs);
    }
    sb_http_req_reset(c);
}

sb_status sb_http_conn_respond(sb_http_conn *c, int status, const char *content_type,
                               const sb_header *headers, size_t n_headers, const void *body,
                               size_t len, bool close)
{
    sb_http_server *srv = c->srv;
    bool no_body = status == 204 || status == 304;
    bool http10 = c->hp.http_major == 1 && c->hp.http_minor == 0;
    size_t need, off;
    sb_http_outbuf *b;
    char clen[32];

    close = close || !c->keep_alive || c->hp.upgrade || srv->stopping || c->eof;
    if (!content_type)
        content_type = "application/json";
    snprintf(clen, sizeof clen, "%zu", len);

    need = 64 + strlen(reason_phrase(status));
    if (!no_body)
        need += strlen(content_type) + strlen(clen) + 40;
    for (size_t i = 0; i < n_headers; i++)
        need += strlen(headers[i].name) + strlen(headers[i].value) + 4;
    need += 32; /* Connection: close / keep-alive */
    if (!no_body && !c->head_req)
        need += len;
    b = sb_http_outbuf_new(need);
    if (!b) {
        sb_http_conn_close(c);
        return SB_ERR_NOMEM;
    }
    off = (size_t)snprintf(b->data, need, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
    if (!no_body)
        off += (size_t)snprintf(b->data + off, need - off,
                                "Content-Type: %s\r\nContent-Length: %s\r\n", content_type, clen);
    for (size_t i = 0; i < n_headers; i++) {
        if (framing_header(headers[i].name))
            continue;
        off += (size_t)snprintf(b->data + off, need - off, "%s: %s\r\n", headers[i].name,
                                headers[i].value);
    }
    if (close)
        off += (size_t)snprintf(b->data + off, need - off, "Connection: close\r\n");
    else if (http10)
        off += (size_t)snprintf(b->data + off, need - off, "Connection: keep-alive\r\n");
    memcpy(b->data + off, "\r\n", 2);
    off += 2;
    if (!no_body && !c->head_req && len) {
        memcpy(b->data + off, body, len);
        off += len;
    }
    b->len = off;
    sb_http_conn_queue_buf(c, b);

    sb_http_conn_done(c, status);
    if (close) {
        sb_http_conn_begin_close(c);
        return SB_OK;
    }
    c->st = SB_CS_IDLE;
    sb_http_conn_arm_idle(c);
    sb_http_conn_flush(c);
    /* answered from outside the parse loop: the next pipelined request
     * is taken up from the loop, not from inside the caller */
    if (!c->closed && !c->in_process && c->in_off < c->in_len)
        sb_http_conn_kick(c);
    if (!c->closed)
        sb_http_conn_update_read(c);
    return SB_OK;
}

/* ---- JSON error body ------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

typedef struct jbuf {
    char *p;
    size_t cap, len;
} jbuf;

static void jput(jbuf *j, const char *s, size_t n)
{
    if (j->len < j->cap) {
        size_t room = j->cap - j->len;
        memcpy(j->p + j->len, s, n < room ? n : room);
    }
    j->len += n;
}

static void jstr(jbuf *j, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)u);
    jput(j, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char ch = u[i];
        char esc[8];
        size_t l;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            jput(j, esc, 2);
            i++;
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            jput(j, esc, 6);
            i++;
        } else if ((l = utf8_len(u + i, n - i)) == 0) {
            jput(j, "\\ufffd", 6);
            i++;
        } else {
            jput(j, (const char *)u + i, l);
            i += l;
        }
    }
    jput(j, "\"", 1);
}

size_t sb_http_error_json(char *buf, size_t cap, const char *code, const char *message)
{
    jbuf j = {buf, cap, 0};
    jput(&j, "{\"error\":{\"code\":", 17);
    jstr(&j, code);
    jput(&j, ",\"message\":", 11);
    jstr(&j, message);
    jput(&j, "}}", 2);
    if (cap)
        buf[j.len < cap ? j.len : cap - 1] = 0;
    return j.len;
}

void sb_http_conn_fail(sb_http_conn *c, int status, const char *code, const char *message,
                       bool close)
{
    char body[512];
    size_t n = sb_http_error_json(body, sizeof body, code, message);
    sb_http_conn_respond(c, status, NULL, NULL, 0, body, n < sizeof body ? n : 0, close);
}

/* ---- public answers ------------------------------------------------------- */

static sb_http_conn *pending(sb_http_server *srv, uint64_t id)
{
    sb_http_conn *c = sb_http_conn_by_id(srv, id);
    return c && c->req_id == id && c->st == SB_CS_HANDLER ? c : NULL;
}

sb_status sb_http_respond(sb_http_server *srv, uint64_t id, int status, const char *content_type,
                          const sb_header *headers, size_t n_headers, const void *body, size_t len)
{
    sb_http_conn *c = pending(srv, id);
    sb_status r;
    if (!c)
        return SB_ERR_HANDLE;
    if (status < 200 || status > 599 || (content_type && !valid_value(content_type)) ||
        (len && !body) || (n_headers && !headers))
        return SB_ERR_INVALID;
    for (size_t i = 0; i < n_headers; i++)
        if (!valid_name(headers[i].name) || !valid_value(headers[i].value))
            return SB_ERR_INVALID;
    sb_http_conn_enter(c);
    r = sb_http_conn_respond(c, status, content_type, headers, n_headers, body, len, false);
    sb_http_conn_leave(c);
    return r;
}

sb_status sb_http_error(sb_http_server *srv, uint64_t id, int status, const char *code,
                        const char *message)
{
    char small[512];
    char *buf = small;
    size_t n;
    sb_status r;
    if (!pending(srv, id))
        return SB_ERR_HANDLE;
    n = sb_http_error_json(NULL, 0, code, message);
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return SB_ERR_NOMEM;
    sb_http_error_json(buf, n + 1, code, message);
    r = sb_http_respond(srv, id, status, NULL, NULL, 0, buf, n);
    if (buf != small)
        free(buf);
    return r;
}
