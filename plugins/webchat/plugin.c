/* The web-chat channel plugin: descriptor, configuration and lifecycle.
 * The first instance registers the /webchat pages and API for all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wc.h"

static sb_status wc_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    wc_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    sb_status st = wc_config_read(host, ctx, &s->cfg);
    if (st == SB_OK) st = wc_forget_subscribe(s);
    if (st == SB_OK) st = wc_registry_add(s);
    if (st == SB_OK && !wc_registry_owner()) {
        st = host->http_route(ctx, NULL, "", SB_ROUTE_PAGE | SB_ROUTE_PREFIX, wc_http, s);
        if (st == SB_OK) wc_registry_set_owner(s);
    }
    if (st != SB_OK) wc_registry_remove(s);
    return st;
}

/* The HMAC key of visitor credentials: made once, kept in kv, so that
 * visitors stay known across restarts. */
static sb_status wc_start(void *state)
{
    wc_state *s = state;
    size_t len = 0;
    sb_status st = s->host->kv_get(s->ctx, "secret", 6, s->secret, sizeof s->secret, &len);
    if (st == SB_ERR_NOT_FOUND) {
        if (!wc_random(s->secret, sizeof s->secret)) return SB_ERR_IO;
        len = sizeof s->secret;
        st = s->host->kv_put(s->ctx, "secret", 6, s->secret, len, NULL, NULL);
    }
    if (st != SB_OK || len != sizeof s->secret) {
        s->host->log(s->ctx, SB_LOG_ERROR, "visitor key unreadable: %s",
                     s->host->strstatus(st == SB_OK ? SB_ERR_INVALID : st));
        return st == SB_OK ? SB_ERR_INVALID : st;
    }
    s->ready = true;
    return SB_OK;
}

static sb_status wc_reload(void *state)
{
    wc_state *s = state;
    wc_config c;
    sb_status st = wc_config_read(s->host, s->ctx, &c);
    if (st != SB_OK) return st;
    wc_state *other = wc_registry_find(c.site_key);
    if (other && other != s) {
        s->host->config_error(s->ctx, "site_key", "already used by another webchat instance");
        return SB_ERR_EXISTS;
    }
    s->cfg = c;
    return SB_OK;
}

static void wc_stop(void *state)
{
    wc_state *s = state;
    wc_live_stop(s);
    s->ready = false;
}

static void wc_destroy(void *state)
{
    wc_state *s = state;
    if (wc_registry_owner() == s) wc_live_owner_gone();
    wc_registry_remove(s);
    wc_pending_free(s);
    free(s);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("webchat", "1.0.0", SB_KIND_CHANNEL),
    .init = wc_init,
    .start = wc_start,
    .reload = wc_reload,
    .stop = wc_stop,
    .destroy = wc_destroy,
    .send = wc_send,
};

SB_PLUGIN_EXPORT(k_desc)
