#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/sessions.h"

const char *const *sb_api_table_names(size_t *n) { return sb_sessions_table_names(n); }

int64_t sb_api_now_ms(sb_api *api)
{
    return (int64_t)((api->d.loop ? ev_now(api->d.loop) : ev_time()) * 1000.0);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

sb_api *sb_api_new(const sb_api_deps *deps)
{
    sb_api *api = calloc(1, sizeof *api);
    if (!api) return NULL;
    api->d = *deps;
    sb_api_tokens_set(api, deps->cfg);
    api->admin_login = dup_or_null(deps->cfg->auth.admin_login);
    api->admin_password = dup_or_null(deps->cfg->auth.admin_password);
    api->d.cfg = NULL;
    sb_api_login_init(api);
    sb_api_metrics_init(api);
    sb_api_ws_init(api);
    sb_api_rest_init(api);
    return api;
}

void sb_api_stop(sb_api *api)
{
    if (!api) return;
    sb_api_login_free(api);
    sb_api_ws_stop(api);
    sb_http_set_observer(api->d.http, NULL, NULL);
    sb_http_unroute_owner(api->d.http, api);
}

void sb_api_free(sb_api *api)
{
    if (!api) return;
    sb_api_ws_free(api);
    sb_api_metrics_free(api);
    sb_api_tokens_free(api);
    free(api->admin_login);
    if (api->admin_password) memset(api->admin_password, 0, strlen(api->admin_password));
    free(api->admin_password);
    free(api);
}

void sb_api_set_state(sb_api *api, sb_api_state state) { api->state = state; }

void sb_api_reload(sb_api *api, const sb_config *cfg) { sb_api_tokens_set(api, cfg); }
