/* Test harness for the engine: a real store in a temporary directory, a
 * real libev loop driven the way the daemon drives it (one loop iteration,
 * then sb_store_flush, as its ev_prepare does), a recording fake channel
 * sender and a recording event subscriber. Header-only: each test_*.c is
 * its own executable. */
#ifndef SB_TEST_ENGINE_HARNESS_H
#define SB_TEST_ENGINE_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ev.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "store/store.h"

#define H_MAX_SENDS 512
#define H_MAX_EVENTS 4096

typedef struct h_send {
    uint64_t op;
    char message_id[32], plugin[64], instance[64], external_id[300];
    char text[256];
    size_t n_buttons;
    uint32_t attempt;
    int64_t at_ms;
} h_send;

typedef struct h_event {
    uint64_t seq;
    char type[64];
    json_t *json;
} h_event;

typedef struct h_done {
    int calls;
    sb_status status;
    char id[32];
    int duplicate;
} h_done;

typedef struct harness harness;
/* What the fake channel does with a send: the default accepts and waits
 * for the test to call sb_engine_send_result. */
typedef sb_send_accept (*h_send_fn)(harness *h, const h_send *s, bool *transient);

struct harness {
    char dir[64];
    struct ev_loop *loop;
    sb_store *st;
    sb_engine *e;
    sb_engine_options opt;
    bool sender_on;
    h_send_fn on_send;
    h_send sends[H_MAX_SENDS];
    size_t n_sends;
    h_event events[H_MAX_EVENTS];
    size_t n_events;
};

static inline int64_t h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void h_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static inline sb_send_accept h_sender(void *ud, const char *plugin, const char *instance,
                               const sb_outbound *msg, uint64_t op, bool *transient)
{
    harness *h = ud;
    assert_true(h->n_sends < H_MAX_SENDS);
    h_send *s = &h->sends[h->n_sends++];
    s->op = op;
    h_copy(s->message_id, sizeof s->message_id, msg->message_id);
    h_copy(s->plugin, sizeof s->plugin, plugin);
    h_copy(s->instance, sizeof s->instance, instance);
    h_copy(s->external_id, sizeof s->external_id, msg->external_id);
    h_copy(s->text, sizeof s->text, msg->text);
    s->n_buttons = msg->n_buttons;
    s->attempt = msg->attempt;
    s->at_ms = h_now();
    return h->on_send ? h->on_send(h, s, transient) : SB_SEND_ACCEPTED;
}

static inline void h_on_event(void *ud, const sb_event *ev)
{
    harness *h = ud;
    assert_true(h->n_events < H_MAX_EVENTS);
    assert_int_equal(ev->struct_size, sizeof *ev);
    h_event *r = &h->events[h->n_events++];
    r->seq = ev->seq;
    h_copy(r->type, sizeof r->type, ev->type);
    json_error_t err;
    r->json = json_loadb(ev->json, ev->json_len, 0, &err);
    assert_non_null(r->json);
    assert_string_equal(json_string_value(json_object_get(r->json, "type")), ev->type);
}

static inline void h_start_engine(harness *h)
{
    size_t n;
    const char *const *names = sb_engine_table_names(&n);
    sb_store_options so = {.path = h->dir, .tables = names, .n_tables = n, .no_sync = true};
    char err[256];
    sb_status s = sb_store_open(&h->st, &so, err, sizeof err);
    if (s != SB_OK) fail_msg("store open: %s", err);
    h->e = sb_engine_new(h->loop, h->st, 0, &h->opt);
    assert_non_null(h->e);
    if (h->sender_on) sb_engine_set_sender(h->e, h_sender, h);
    assert_int_equal(sb_engine_subscribe(h->e, "", h_on_event, h, h), SB_OK);
    sb_engine_start(h->e);
}

/* opt may be NULL. The sender is installed. */
static inline harness *h_open(const sb_engine_options *opt)
{
    harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/sb-engine-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    h->loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(h->loop);
    if (opt) h->opt = *opt;
    h->sender_on = true;
    h_start_engine(h);
    return h;
}

static inline void h_stop_engine(harness *h)
{
    sb_engine_free(h->e);
    h->e = NULL;
    sb_store_close(h->st);
    h->st = NULL;
}

/* A restart: the engine and the store go, the same directory opens again. */
static inline void h_restart(harness *h)
{
    h_stop_engine(h);
    h_start_engine(h);
}

static inline int h_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static inline void h_close(harness *h)
{
    if (h->e) h_stop_engine(h);
    for (size_t i = 0; i < h->n_events; i++) json_decref(h->events[i].json);
    ev_loop_destroy(h->loop);
    nftw(h->dir, h_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(h);
}

/* One daemon iteration: the loop's ready callbacks, then the group commit. */
static inline void h_step(harness *h)
{
    ev_run(h->loop, EVRUN_NOWAIT);
    sb_store_flush(h->st);
}

/* Steps until cond(h, ud) holds or ms pass; returns whether it held. */
static inline bool h_run_until(harness *h, bool (*cond)(harness *, void *), void *ud, int ms)
{
    int64_t end = h_now() + ms;
    for (;;) {
        h_step(h);
        if (cond && cond(h, ud)) return true;
        if (h_now() >= end) return false;
        usleep(500);
    }
}

static inline void h_run_for(harness *h, int ms) { h_run_until(h, NULL, NULL, ms); }

static inline bool h_sends_at_least(harness *h, void *ud) { return h->n_sends >= *(size_t *)ud; }
static inline void h_wait_sends(harness *h, size_t n, int ms)
{
    if (!h_run_until(h, h_sends_at_least, &n, ms))
        fail_msg("waited %d ms for %zu sends, got %zu", ms, n, h->n_sends);
}

static inline bool h_done_called(harness *h, void *ud) { return ((h_done *)ud)->calls > 0; }

static inline void h_done_cb(void *ud, sb_status status, const char *message_id, int duplicate)
{
    h_done *d = ud;
    d->calls++;
    d->status = status;
    d->duplicate = duplicate;
    h_copy(d->id, sizeof d->id, message_id);
}

/* A text message from (plugin, instance, external_id). */
static inline sb_inbound h_msg(const char *external_id, const char *dedup, const char *text)
{
    sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE,
                     .external_id = external_id, .dedup_key = dedup, .text = text};
    return in;
}

/* Sends one inbound and steps until its done runs; returns the stored id
 * in d. */
static inline void h_inbound(harness *h, const char *plugin, const char *instance,
                             const sb_inbound *in, h_done *d)
{
    memset(d, 0, sizeof *d);
    assert_int_equal(sb_engine_inbound(h->e, plugin, instance, in, h_done_cb, d), SB_OK);
    assert_int_equal(d->calls, 0);
    assert_true(h_run_until(h, h_done_called, d, 2000));
    assert_int_equal(d->calls, 1);
    assert_int_equal(d->status, SB_OK);
}

/* Parses a malloc'ed JSON text and frees it. */
static inline json_t *h_parse(char *text)
{
    assert_non_null(text);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j) fail_msg("bad JSON (%s): %s", err.text, text);
    free(text);
    return j;
}

static inline const char *h_str(json_t *obj, const char *path)
{
    /* "a.b": nested members */
    char buf[128];
    h_copy(buf, sizeof buf, path);
    json_t *cur = obj;
    for (char *save, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, tok);
    return json_string_value(cur);
}

static inline json_t *h_get(harness *h, sb_status (*fn)(sb_engine *, const char *, char **),
                            const char *id)
{
    char *text = NULL;
    assert_int_equal(fn(h->e, id, &text), SB_OK);
    return h_parse(text);
}

static inline size_t h_count_events(harness *h, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_events; i++) n += strcmp(h->events[i].type, type) == 0;
    return n;
}

/* The last event of a type, or NULL. */
static inline json_t *h_last_event(harness *h, const char *type)
{
    for (size_t i = h->n_events; i-- > 0;)
        if (strcmp(h->events[i].type, type) == 0) return h->events[i].json;
    return NULL;
}

/* A conversation for a fresh client of apichannel/main; returns its id. */
static inline void h_conversation(harness *h, const char *external_id, char conv_id[32])
{
    char dedup[64];
    snprintf(dedup, sizeof dedup, "%s-hello", external_id);
    sb_inbound in = h_msg(external_id, dedup, "hello");
    h_done d;
    h_inbound(h, "apichannel", "main", &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    h_copy(conv_id, 32, h_str(m, "conversation_id"));
    json_decref(m);
}

/* A reply in a conversation; returns the message id. */
static inline void h_reply(harness *h, const char *conv_id, const char *text, char msg_id[32])
{
    sb_reply r = {.conversation_id = conv_id, .author_kind = "operator", .author_id = "op-1",
                  .text = text};
    char *json = NULL;
    assert_int_equal(sb_engine_reply(h->e, &r, &json), SB_OK);
    json_t *m = h_parse(json);
    h_copy(msg_id, 32, h_str(m, "id"));
    assert_string_equal(h_str(m, "delivery.status"), "pending");
    json_decref(m);
}

static inline const char *h_delivery(harness *h, const char *msg_id, char out[64])
{
    json_t *m = h_get(h, sb_engine_message_json, msg_id);
    h_copy(out, 64, h_str(m, "delivery.status"));
    json_decref(m);
    return out;
}

#endif
