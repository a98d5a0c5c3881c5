/* Shared between the files of core/api/. */
#ifndef SB_API_INTERNAL_H
#define SB_API_INTERNAL_H

#include "api/api.h"

#define SB_API_LAT_BUCKETS 13

typedef struct sb_req_counter {
    char *route, *method;
    int status;
    uint64_t count;
    struct sb_req_counter *next;
} sb_req_counter;

typedef struct sb_ws_client {
    uint64_t ws_id;
    char *role;
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
    sb_req_counter *counters;
    uint64_t lat_buckets[SB_API_LAT_BUCKETS]; /* cumulative at render time */
    double lat_sum;
    uint64_t lat_count;
    sb_ws_client *ws;
};

/* auth.c: the role of the request's bearer token ("admin", ...) or NULL. */
const char *sb_api_auth(sb_api *api, const sb_http_req *req);
/* Same from a raw token (the WebSocket's ?token=). */
const char *sb_api_auth_token(sb_api *api, const char *token);
/* Answers 401/403 and returns false unless the request's role is one of
 * the comma-separated `roles`. *role receives the role. */
bool sb_api_require(sb_api *api, sb_http_req *req, const char *roles, const char **role);
void sb_api_tokens_set(sb_api *api, const sb_config *cfg);
void sb_api_tokens_free(sb_api *api);

/* metrics.c */
void sb_api_metrics_init(sb_api *api);
void sb_api_metrics_free(sb_api *api);
/* events_ws.c */
void sb_api_ws_init(sb_api *api);
void sb_api_ws_free(sb_api *api);
/* rest.c */
void sb_api_rest_init(sb_api *api);
/* Sends a malloc'ed JSON text with `status` and frees it. */
void sb_api_send_json(sb_api *api, uint64_t req_id, int status, char *json);
/* Maps an engine status to the API's error answer. */
void sb_api_send_status(sb_api *api, uint64_t req_id, sb_status st, const char *what);

#endif
