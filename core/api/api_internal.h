/* Shared between the files of core/api/. */
#ifndef SB_API_INTERNAL_H
#define SB_API_INTERNAL_H

#include <ev.h>
#include <jansson.h>

#include "api/api.h"
#include "api/ratelimit.h"
#include "engine/routing.h"
#include "util/worker.h"

#define SB_API_LAT_BUCKETS 13
#define SB_API_MAX_SEGS 6
#define SB_API_SEG_MAX 128

typedef struct sb_req_counter {
    char *route, *method;
    int status;
    uint64_t count;
    struct sb_req_counter *next;
} sb_req_counter;

/* Who is calling: an API token from the config, or a logged-in user. */
typedef struct sb_principal {
    char role[16];      /* admin | supervisor | operator */
    char user_id[24];   /* operator id; "" for an API token */
    char login[128];    /* the login, or the API token's name */
} sb_principal;

typedef struct sb_ws_client {
    uint64_t ws_id;
    sb_principal who;
    struct sb_ws_client *next;
} sb_ws_client;

typedef struct sb_api_token {
    char *name, *token, *role;
} sb_api_token;

struct sb_api {
    sb_api_deps d;
    sb_api_state state;
    sb_api_token *tokens;
    size_t n_tokens;
    uint64_t token_ttl_ms;
    char *admin_login, *admin_password;  /* bootstrap_admin, until used */
    sb_workers *workers;                 /* password hashing */
    sb_ratelimit rl_login, rl_addr;
    ev_timer expire_w;                   /* drops expired sessions */
    sb_req_counter *counters;
    uint64_t lat_buckets[SB_API_LAT_BUCKETS];
    double lat_sum;
    uint64_t lat_count;
    sb_ws_client *ws;
};

int64_t sb_api_now_ms(sb_api *api);

/* ---- auth.c --------------------------------------------------------------
 * Resolves the request's bearer token (or a raw token, for the WebSocket's
 * ?token=) into *who. False when absent, unknown or expired. */
bool sb_api_auth(sb_api *api, const sb_http_req *req, sb_principal *who);
bool sb_api_auth_token(sb_api *api, const char *token, sb_principal *who);
/* Answers 401/403 and returns false unless the caller's role is one of the
 * comma-separated `roles`. */
bool sb_api_require(sb_api *api, sb_http_req *req, const char *roles, sb_principal *who);
void sb_api_tokens_set(sb_api *api, const sb_config *cfg);
void sb_api_tokens_free(sb_api *api);

/* ---- login.c: /auth/login, /auth/logout, bootstrap admin ----------------- */
void sb_api_login_init(sb_api *api);
void sb_api_login_free(sb_api *api);
/* Hashes `password` on a worker, then calls done(api, ud, hash) on the loop
 * (hash NULL when hashing failed or was cancelled). */
typedef void (*sb_api_hashed_fn)(sb_api *api, void *ud, const char *hash);
sb_status sb_api_hash_password(sb_api *api, const char *password, sb_api_hashed_fn done,
                               void *ud);

/* ---- rest.c: the dispatcher and reply helpers ------------------------- */
typedef struct sb_rest_ctx {
    sb_api *api;
    sb_http_req *req;
    sb_principal who;
    char seg[SB_API_MAX_SEGS][SB_API_SEG_MAX];
    size_t n_seg;
} sb_rest_ctx;
typedef void (*sb_rest_fn)(sb_rest_ctx *c);
typedef struct sb_rest_route {
    const char *method;
    const char *pattern;   /* segments after /api/v1; "*" matches one */
    const char *roles;     /* comma-separated; NULL = no token needed */
    sb_rest_fn fn;
} sb_rest_route;
/* Every route the REST layer serves (for the OpenAPI check). */
const sb_rest_route *sb_api_routes(size_t *n);

void sb_api_rest_init(sb_api *api);
/* Sends a malloc'ed JSON text with `status` and frees it. */
void sb_api_send_json(sb_api *api, uint64_t req_id, int status, char *json);
/* Answers an engine result: SB_OK -> ok_status with *out; errors mapped per
 * routing.h (409 carries the current object as error.current). Frees *out.
 * out is a pointer (may be NULL) so that a call like
 * sb_api_reply(c, sb_engine_x(..., &out), 200, &out, ...) reads it only
 * after sb_engine_x has set it. */
void sb_api_reply(sb_rest_ctx *c, sb_status st, int ok_status, char **out, const char *err,
                  const char *what);
/* The one bad input of a history page the engine reports as SB_ERR_INVALID
 * (err is not shown with a 404 or 500, so it is safe to pass it with every call). */
#define SB_API_BAD_CURSOR "before: not a message id of this history"
/* The body as a JSON object, or NULL after answering 400. */
json_t *sb_api_body(sb_rest_ctx *c);
/* ?limit= (1..500, default 50) and ?cursor= / ?before=; false after a 400. */
bool sb_api_page(sb_rest_ctx *c, size_t *limit, char *cursor, size_t cap);
/* True for admin and supervisor, who see every conversation. */
bool sb_api_sees_all(const sb_principal *who);

/* Handlers, by resource (rest_*.c). */
void sb_rest_me(sb_rest_ctx *c);
void sb_rest_me_status(sb_rest_ctx *c);
void sb_rest_operators(sb_rest_ctx *c);   /* list / create */
void sb_rest_operator(sb_rest_ctx *c);    /* get / patch / delete */
void sb_rest_groups(sb_rest_ctx *c);
void sb_rest_group(sb_rest_ctx *c);
void sb_rest_queues(sb_rest_ctx *c);
void sb_rest_templates(sb_rest_ctx *c);
void sb_rest_template(sb_rest_ctx *c);
void sb_rest_plugins(sb_rest_ctx *c);
void sb_rest_conversations(sb_rest_ctx *c);
void sb_rest_conversation(sb_rest_ctx *c);
void sb_rest_conversation_messages(sb_rest_ctx *c);
void sb_rest_conversation_action(sb_rest_ctx *c); /* take/assign/transfer/close */
void sb_rest_conversation_tags(sb_rest_ctx *c);
void sb_rest_conversation_attributes(sb_rest_ctx *c);
void sb_rest_clients(sb_rest_ctx *c);
void sb_rest_client(sb_rest_ctx *c);
void sb_rest_client_messages(sb_rest_ctx *c);
void sb_rest_client_merge(sb_rest_ctx *c);
void sb_rest_audit(sb_rest_ctx *c);
void sb_rest_audit_undo(sb_rest_ctx *c);
void sb_rest_login(sb_rest_ctx *c);
void sb_rest_logout(sb_rest_ctx *c);
void sb_rest_openapi(sb_rest_ctx *c);

/* metrics.c */
void sb_api_metrics_init(sb_api *api);
void sb_api_metrics_free(sb_api *api);
/* events_ws.c */
void sb_api_ws_init(sb_api *api);
/* Unsubscribes and starts closing every stream (their on_close follows). */
void sb_api_ws_stop(sb_api *api);
void sb_api_ws_free(sb_api *api);

#endif
