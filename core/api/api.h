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
    sb_http_server *http;
    sb_store *store;
    sb_engine *engine;
    sb_plugins *plugins;
    const sb_config *cfg;   /* api tokens are copied; cfg may go after new() */
} sb_api_deps;

sb_api *sb_api_new(const sb_api_deps *deps);
/* Closes every event stream and frees. Routes go with the server. */
void sb_api_free(sb_api *api);
/* /healthz answers 200 only in SB_API_READY, 503 otherwise. */
void sb_api_set_state(sb_api *api, sb_api_state state);
/* SIGHUP: take the API tokens of a newly read config. */
void sb_api_reload(sb_api *api, const sb_config *cfg);

#endif
