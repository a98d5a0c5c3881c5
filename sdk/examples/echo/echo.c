/*
 * echo: the smallest complete channel plugin, to copy.
 *
 * A "messenger" made of two URLs under /hooks/echo/<instance>:
 *   POST ?from=<client>&id=<message id>   body = the client's text
 *        -> inbound(); answered 200 with the stored message id, only once
 *           the core has stored it (so a lost answer means a redelivery,
 *           which the core's dedup on `id` turns into the same message)
 *   GET  /outbox?to=<client>
 *        -> what the operators sent to that client, one message per line
 *           (a text holding newlines spans several), and empties the box
 * Outbound: send() appends "<prefix><text>" to the client's outbox (at most
 * max_outbox, oldest dropped) and reports SB_SENT from a posted callback.
 * The number of messages received is kept in kv under "count".
 *
 * Config:  prefix: "> "     (string, default "")
 *          max_outbox: 100  (integer 1..100000, default 100)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchboard/plugin.h>

#define MAX_BODY 4096
#define MAX_PARAM 256 /* decoded bytes of one query value */
#define OUTBOX_MIN 1
#define OUTBOX_MAX 100000

typedef struct box {
    struct box *next;
    char *to;
    char **lines; /* oldest first */
    size_t n;
} box;

/* A send() accepted, waiting for the posted callback to report it. */
typedef struct result {
    struct result *next;
    uint64_t op;
    uint64_t n; /* remote id "echo-<n>" */
} result;

typedef struct echo {
    const sb_host *h;
    sb_ctx *ctx;
    const char *prefix; /* host-owned, valid until reload/destroy */
    int64_t max_outbox;
    box *boxes;
    result *results, **results_tail;
    int posted;         /* report_results is queued */
    uint64_t sent;      /* sends accepted so far */
    uint64_t count;     /* messages received, mirrored in kv "count" */
} echo;

/* Ties an inbound() completion to the webhook request it answers. */
typedef struct pending {
    echo *e;
    uint64_t reply_id;
} pending;

/* ---- config ----------------------------------------------------------------- */

/* Reads every key even after an error, so that all problems are reported
 * at once and none is also called unknown. */
static sb_status read_config(echo *e, const char **prefix, int64_t *max)
{
    *prefix = "";
    *max = 100;
    sb_status a = e->h->config_string(e->ctx, "prefix", prefix);
    sb_status b = e->h->config_int(e->ctx, "max_outbox", max);
    if (a != SB_OK && a != SB_ERR_NOT_FOUND) return a; /* host said why */
    if (b != SB_OK && b != SB_ERR_NOT_FOUND) return b;
    if (*max < OUTBOX_MIN || *max > OUTBOX_MAX) {
        e->h->config_error(e->ctx, "max_outbox", "must be between 1 and 100000");
        return SB_ERR_INVALID;
    }
    return SB_OK;
}

/* ---- query strings ---------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Form-decodes s[0..n) ('+' is a space, %XX a byte) into out (cap bytes
 * with the NUL). -1 when malformed, too long, or decoding to a NUL byte. */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* The first `name=value` of query q, decoded into out: 1 found, 0 absent,
 * -1 malformed. */
static int query_param(const char *q, const char *name, char *out, size_t cap)
{
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        char key[32];
        if (form_decode(q, klen, key, sizeof key) == 0 && strcmp(key, name) == 0) {
            if (!eq) return out[0] = '\0', 1;
            return form_decode(eq + 1, len - klen - 1, out, cap) == 0 ? 1 : -1;
        }
        q += len;
        if (*q == '&') q++;
    }
    return 0;
}

/* A non-empty parameter into out, or a 400 naming it (then returns -1). */
static int require(echo *e, const sb_http_request *req, const char *name,
                   char *out, size_t cap)
{
    char msg[96];
    int r = query_param(req->query, name, out, cap);
    if (r == 1 && out[0]) return 0;
    snprintf(msg, sizeof msg, "%s query parameter '%s'",
             r < 0 ? "malformed" : "missing", name);
    e->h->http_error(e->ctx, req->reply_id, 400,
                     r < 0 ? "bad_parameter" : "missing_parameter", msg);
    return -1;
}

/* ---- inbound ------------------------------------------------------------------ */

static void count_message(echo *e)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)++e->count);
    /* No done: the count is informative, a lost increment harms nothing. */
    sb_status st = e->h->kv_put(e->ctx, "count", 5, buf, (size_t)n, NULL, NULL);
    if (st != SB_OK)
        e->h->log(e->ctx, SB_LOG_WARN, "count not saved: %s", e->h->strstatus(st));
}

/* Runs once the core stored the message (or could not): only now may the
 * sender hear 200, and a 503 makes it deliver again. */
static void on_stored(void *ud, sb_status status, const char *message_id,
                      int duplicate)
{
    pending *p = ud;
    echo *e = p->e;
    if (status == SB_OK) {
        if (!duplicate) count_message(e);
        e->h->http_reply(e->ctx, p->reply_id, 200, "text/plain; charset=utf-8",
                         NULL, 0, message_id, strlen(message_id));
    } else {
        e->h->http_error(e->ctx, p->reply_id, 503, "unavailable",
                         e->h->strstatus(status));
    }
    free(p);
}

static void on_webhook(void *ud, const sb_http_request *req)
{
    echo *e = ud;
    const sb_host *h = e->h;
    char from[MAX_PARAM + 1], id[MAX_PARAM + 1];
    if (req->body_len > MAX_BODY) {
        h->http_error(e->ctx, req->reply_id, 413, "too_large",
                      "body over 4096 bytes");
        return;
    }
    if (require(e, req, "from", from, sizeof from) ||
        require(e, req, "id", id, sizeof id))
        return;
    if (req->body_len == 0 || memchr(req->body, '\0', req->body_len)) {
        h->http_error(e->ctx, req->reply_id, 400, "bad_body",
                      "the body must be the text, without NUL bytes");
        return;
    }
    pending *p = malloc(sizeof *p);
    if (!p) {
        h->http_error(e->ctx, req->reply_id, 503, "unavailable", "out of memory");
        return;
    }
    p->e = e;
    p->reply_id = req->reply_id;
    sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE,
                     .external_id = from, .dedup_key = id, .text = req->body};
    sb_status st = h->inbound(e->ctx, &in, on_stored, p); /* copies `in` */
    if (st != SB_OK) {
        free(p); /* on_stored will not run */
        h->http_error(e->ctx, req->reply_id,
                      st == SB_ERR_INVALID ? 400 : st == SB_ERR_TOO_BIG ? 413 : 503,
                      "refused", h->strstatus(st));
    }
}

/* ---- outbox ------------------------------------------------------------------- */

/* a + b in a new string (strdup is not C11); NULL when out of memory. */
static char *concat(const char *a, const char *b)
{
    size_t al = strlen(a), bl = strlen(b);
    char *s = malloc(al + bl + 1);
    if (s) {
        memcpy(s, a, al);
        memcpy(s + al, b, bl + 1);
    }
    return s;
}

static box **find_box(echo *e, const char *to)
{
    box **b = &e->boxes;
    while (*b && strcmp((*b)->to, to) != 0) b = &(*b)->next;
    return b;
}

static void box_free(box *b)
{
    for (size_t i = 0; i < b->n; i++) free(b->lines[i]);
    free(b->lines);
    free(b->to);
    free(b);
}

/* Drops the oldest lines until `room` more fit under max_outbox. */
static void trim(box *b, size_t max, size_t room)
{
    if (b->n + room <= max) return;
    size_t drop = b->n + room - max;
    for (size_t i = 0; i < drop; i++) free(b->lines[i]);
    memmove(b->lines, b->lines + drop, (b->n - drop) * sizeof *b->lines);
    b->n -= drop;
}

/* Takes ownership of line; -1 when out of memory (line freed). */
static int box_append(echo *e, const char *to, char *line)
{
    box **slot = find_box(e, to), *b = *slot;
    if (!b) {
        if (!(b = calloc(1, sizeof *b)) || !(b->to = concat(to, ""))) {
            free(b);
            free(line);
            return -1;
        }
        *slot = b;
    }
    trim(b, (size_t)e->max_outbox, 1);
    char **lines = realloc(b->lines, (b->n + 1) * sizeof *lines);
    if (!lines) {
        free(line);
        return -1;
    }
    b->lines = lines;
    b->lines[b->n++] = line;
    return 0;
}

static void on_outbox(void *ud, const sb_http_request *req)
{
    echo *e = ud;
    char to[MAX_PARAM + 1];
    if (require(e, req, "to", to, sizeof to)) return;
    box **slot = find_box(e, to), *b = *slot;
    size_t len = 0;
    for (size_t i = 0; b && i < b->n; i++) len += strlen(b->lines[i]) + 1;
    char *text = malloc(len + 1), *p = text;
    if (!text) {
        e->h->http_error(e->ctx, req->reply_id, 503, "unavailable", "out of memory");
        return;
    }
    for (size_t i = 0; b && i < b->n; i++) {
        size_t n = strlen(b->lines[i]);
        memcpy(p, b->lines[i], n);
        p[n] = '\n';
        p += n + 1;
    }
    e->h->http_reply(e->ctx, req->reply_id, 200, "text/plain; charset=utf-8",
                     NULL, 0, text, len); /* copied by the host */
    free(text);
    if (b) {
        *slot = b->next;
        box_free(b);
    }
}

/* ---- send ---------------------------------------------------------------------- */

/* Posted by send(): the contract is to return from send() first and report
 * later. A real channel would report from its http_call's done instead. */
static void report_results(void *ud)
{
    echo *e = ud;
    e->posted = 0;
    while (e->results) {
        result *r = e->results;
        e->results = r->next;
        char remote[32];
        snprintf(remote, sizeof remote, "echo-%llu", (unsigned long long)r->n);
        e->h->send_result(e->ctx, r->op, SB_SENT, remote, 0, NULL);
        free(r);
    }
    e->results_tail = &e->results;
}

static sb_send_accept echo_send(void *state, const sb_outbound *msg, uint64_t op)
{
    echo *e = state;
    /* Text only: anything else could never be delivered here. */
    if (!msg->text || !msg->external_id || !*msg->external_id || msg->n_attachments)
        return SB_SEND_REJECTED;
    char *line = concat(e->prefix, msg->text);
    result *r = malloc(sizeof *r);
    if (!r || !line || box_append(e, msg->external_id, line) != 0) {
        if (!r) free(line); /* else box_append took it, freed on failure */
        free(r);
        /* Without memory there is no way to report later, and send() has
         * no "try again": refuse, loudly. */
        e->h->log(e->ctx, SB_LOG_ERROR, "out of memory, message %s rejected",
                  msg->message_id ? msg->message_id : "?");
        return SB_SEND_REJECTED;
    }
    r->op = op;
    r->n = ++e->sent;
    r->next = NULL;
    *e->results_tail = r;
    e->results_tail = &r->next;
    /* One post drains every result queued before it runs. If post refuses
     * (we are stopping), the results stay queued and destroy frees them; the
     * core's outbox retries after a restart. */
    if (!e->posted && e->h->post(e->ctx, report_results, e) == SB_OK) e->posted = 1;
    return SB_SEND_ACCEPTED;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static sb_status echo_init(const sb_host *h, sb_ctx *ctx, void **state)
{
    echo *e = calloc(1, sizeof *e);
    if (!e) return SB_ERR_NOMEM;
    e->h = h;
    e->ctx = ctx;
    e->results_tail = &e->results;
    *state = e; /* set first: when init fails the core still calls destroy */
    sb_status st = read_config(e, &e->prefix, &e->max_outbox);
    if (st == SB_OK) st = h->http_route(ctx, "POST", "", SB_ROUTE_HOOK, on_webhook, e);
    if (st == SB_OK) st = h->http_route(ctx, "GET", "/outbox", SB_ROUTE_HOOK, on_outbox, e);
    return st;
}

/* The count survives restarts: it lives in the instance's kv. */
static sb_status echo_start(void *state)
{
    echo *e = state;
    char buf[24];
    size_t len;
    sb_status st = e->h->kv_get(e->ctx, "count", 5, buf, sizeof buf - 1, &len);
    if (st == SB_OK) {
        buf[len] = '\0';
        e->count = strtoull(buf, NULL, 10);
    } else if (st != SB_ERR_NOT_FOUND) {
        e->h->log(e->ctx, SB_LOG_ERROR, "count unreadable: %s", e->h->strstatus(st));
        return st;
    }
    e->h->log(e->ctx, SB_LOG_INFO, "started, %llu messages so far",
              (unsigned long long)e->count);
    return SB_OK;
}

/* New values apply to the next send; a failed reload keeps the old ones. */
static sb_status echo_reload(void *state)
{
    echo *e = state;
    const char *prefix;
    int64_t max;
    sb_status st = read_config(e, &prefix, &max);
    if (st != SB_OK) return st;
    e->prefix = prefix;
    e->max_outbox = max;
    return SB_OK;
}

static void echo_destroy(void *state)
{
    echo *e = state;
    while (e->boxes) {
        box *b = e->boxes;
        e->boxes = b->next;
        box_free(b);
    }
    while (e->results) {
        result *r = e->results;
        e->results = r->next;
        free(r);
    }
    free(e);
}

static const sb_plugin echo_plugin = {
    SB_PLUGIN_HEADER("echo", "1.0.0", SB_KIND_CHANNEL),
    .init = echo_init,
    .start = echo_start,
    .reload = echo_reload,
    .destroy = echo_destroy, /* no stop: no timers, threads or calls */
    .send = echo_send,
};

SB_PLUGIN_EXPORT(echo_plugin)
