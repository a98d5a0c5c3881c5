/* Test fixture: init registers a route and a timer, then fails. The host
 * must remove both (the route answers 404 afterwards). */
#include <switchboard/plugin.h>

static void handler(void *ud, const sb_http_request *req)
{
    (void)ud; (void)req;
}

static void tick(void *ud, uint64_t id)
{
    (void)ud; (void)id;
}

static sb_status init(const sb_host *h, sb_ctx *c, void **st)
{
    *st = NULL;
    h->http_route(c, NULL, "", 0, handler, NULL);
    h->timer_start(c, 10, 10, tick, NULL);
    h->config_error(c, "reason", "this plugin always fails");
    return SB_ERR_INVALID;
}

static const sb_plugin desc = {
    SB_PLUGIN_HEADER("init_fail", "1.0", SB_KIND_SERVICE),
    .init = init,
};

SB_PLUGIN_EXPORT(desc)
