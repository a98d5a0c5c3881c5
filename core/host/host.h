/* The plugin host: loads plugin .so files, runs their instances through
 * init -> start -> reload -> stop -> destroy, and implements the sb_host
 * table (sdk/include/switchboard/plugin.h) on top of the core's modules.
 *
 * Thread: loop thread only, except the watchdog's own thread, which only
 * reads an atomic "callback started at" stamp and logs.
 */
#ifndef SB_HOST_H
#define SB_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include <switchboard/plugin.h>
#include "config/config.h"
#include "engine/engine.h"
#include "net/http.h"
#include "net/http_client.h"
#include "store/store.h"

struct ev_loop;
typedef struct sb_plugins sb_plugins;

typedef struct sb_plugins_deps {
    struct ev_loop *loop;
    sb_store *store;         /* NULL in --check mode: kv answers SB_ERR_STATE */
    sb_table kv_table;       /* the "kv" table */
    sb_http_server *http;    /* routes are registered here */
    sb_http_client *client;  /* may be NULL in --check mode */
    sb_engine *engine;       /* NULL in --check mode */
    const char *plugins_dir;
    bool strict;             /* a plugin that fails to load fails the start */
    uint64_t watchdog_ms;    /* a callback running longer is logged */
} sb_plugins_deps;

/* Names of the host's tables for sb_store_open ("kv"). */
const char *const *sb_plugins_table_names(size_t *n);

sb_plugins *sb_plugins_new(const sb_plugins_deps *deps);
/* Who calls an SB_ROUTE_API route: fills role ("admin" | "supervisor" |
 * "operator") and user (operator id or API token name) from the request's
 * bearer token; false without a valid one. Until set, nobody is
 * authenticated. Loop thread. */
typedef bool (*sb_plugins_auth_fn)(void *ud, const sb_http_req *req, char *role,
                                   size_t role_cap, char *user, size_t user_cap);
void sb_plugins_set_auth(sb_plugins *p, sb_plugins_auth_fn fn, void *ud);

/* Stops and destroys every instance (if not yet), frees. Never dlcloses. */
void sb_plugins_free(sb_plugins *p);

/* Loads and inits every enabled instance of cfg, in order. A plugin that
 * cannot be loaded, has another ABI major, or whose init fails is logged
 * with its name and reason and skipped — unless strict, when this returns
 * -1 with the message in err. Returns the number of instances that failed,
 * or -1. The config is not kept: each instance copies its section. */
int sb_plugins_load(sb_plugins *p, const sb_config *cfg, char *err, size_t errlen);
/* Starts every initialised instance. */
void sb_plugins_start(sb_plugins *p);
/* SIGHUP: applies a newly read config. Instances whose section changed get
 * reload(); new ones are loaded, initialised and started; removed or
 * disabled ones are stopped and destroyed. */
void sb_plugins_reload(sb_plugins *p, const sb_config *cfg);
/* Stops every running instance (stop(), timers, calls, posts cancelled). */
void sb_plugins_stop(sb_plugins *p);

/* Describes the instances for GET /api/v1/plugins: a JSON array of
 * {name, instance, kind, version, state, last_error} (malloc'ed). */
char *sb_plugins_json(sb_plugins *p);

/* For /metrics: one call per instance, then one per plugin counter. */
typedef struct sb_plugin_metrics {
    const char *name, *instance, *state;
    double callback_seconds;     /* total time spent in its callbacks */
    uint64_t callbacks;          /* number of callbacks */
    uint64_t slow_callbacks;     /* over the watchdog threshold */
} sb_plugin_metrics;
void sb_plugins_metrics(sb_plugins *p,
                        void (*inst_cb)(void *ud, const sb_plugin_metrics *m),
                        void (*counter_cb)(void *ud, const char *plugin, const char *instance,
                                           const char *name, double value),
                        void *ud);

/* True when every enabled instance that loaded is running: failed ones were
 * skipped and do not hold readiness back (for /healthz). */
bool sb_plugins_all_running(const sb_plugins *p);

#endif
