/* Test host internals shared by its files; not installed, not for plugins.
 * Names are sb_thi_*; the public API is testhost.h. */
#ifndef SB_TH_INTERNAL_H
#define SB_TH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "testhost.h"

struct sb_ctx {
    sb_th *th;
    int live; /* from start until destroy returns; stale ctx -> SB_ERR_HANDLE */
};

/* A growable array of pointers; elements are owned by whoever uses it. */
typedef struct sb_thi_vec {
    void **v;
    size_t n, cap;
} sb_thi_vec;

/* Work that runs at the next sb_th_run_pending(). */
typedef enum {
    PEND_POST,      /* a post() callback */
    PEND_KV_DONE,   /* a kv_put/kv_del completion */
    PEND_INBOUND,   /* an inbound completion (auto mode or a duplicate) */
    PEND_HTTP_DONE, /* the answer to an http_call */
    PEND_WS_CLOSE   /* the end of a close handshake the plugin began */
} sb_thi_pend_kind;

typedef struct sb_thi_pend sb_thi_pend;
struct sb_thi_pend {
    sb_thi_pend *next;
    sb_thi_pend_kind kind;
    void (*fn)(void);  /* the callback, cast back by kind */
    void *ud;
    void *rec;         /* PEND_INBOUND: the message; PEND_HTTP_DONE: the
                          call; PEND_WS_CLOSE: the socket */
    int duplicate;     /* PEND_INBOUND: answer as a duplicate of rec */
};

struct sb_th {
    sb_host host;
    sb_ctx ctx;
    pthread_t loop_thread;
    char *plugin_name, *instance;
    const sb_plugin *plugin;
    void *state;
    int started;      /* init succeeded and stop has not run */
    int stopping;     /* post() refuses; guarded by mu */

    pthread_mutex_t mu; /* guards pending, stopping, faults */
    sb_thi_pend *pend_head, *pend_tail;
    sb_thi_vec faults;  /* struct fault * */

    int64_t now;
    uint64_t next_timer_id;
    sb_thi_vec timers;

    sb_thi_vec config;        /* struct cfg_entry * */
    sb_thi_vec config_errors; /* char * */
    sb_thi_vec retired;       /* replaced config values, freed at the end */

    sb_thi_vec logs;          /* struct log_line * */
    sb_thi_vec kv;            /* struct kv_entry * */

    sb_thi_vec routes, requests;
    uint64_t next_reply_id;
    char *auth_role, *auth_user; /* the caller of API routes; NULL: none */
    sb_thi_vec sockets;          /* struct sock *, kept after closing */
    uint64_t next_ws_id;
    sb_thi_vec scripts, calls;
    uint64_t next_call_id;

    sb_thi_vec inbound, send_results, open_ops;
    int inbound_auto;
    uint64_t next_msg_id, next_op, op_in_send;

    sb_thi_vec subs, metrics;
    uint64_t event_seq;

    sb_thi_vec bot_actions;   /* sb_th_bot_action * */
    sb_thi_vec released;      /* char *: conversations no longer held */
    sb_thi_vec conversations; /* struct conv *: conversation_get answers */
    sb_thi_vec typing;        /* sb_th_typing * */
};

/* The descriptor has callback f: within its struct_size and set (the core
 * reads nothing past struct_size either). */
#define SB_THI_HAS(p, f)                                                    \
    ((p)->struct_size >= offsetof(sb_plugin, f) + sizeof (p)->f && (p)->f)

/* Memory: the test host aborts on allocation failure (it is a test tool;
 * plugins still see SB_ERR_NOMEM through sb_th_fail_next). */
void *sb_thi_alloc(size_t n);
char *sb_thi_strdup(const char *s);  /* NULL stays NULL */
char *sb_thi_memdup(const void *p, size_t n); /* NUL added */
char *sb_thi_printf(const char *fmt, ...) SB_PRINTF(1, 2);
void sb_thi_push(sb_thi_vec *v, void *p);
void sb_thi_remove(sb_thi_vec *v, size_t i); /* keeps order */

/* The sb_th behind a ctx for a host function: NULL when the ctx is stale.
 * Aborts when called off the loop thread (a plugin bug the core could not
 * catch as loudly). */
sb_th *sb_thi_enter(sb_ctx *ctx, const char *fn);
/* Aborts when an sb_th_* function that calls into the plugin runs off the
 * loop thread. */
void sb_thi_loop_only(const sb_th *th, const char *fn);
/* The status injected for the next call of `fn`, SB_OK when none. */
sb_status sb_thi_fault(sb_th *th, const char *fn);
/* A captured line at `level`, "testhost: ..." for the host's own remarks. */
void sb_thi_log(sb_th *th, sb_log_level level, const char *fmt, ...)
    SB_PRINTF(3, 4);
void sb_thi_queue(sb_th *th, sb_thi_pend *p);
/* Removes the queued PEND_HTTP_DONE for rec; 1 when it was queued. */
int sb_thi_unqueue_call(sb_th *th, void *rec);

/* Per-file parts of the host table, of start and of the teardown. */
void sb_thi_config_fill(sb_host *h);
void sb_thi_config_reset_use(sb_th *th);
void sb_thi_config_free(sb_th *th);
void sb_thi_time_fill(sb_host *h);
void sb_thi_time_drop(sb_th *th);
void sb_thi_kv_fill(sb_host *h);
void sb_thi_kv_free(sb_th *th);
void sb_thi_route_fill(sb_host *h);
/* Answers open request reply_id with 101 for ws_accept and returns its
 * reply; NULL when the request is not open (SB_ERR_HANDLE in *st) or is no
 * GET with the upgrade headers (answered 400, SB_ERR_INVALID in *st). */
const sb_th_reply *sb_thi_http_upgrade(sb_th *th, uint64_t reply_id,
                                       sb_status *st);
void sb_thi_http_drop_routes(sb_th *th);
void sb_thi_route_free(sb_th *th);
void sb_thi_call_fill(sb_host *h);
/* Runs the done of a call: its scripted answer, or `forced` when not SB_OK. */
void sb_thi_call_deliver(void *call, sb_status forced);
void sb_thi_call_free(sb_th *th);
void sb_thi_channel_fill(sb_host *h);
void sb_thi_inbound_finish(void *rec, sb_status st);
void sb_thi_inbound_dup(void *rec, sb_thi_pend *p, sb_status st);
void sb_thi_channel_cancel_open(sb_th *th);
void sb_thi_channel_free(sb_th *th);
void sb_thi_ws_fill(sb_host *h);
/* Runs the on_close of a socket whose close handshake (PEND_WS_CLOSE) ends. */
void sb_thi_ws_closed(void *sock);
/* Closes every socket still open with 1001 (the instance stops). */
void sb_thi_ws_stop(sb_th *th);
void sb_thi_ws_free(sb_th *th);
void sb_thi_bot_fill(sb_host *h);
void sb_thi_bot_free(sb_th *th);
/* 1 when s is a JSON object whose values are strings, numbers, true,
 * false or null (what bot_set_attributes accepts). */
int sb_thi_json_flat_object(const char *s);
void sb_thi_events_fill(sb_host *h);
void sb_thi_events_drop(sb_th *th);
void sb_thi_events_free(sb_th *th);

#endif
