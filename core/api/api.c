#include <stdlib.h>

#include "api/api_internal.h"

sb_api *sb_api_new(const sb_api_deps *deps)
{
    sb_api *api = calloc(1, sizeof *api);
    if (!api) return NULL;
    api->d = *deps;
    sb_api_tokens_set(api, deps->cfg);
    api->d.cfg = NULL;
    sb_api_metrics_init(api);
    sb_api_ws_init(api);
    sb_api_rest_init(api);
    return api;
}

void sb_api_free(sb_api *api)
{
    if (!api) return;
    sb_api_ws_free(api);
    sb_api_metrics_free(api);
    sb_http_unroute_owner(api->d.http, api);
    sb_api_tokens_free(api);
    free(api);
}

void sb_api_set_state(sb_api *api, sb_api_state state) { api->state = state; }

void sb_api_reload(sb_api *api, const sb_config *cfg) { sb_api_tokens_set(api, cfg); }
