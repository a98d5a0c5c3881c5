/* The operator workspace plugin: descriptor, configuration, lifecycle.
 * Config (all optional):
 *   lang:  ru | en | auto   the UI language (auto: the browser's); default ru
 *   title: text             shown in the header and the tab; default Switchboard
 *   sound: bool             a sound on a new conversation; default true */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "workspace.h"

enum { TITLE_MAX = 120 };

/* FNV-1a, enough for an ETag that changes when config.json does. */
static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Reads every key even after an error, so all problems show at once.
 * On success replaces s->config_json; on error leaves it as it was. */
static sb_status read_config(workspace_state *s)
{
    const sb_host *h = s->host;
    const char *lang = "ru", *title = "Switchboard";
    int sound = 1;
    sb_status a = h->config_string(s->ctx, "lang", &lang);
    sb_status b = h->config_string(s->ctx, "title", &title);
    sb_status c = h->config_bool(s->ctx, "sound", &sound);
    sb_status st = SB_OK;
    /* The host has already recorded why a key is of the wrong type. */
    if ((a != SB_OK && a != SB_ERR_NOT_FOUND) || (b != SB_OK && b != SB_ERR_NOT_FOUND) ||
        (c != SB_OK && c != SB_ERR_NOT_FOUND))
        st = SB_ERR_INVALID;
    if (a == SB_OK && strcmp(lang, "ru") && strcmp(lang, "en") && strcmp(lang, "auto")) {
        h->config_error(s->ctx, "lang", "expected ru, en or auto");
        st = SB_ERR_INVALID;
    }
    if (b == SB_OK && (!*title || strlen(title) > TITLE_MAX)) {
        h->config_error(s->ctx, "title", "expected 1..120 bytes of text");
        st = SB_ERR_INVALID;
    }
    if (st != SB_OK) return st;
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s}", "lang", lang, "title", title, "sound",
                          sound, "api", "/api/v1", "version", WORKSPACE_VERSION);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        /* jansson refuses text that is not UTF-8 */
        h->config_error(s->ctx, "title", "expected UTF-8 text");
        return SB_ERR_INVALID;
    }
    free(s->config_json);
    s->config_json = text;
    s->config_len = strlen(text);
    snprintf(s->config_etag, sizeof s->config_etag, "\"c%016llx\"", fnv1a(text, s->config_len));
    return SB_OK;
}

static sb_status ws_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    workspace_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    sb_status st = read_config(s);
    if (st == SB_OK)
        st = host->http_route(ctx, "GET", "", SB_ROUTE_PAGE | SB_ROUTE_PREFIX, workspace_serve, s);
    return st;
}

static sb_status ws_reload(void *state)
{
    return read_config(state);
}

static void ws_destroy(void *state)
{
    workspace_state *s = state;
    free(s->config_json);
    free(s);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("workspace", WORKSPACE_VERSION, SB_KIND_SERVICE),
    .init = ws_init,
    .reload = ws_reload,
    .destroy = ws_destroy,
};

SB_PLUGIN_EXPORT(k_desc)
