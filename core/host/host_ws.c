/* The sb_host WebSocket functions: a plugin upgrades one of its requests
 * and talks over the core's WebSocket layer (net/ws.c). Each socket keeps a
 * record on its instance so that stopping the instance closes it and no
 * callback reaches a stopped plugin. */
#include <stdint.h>
#include <stdlib.h>

#include "host/host_internal.h"

static void unlink_rec(sb_inst *in, sb_ws_rec *r)
{
    for (sb_ws_rec **pp = &in->ws; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

static void on_message(void *ud, uint64_t ws_id, bool binary, const void *data, size_t len)
{
    sb_ws_rec *r = ud;
    if (r->inst)
        SB_PLUGIN_CALL(r->inst, "ws message",
                       r->on_message(r->ud, ws_id, binary, (const char *)data, len));
}

/* The layer calls this exactly once per socket: the record goes here. A
 * released record (inst NULL) touches nothing else: the host may be gone. */
static void on_close(void *ud, uint64_t ws_id, int code)
{
    sb_ws_rec *r = ud;
    if (r->inst) {
        sb_idmap_del(&r->inst->host->ws_recs, ws_id);
        unlink_rec(r->inst, r);
        if (r->on_close) SB_PLUGIN_CALL(r->inst, "ws close", r->on_close(r->ud, ws_id, code));
    }
    free(r);
}

static uint64_t h_ws_accept(sb_ctx *ctx, uint64_t reply_id, sb_ws_message_cb on_msg,
                            sb_ws_close_cb on_cl, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in || !on_msg) return 0;
    sb_ws_rec *r = calloc(1, sizeof *r);
    if (!r) return 0;
    *r = (sb_ws_rec){.inst = in, .on_message = on_msg, .on_close = on_cl, .ud = ud};
    sb_ws_handlers h = {.on_message = on_message, .on_close = on_close};
    if (sb_ws_accept(in->host->d.http, reply_id, &h, r, &r->id) != SB_OK) {
        free(r);
        return 0;
    }
    if (sb_idmap_put(&in->host->ws_recs, r->id, (uint64_t)(uintptr_t)r) != SB_OK) {
        r->inst = NULL; /* the layer's on_close frees it */
        sb_ws_close(in->host->d.http, r->id, 1011, "out of memory");
        return 0;
    }
    r->next = in->ws;
    in->ws = r;
    return r->id;
}

/* The socket `id` when it is this instance's: a send is on the hot path,
 * so by the host's map, not by a walk of the instance's list. */
static sb_ws_rec *find(sb_inst *in, uint64_t id)
{
    uint64_t v;
    if (!in || !sb_idmap_get(&in->host->ws_recs, id, &v)) return NULL;
    sb_ws_rec *r = (sb_ws_rec *)(uintptr_t)v;
    return r->inst == in ? r : NULL;
}

static sb_status h_ws_send(sb_ctx *ctx, uint64_t ws_id, const char *text, size_t len)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!text && len) return SB_ERR_INVALID;
    if (!find(in, ws_id)) return SB_ERR_HANDLE; /* another instance's socket is not ours */
    return sb_ws_send(in->host->d.http, ws_id, false, text ? text : "", len);
}

static sb_status h_ws_close(sb_ctx *ctx, uint64_t ws_id, int code, const char *reason)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return SB_ERR_HANDLE;
    if (!find(in, ws_id)) return SB_ERR_HANDLE;
    return sb_ws_close(in->host->d.http, ws_id, code ? code : 1000, reason ? reason : "");
}

void sb_ws_release(sb_inst *in, bool notify)
{
    while (in->ws) {
        sb_ws_rec *r = in->ws;
        in->ws = r->next;
        if (notify && r->on_close)
            SB_PLUGIN_CALL(in, "ws close", r->on_close(r->ud, r->id, 1001));
        sb_idmap_del(&in->host->ws_recs, r->id);
        r->inst = NULL; /* the layer's on_close frees it, silently */
        sb_ws_close(in->host->d.http, r->id, 1001, "going away");
    }
}

void sb_host_ws_fill(sb_host *t)
{
    t->ws_accept = h_ws_accept;
    t->ws_send = h_ws_send;
    t->ws_close = h_ws_close;
}
