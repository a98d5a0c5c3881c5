/* Test host: a channel's traffic. inbound() captured with the core's dedup,
 * send() driven by the test, send_result() and client_typing() checked and
 * captured. */
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define INBOUND_V1_SIZE (offsetof(sb_inbound, edit_of) + sizeof(const char *))
#define MAX_TYPING 1024 /* bytes of typing text the core keeps */

typedef struct waiter {
    sb_inbound_done done;
    void *ud;
} waiter;

typedef struct msg {
    sb_th_inbound pub; /* first: the test holds a pointer to it */
    sb_inbound_done done;
    void *ud;
    sb_thi_vec waiters; /* duplicates that arrived before completion */
    int failed;         /* completed with an error: its key is free again */
} msg;

/* ---- deep copies --------------------------------------------------------------- */

static sb_attachment *attachments_copy(const sb_attachment *a, size_t n)
{
    if (!n) return NULL;
    sb_attachment *c = sb_thi_alloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        c[i].struct_size = sizeof c[i];
        c[i].kind = sb_thi_strdup(a[i].kind);
        c[i].ref = sb_thi_strdup(a[i].ref);
        c[i].name = sb_thi_strdup(a[i].name);
        c[i].mime = sb_thi_strdup(a[i].mime);
        c[i].size = a[i].size;
    }
    return c;
}

static void attachments_free(const sb_attachment *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)a[i].kind);
        free((char *)a[i].ref);
        free((char *)a[i].name);
        free((char *)a[i].mime);
    }
    free((sb_attachment *)a);
}

static void inbound_copy(sb_inbound *d, const sb_inbound *s)
{
    *d = (sb_inbound){
        .struct_size = sizeof *d, .kind = s->kind,
        .external_id = sb_thi_strdup(s->external_id),
        .dedup_key = sb_thi_strdup(s->dedup_key),
        .name = sb_thi_strdup(s->name), .phone = sb_thi_strdup(s->phone),
        .email = sb_thi_strdup(s->email), .text = sb_thi_strdup(s->text),
        .button_id = sb_thi_strdup(s->button_id),
        .attachments = attachments_copy(s->attachments, s->n_attachments),
        .n_attachments = s->n_attachments, .sent_at_ms = s->sent_at_ms,
        .edit_of = sb_thi_strdup(s->edit_of)};
}

static void inbound_free(sb_inbound *m)
{
    const char *s[] = {m->external_id, m->dedup_key, m->name, m->phone,
                       m->email, m->text, m->button_id, m->edit_of};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) free((char *)s[i]);
    attachments_free(m->attachments, m->n_attachments);
}

/* ---- inbound ------------------------------------------------------------------- */

static int nonempty(const char *s) { return s && *s; }

/* What the core refuses at once, before storing anything. */
static int inbound_valid(const sb_inbound *m)
{
    if (m->struct_size < INBOUND_V1_SIZE || !nonempty(m->external_id) ||
        !nonempty(m->dedup_key) || (m->n_attachments && !m->attachments))
        return 0;
    for (size_t i = 0; i < m->n_attachments; i++)
        if (!nonempty(m->attachments[i].kind) || !nonempty(m->attachments[i].ref))
            return 0;
    switch (m->kind) {
    case SB_IN_MESSAGE:
        return m->text || m->button_id || m->n_attachments;
    case SB_IN_EDIT:
        return nonempty(m->edit_of) && m->text;
    case SB_IN_CONTACT:
        return nonempty(m->phone) || nonempty(m->email);
    }
    return 0;
}

static msg *find_key(sb_th *th, const char *key)
{
    for (size_t i = 0; i < th->inbound.n; i++) {
        msg *m = th->inbound.v[i];
        if (!m->failed && strcmp(m->pub.msg.dedup_key, key) == 0) return m;
    }
    return NULL;
}

static void queue_answer(sb_th *th, msg *m, sb_inbound_done done, void *ud,
                         int duplicate)
{
    sb_thi_pend *p = sb_thi_alloc(sizeof *p);
    p->kind = PEND_INBOUND;
    p->fn = (void (*)(void))done;
    p->ud = ud;
    p->rec = m;
    p->duplicate = duplicate;
    sb_thi_queue(th, p);
}

static sb_status h_inbound(sb_ctx *ctx, const sb_inbound *in,
                           sb_inbound_done done, void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "inbound");
    if (!th) return SB_ERR_HANDLE;
    if (!in || !done || !inbound_valid(in)) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: inbound: invalid message");
        return SB_ERR_INVALID;
    }
    sb_status st = sb_thi_fault(th, "inbound");
    if (st != SB_OK) return st;
    msg *m = find_key(th, in->dedup_key);
    if (m) {
        m->pub.duplicates++;
        if (m->pub.completed) {
            queue_answer(th, m, done, ud, 1);
        } else {
            waiter *w = sb_thi_alloc(sizeof *w);
            w->done = done;
            w->ud = ud;
            sb_thi_push(&m->waiters, w);
        }
        return SB_OK;
    }
    m = sb_thi_alloc(sizeof *m);
    inbound_copy(&m->pub.msg, in);
    m->pub.message_id = sb_thi_printf("msg-%llu",
                                      (unsigned long long)++th->next_msg_id);
    m->done = done;
    m->ud = ud;
    sb_thi_push(&th->inbound, m);
    if (th->inbound_auto) queue_answer(th, m, NULL, NULL, 0);
    return SB_OK;
}

/* Calls done(ud, ...) as the answer to a message or one of its duplicates
 * after the original completed with st. */
static void answer(const msg *m, sb_inbound_done done, void *ud, sb_status st,
                   int duplicate)
{
    if (st == SB_OK) done(ud, SB_OK, m->pub.message_id, duplicate);
    else done(ud, st, NULL, 0);
}

void sb_thi_inbound_finish(void *rec, sb_status st)
{
    msg *m = rec;
    if (m->pub.completed) return; /* the test completed it first */
    m->pub.completed = 1;
    m->pub.status = st;
    m->failed = st != SB_OK;
    answer(m, m->done, m->ud, st, 0);
    for (size_t i = 0; i < m->waiters.n; i++) {
        waiter *w = m->waiters.v[i];
        answer(m, w->done, w->ud, st, 1);
        free(w);
    }
    m->waiters.n = 0;
}

void sb_thi_inbound_dup(void *rec, sb_thi_pend *p, sb_status st)
{
    answer(rec, (sb_inbound_done)p->fn, p->ud, st, 1);
}

size_t sb_th_inbound_count(const sb_th *th) { return th->inbound.n; }

const sb_th_inbound *sb_th_inbound_get(const sb_th *th, size_t i)
{
    return i < th->inbound.n ? &((msg *)th->inbound.v[i])->pub : NULL;
}

sb_status sb_th_inbound_complete(sb_th *th, size_t i, sb_status status)
{
    sb_thi_loop_only(th, "sb_th_inbound_complete");
    if (i >= th->inbound.n) return SB_ERR_NOT_FOUND;
    msg *m = th->inbound.v[i];
    if (m->pub.completed) return SB_ERR_STATE;
    sb_thi_inbound_finish(m, status);
    return SB_OK;
}

void sb_th_inbound_autocomplete(sb_th *th, int on) { th->inbound_auto = on; }

/* ---- outbound ------------------------------------------------------------------ */

static void outbound_copy(sb_outbound *d, const sb_outbound *s)
{
    sb_button *b = NULL;
    if (s->n_buttons) {
        b = sb_thi_alloc(s->n_buttons * sizeof *b);
        for (size_t i = 0; i < s->n_buttons; i++) {
            b[i].id = sb_thi_strdup(s->buttons[i].id);
            b[i].title = sb_thi_strdup(s->buttons[i].title);
        }
    }
    *d = (sb_outbound){
        .struct_size = sizeof *d, .message_id = sb_thi_strdup(s->message_id),
        .conversation_id = sb_thi_strdup(s->conversation_id),
        .client_id = sb_thi_strdup(s->client_id),
        .external_id = sb_thi_strdup(s->external_id),
        .text = sb_thi_strdup(s->text), .buttons = b,
        .n_buttons = s->n_buttons,
        .attachments = attachments_copy(s->attachments, s->n_attachments),
        .n_attachments = s->n_attachments,
        .attempt = s->attempt ? s->attempt : 1};
}

static void outbound_free(sb_outbound *m)
{
    const char *s[] = {m->message_id, m->conversation_id, m->client_id,
                       m->external_id, m->text};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) free((char *)s[i]);
    for (size_t i = 0; i < m->n_buttons; i++) {
        free((char *)m->buttons[i].id);
        free((char *)m->buttons[i].title);
    }
    free((sb_button *)m->buttons);
    attachments_free(m->attachments, m->n_attachments);
}

sb_send_accept sb_th_send(sb_th *th, const sb_outbound *msg_in, uint64_t *op)
{
    sb_thi_loop_only(th, "sb_th_send");
    if (!th->started || !SB_THI_HAS(th->plugin, send) || !msg_in) {
        sb_thi_log(th, SB_LOG_ERROR, "testhost: sb_th_send: instance not "
                                     "running or without send()");
        return SB_SEND_REJECTED;
    }
    uint64_t id = ++th->next_op;
    if (op) *op = id;
    /* A fresh copy freed after the call: keeping it is caught by ASan. */
    sb_outbound copy;
    outbound_copy(&copy, msg_in);
    th->op_in_send = id;
    sb_send_accept a = th->plugin->send(th->state, &copy, id);
    th->op_in_send = 0;
    outbound_free(&copy);
    if (a == SB_SEND_ACCEPTED) {
        uint64_t *cell = sb_thi_alloc(sizeof *cell);
        *cell = id;
        sb_thi_push(&th->open_ops, cell);
    }
    return a;
}

static sb_status h_send_result(sb_ctx *ctx, uint64_t op, sb_send_status status,
                               const char *remote_id, uint64_t retry_after_ms,
                               const char *error)
{
    sb_th *th = sb_thi_enter(ctx, "send_result");
    if (!th) return SB_ERR_HANDLE;
    if (status != SB_SENT && status != SB_SEND_RETRY &&
        status != SB_SEND_FAILED && status != SB_SEND_UNREACHABLE)
        return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "send_result");
    if (st != SB_OK) return st;
    if (op && op == th->op_in_send) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: send_result for op %llu from "
                   "inside send(): return first, then report",
                   (unsigned long long)op);
        return SB_ERR_STATE;
    }
    size_t i = 0;
    while (i < th->open_ops.n && *(uint64_t *)th->open_ops.v[i] != op) i++;
    if (i == th->open_ops.n) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: send_result for op %llu, which "
                   "is unknown, rejected or already reported",
                   (unsigned long long)op);
        return SB_ERR_HANDLE;
    }
    free(th->open_ops.v[i]);
    sb_thi_remove(&th->open_ops, i);
    sb_th_send_result *r = sb_thi_alloc(sizeof *r);
    r->op = op;
    r->status = status;
    r->remote_id = sb_thi_strdup(remote_id);
    r->retry_after_ms = retry_after_ms;
    r->error = sb_thi_strdup(error);
    sb_thi_push(&th->send_results, r);
    return SB_OK;
}

size_t sb_th_send_result_count(const sb_th *th) { return th->send_results.n; }

const sb_th_send_result *sb_th_send_result_get(const sb_th *th, size_t i)
{
    return i < th->send_results.n ? th->send_results.v[i] : NULL;
}

/* ---- typing ---------------------------------------------------------------------- */

/* The length of s cut at max bytes, not inside a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

static sb_status h_client_typing(sb_ctx *ctx, const char *external_id,
                                 const char *text)
{
    sb_th *th = sb_thi_enter(ctx, "client_typing");
    if (!th) return SB_ERR_HANDLE;
    if (!nonempty(external_id) || !text) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "client_typing");
    if (st != SB_OK) return st;
    sb_th_typing *t = sb_thi_alloc(sizeof *t);
    t->external_id = sb_thi_strdup(external_id);
    t->text = sb_thi_memdup(text, utf8_cut(text, MAX_TYPING));
    sb_thi_push(&th->typing, t);
    return SB_OK;
}

size_t sb_th_typing_count(const sb_th *th) { return th->typing.n; }

const sb_th_typing *sb_th_typing_get(const sb_th *th, size_t i)
{
    return i < th->typing.n ? th->typing.v[i] : NULL;
}

/* ---- teardown -------------------------------------------------------------------- */

void sb_thi_channel_cancel_open(sb_th *th)
{
    for (size_t i = 0; i < th->inbound.n; i++)
        sb_thi_inbound_finish(th->inbound.v[i], SB_ERR_CANCELLED);
    for (size_t i = 0; i < th->open_ops.n; i++) free(th->open_ops.v[i]);
    th->open_ops.n = 0;
}

void sb_thi_channel_free(sb_th *th)
{
    for (size_t i = 0; i < th->inbound.n; i++) {
        msg *m = th->inbound.v[i];
        inbound_free(&m->pub.msg);
        free((char *)m->pub.message_id);
        free(m->waiters.v);
        free(m);
    }
    free(th->inbound.v);
    free(th->open_ops.v);
    for (size_t i = 0; i < th->send_results.n; i++) {
        sb_th_send_result *r = th->send_results.v[i];
        free((char *)r->remote_id);
        free((char *)r->error);
        free(r);
    }
    free(th->send_results.v);
    for (size_t i = 0; i < th->typing.n; i++) {
        sb_th_typing *t = th->typing.v[i];
        free((char *)t->external_id);
        free((char *)t->text);
        free(t);
    }
    free(th->typing.v);
}

void sb_thi_channel_fill(sb_host *h)
{
    h->inbound = h_inbound;
    h->send_result = h_send_result;
    h->client_typing = h_client_typing;
}
