/* The instances living in this .so. A visitor's request names its site by
 * key; the page routes belong to one instance (the core allows one owner
 * of /webchat), so the others are found here. Loop thread only. */
#include <string.h>

#include "wc.h"

#define WC_MAX_INSTANCES 64

static wc_state *g_inst[WC_MAX_INSTANCES];
static size_t g_n;
static wc_state *g_owner; /* the instance whose context holds the routes */

sb_status wc_registry_add(wc_state *s)
{
    if (wc_registry_find(s->cfg.site_key)) {
        s->host->config_error(s->ctx, "site_key", "already used by another webchat instance");
        return SB_ERR_EXISTS;
    }
    if (g_n == WC_MAX_INSTANCES) return SB_ERR_FULL;
    g_inst[g_n++] = s;
    return SB_OK;
}

void wc_registry_remove(wc_state *s)
{
    for (size_t i = 0; i < g_n; i++)
        if (g_inst[i] == s) {
            memmove(&g_inst[i], &g_inst[i + 1], (g_n - i - 1) * sizeof *g_inst);
            g_n--;
            break;
        }
    if (g_owner == s) g_owner = NULL;
}

void wc_registry_set_owner(wc_state *s)
{
    g_owner = s;
}

wc_state *wc_registry_find(const char *site_key)
{
    for (size_t i = 0; site_key && i < g_n; i++)
        if (strcmp(g_inst[i]->cfg.site_key, site_key) == 0) return g_inst[i];
    return NULL;
}

wc_state *wc_registry_by_name(const char *instance)
{
    for (size_t i = 0; instance && i < g_n; i++)
        if (strcmp(g_inst[i]->host->instance_name(g_inst[i]->ctx), instance) == 0)
            return g_inst[i];
    return NULL;
}

wc_state *wc_registry_owner(void)
{
    return g_owner;
}

wc_state *wc_registry_at(size_t i)
{
    return i < g_n ? g_inst[i] : NULL;
}
