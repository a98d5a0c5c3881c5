/* Shared between the files of core/host/. Not for other modules. */
#ifndef SB_HOST_INTERNAL_H
#define SB_HOST_INTERNAL_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>

#include "host/host.h"
#include "util/idmap.h"

#define SB_CTX_MAGIC 0x53424358u  /* "SBCX" while the instance lives */
#define SB_CTX_DEAD 0x44454144u   /* "DEAD" after destroy */
#define SB_MAX_METRICS 64

typedef enum {
    SB_INST_NEW,       /* descriptor found, init not yet run */
    SB_INST_INITED,    /* init succeeded */
    SB_INST_RUNNING,   /* start succeeded */
    SB_INST_STOPPED,   /* stop ran */
    SB_INST_FAILED,    /* load, init or start failed; see last_error */
    SB_INST_DESTROYED
} sb_inst_state;

typedef struct sb_inst sb_inst;

/* The handle plugins hold. Never freed while the process runs, so a stale
 * pointer is still safe to check: the magic turns DEAD at destroy. */
struct sb_ctx {
    uint32_t magic;
    sb_inst *inst;
    sb_plugins *host;
    atomic_bool accepting_posts;  /* read by post() from any thread */
};

typedef struct sb_timer_rec {
    ev_timer w;
    bool firing, cancelled;
    uint64_t id;
    sb_timer_cb cb;
    void *ud;
    sb_inst *inst;
    struct sb_timer_rec *next;
} sb_timer_rec;

typedef struct sb_route_rec {
    sb_inst *inst;
    unsigned flags;              /* SB_ROUTE_API, SB_ROUTE_AUTH_* */
    sb_http_handler fn;
    void *ud;
    size_t prefix_len;           /* bytes of the registered path */
    struct sb_route_rec *next;
} sb_route_rec;

typedef struct sb_sub_rec {
    sb_inst *inst;
    sb_event_cb cb;
    void *ud;
    struct sb_sub_rec *next;
} sb_sub_rec;

typedef struct sb_ws_rec {
    sb_inst *inst;               /* NULL once released: no more callbacks */
    uint64_t id;
    sb_ws_message_cb on_message;
    sb_ws_close_cb on_close;
    void *ud;
    struct sb_ws_rec *next;
} sb_ws_rec;

typedef struct sb_metric {
    char name[65];
    double value;
} sb_metric;

typedef struct sb_loaded_so sb_loaded_so;

struct sb_inst {
    sb_plugins *host;
    sb_ctx *ctx;
    const sb_plugin *desc;
    char *name, *instance, *label;    /* label = "name/instance" */
    size_t index;                     /* plugins[index] in the config */
    sb_inst_state state;
    char last_error[512];
    void *state_ptr;                  /* the plugin's state from init */
    sb_node *cfg;                     /* own copy of the config section */
    sb_node *cfg_retired;             /* a section a plugin may still point
                                         into; freed with the instance */
    char *cfg_prefix;                 /* "plugins[i].config" for messages */
    bool cfg_failed;                  /* a getter reported a type error */
    sb_timer_rec *timers;
    sb_route_rec *routes;
    sb_sub_rec *subs;
    sb_ws_rec *ws;                    /* its open WebSockets */
    sb_metric metrics[SB_MAX_METRICS];
    size_t n_metrics;
    double cb_seconds;
    uint64_t cb_count, cb_slow;
    sb_inst *next;
};

struct sb_plugins {
    sb_plugins_deps d;
    sb_plugins_auth_fn auth;          /* API routes' callers */
    void *auth_ud;
    sb_idmap ws_recs;                 /* plugin socket id -> its sb_ws_rec */
    sb_host table;
    sb_inst *insts;                   /* in config order */
    sb_ctx **ctxs;                    /* every ctx ever handed out, freed last */
    size_t n_ctxs, cap_ctxs;
    sb_loaded_so *sos;
    uint64_t next_timer_id;
    /* post(): a locked queue drained on the loop by an ev_async. */
    pthread_mutex_t post_mu;
    struct sb_post *post_head, *post_tail;
    ev_async post_async;
    /* watchdog */
    pthread_t wd_thread;
    bool wd_running;
    atomic_bool wd_stop;
    atomic_uint_least64_t wd_started_us;  /* 0 = no callback running */
    const char *_Atomic wd_label;
    const char *_Atomic wd_what;
    unsigned cb_depth;
    pthread_mutex_t wd_mu;
    pthread_cond_t wd_cv;
};

/* A descriptor callback the plugin's struct_size covers and that is set. */
static inline bool sb_desc_has(const sb_plugin *d, size_t off, size_t size, const void *fn)
{
    return d->struct_size >= off + size && fn != NULL;
}
#define HAS(d, f) sb_desc_has((d), offsetof(sb_plugin, f), sizeof((d)->f), (const void *)(d)->f)

/* instance.c: the instance "plugin/instance", or NULL. */
sb_inst *sb_inst_by_label(sb_plugins *p, const char *label);

/* host_table.c */
void sb_host_table_fill(sb_host *t);
/* Checks a ctx handed in by a plugin; NULL when stale or foreign. */
sb_inst *sb_ctx_inst(sb_ctx *ctx);
/* Removes the instance's timers, routes, subscriptions, calls and posts. */
void sb_inst_release(sb_inst *in);
void sb_post_init(sb_plugins *p);
void sb_post_fini(sb_plugins *p);
/* host_timer.c: the table's timer and post() functions. */
uint64_t sb_h_timer_start(sb_ctx *ctx, uint64_t after_ms, uint64_t repeat_ms,
                          sb_timer_cb cb, void *ud);
void sb_h_timer_stop(sb_ctx *ctx, uint64_t id);
sb_status sb_h_post(sb_ctx *ctx, sb_post_cb cb, void *ud);
void sb_timers_release(sb_inst *in);
/* host_io.c: the table's storage, HTTP, channel, event and metric functions. */
void sb_host_io_fill(sb_host *t);

/* host_ws.c: the table's WebSocket functions. Closes the instance's open
 * sockets; with notify, tells the plugin (on_close 1001) first. */
void sb_host_ws_fill(sb_host *t);
void sb_ws_release(sb_inst *in, bool notify);
/* host_bot.c: the table's bot and typing functions, and the dispatch of
 * bot.input events to bot instances (subscribed at sb_plugins_new). */
void sb_host_bot_fill(sb_host *t);
void sb_host_bot_subscribe(sb_plugins *p);

/* watchdog.c: wrap every call into plugin code. */
void sb_watchdog_start(sb_plugins *p);
void sb_watchdog_stop(sb_plugins *p);
/* enter returns the start time to hand to leave. Nested calls are fine:
 * only the outermost one arms the watchdog. */
uint64_t sb_cb_enter(sb_inst *in, const char *what);
void sb_cb_leave(sb_inst *in, const char *what, uint64_t t0);
/* Runs `stmt` (a call into plugin code) under the watchdog. */
#define SB_PLUGIN_CALL(in, what, stmt)                     \
    do {                                                   \
        uint64_t t0_ = sb_cb_enter((in), (what));          \
        stmt;                                              \
        sb_cb_leave((in), (what), t0_);                    \
    } while (0)

/* loader.c */
const sb_plugin *sb_loader_open(sb_plugins *p, const char *name, char *err, size_t errlen);
void sb_loader_free(sb_plugins *p);

/* host_config.c: an instance's private copy of its config section. */
sb_node *sb_node_clone(const sb_node *n);
void sb_node_clone_free(sb_node *n);
bool sb_node_equal(const sb_node *a, const sb_node *b);

#endif
