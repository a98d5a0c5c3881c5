/* The public HTTP surface of the core (shared/design/api.md): /healthz,
 * /metrics, the REST API under /api/v1 and the event stream /api/v1/ws.
 * Sits on the engine and the HTTP server; plugins' own routes are the
 * host's business.
 *
 * Thread: loop thread only.
 */
#ifndef SB_API_H
#define SB_API_H

#include "config/config.h"
#include "engine/engine.h"
#include "host/host.h"
#include "net/http.h"
#include "store/store.h"

typedef struct sb_api sb_api;

typedef enum { SB_API_STARTING, SB_API_READY, SB_API_STOPPING } sb_api_state;

typedef struct sb_api_deps {
    struct ev_loop *loop;
    sb_http_server *http;
    sb_store *store;
    sb_table first_table;   /* the API's tables (sb_api_table_names), in order */
    sb_engine *engine;
    sb_plugins *plugins;
    const sb_config *cfg;   /* what the API needs is copied; cfg may go after new() */
} sb_api_deps;

/* Names of the API's own tables (login sessions) for sb_store_open. */
const char *const *sb_api_table_names(size_t *n);

sb_api *sb_api_new(const sb_api_deps *deps);
/* Shutdown, step 1 (server, engine and store still up): stops listening to
 * the engine, finishes or cancels pending logins, closes event streams. */
void sb_api_stop(sb_api *api);
/* Step 2, after sb_http_server_free (which reports the streams' closes to
 * the API): frees the memory. Touches no other module. */
void sb_api_free(sb_api *api);
/* Once the engine is configured: creates auth.bootstrap_admin when no
 * operator has that login yet (hashing on a worker thread). */
void sb_api_start(sb_api *api);
/* /healthz answers 200 only in SB_API_READY, 503 otherwise. */
void sb_api_set_state(sb_api *api, sb_api_state state);
/* For plugins' API routes (sb_plugins_set_auth): the caller of req from
 * its bearer token (Authorization header, or ?token= for WebSockets). */
bool sb_api_who(void *api, const sb_http_req *req, char *role, size_t role_cap, char *user,
                size_t user_cap);
/* SIGHUP: take the API tokens and session lifetime of a newly read config. */
void sb_api_reload(sb_api *api, const sb_config *cfg);

#endif
