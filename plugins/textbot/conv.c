/* Per-conversation state: only the count of failed attempts in a row, so
 * a restart does not reset the automatic hand-off. At most TBP_CONV_MAX
 * entries (the oldest is evicted), each expiring state_ttl after its last
 * event; saved as one kv snapshot "conv" a second after a change (one
 * write per burst, no kv key left behind by a forgotten conversation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

#define SAVE_DELAY_MS 1000
#define SWEEP_MS 60000
#define SNAPSHOT_MAX (1024 * 1024)

static void save(textbot *b)
{
    b->conv_dirty = 0;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_conv; i++)
        json_array_append_new(arr, json_pack("[s, i, I]", b->conv[i].id, (int)b->conv[i].fails,
                                             (json_int_t)b->conv[i].last_ms));
    char *val = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    sb_status st = val ? b->host->kv_put(b->ctx, "conv", 4, val, strlen(val), NULL, NULL)
                       : SB_ERR_NOMEM;
    if (st != SB_OK)
        b->host->log(b->ctx, SB_LOG_WARN, "conversation state not saved: %s",
                     b->host->strstatus(st));
    free(val);
}

static void save_cb(void *ud, uint64_t id)
{
    (void)id;
    textbot *b = ud;
    b->save_timer = 0;
    if (b->conv_dirty) save(b);
}

void tbp_conv_changed(textbot *b)
{
    b->conv_dirty = 1;
    if (!b->save_timer) b->save_timer = b->host->timer_start(b->ctx, SAVE_DELAY_MS, 0, save_cb, b);
    if (!b->save_timer) save(b);   /* no timer: save at once rather than never */
}

static void drop(textbot *b, size_t i)
{
    b->conv[i] = b->conv[--b->n_conv];
}

static void sweep_cb(void *ud, uint64_t id)
{
    (void)id;
    textbot *b = ud;
    int64_t now = b->host->now_ms(b->ctx);
    size_t before = b->n_conv;
    for (size_t i = b->n_conv; i-- > 0;)
        if (now - b->conv[i].last_ms > (int64_t)b->state_ttl_ms) drop(b, i);
    if (b->n_conv != before) tbp_conv_changed(b);
}

sb_status tbp_conv_start(textbot *b)
{
    b->conv = calloc(TBP_CONV_MAX, sizeof *b->conv);
    if (!b->conv) return SB_ERR_NOMEM;
    char *val = malloc(SNAPSHOT_MAX + 1);
    size_t len = 0;
    if (val && b->host->kv_get(b->ctx, "conv", 4, val, SNAPSHOT_MAX, &len) == SB_OK) {
        json_t *arr = json_loadb(val, len, 0, NULL);
        int64_t now = b->host->now_ms(b->ctx);
        for (size_t i = 0; i < json_array_size(arr) && b->n_conv < TBP_CONV_MAX; i++) {
            json_t *e = json_array_get(arr, i);
            const char *id = json_string_value(json_array_get(e, 0));
            int64_t last = json_integer_value(json_array_get(e, 2));
            if (!id || strlen(id) > TBP_CONV_ID_MAX || now - last > (int64_t)b->state_ttl_ms)
                continue;
            tbp_conv *c = &b->conv[b->n_conv++];
            snprintf(c->id, sizeof c->id, "%s", id);
            c->fails = (uint32_t)json_integer_value(json_array_get(e, 1));
            c->last_ms = last;
        }
        json_decref(arr);
    }
    free(val);
    b->sweep_timer = b->host->timer_start(b->ctx, SWEEP_MS, SWEEP_MS, sweep_cb, b);
    return b->sweep_timer ? SB_OK : SB_ERR_NOMEM;
}

void tbp_conv_stop(textbot *b)
{
    if (b->save_timer) b->host->timer_stop(b->ctx, b->save_timer);
    if (b->sweep_timer) b->host->timer_stop(b->ctx, b->sweep_timer);
    b->save_timer = b->sweep_timer = 0;
    if (b->conv_dirty) save(b);
}

void tbp_conv_free(textbot *b)
{
    free(b->conv);
    b->conv = NULL;
    b->n_conv = 0;
}

tbp_conv *tbp_conv_get(textbot *b, const char *id)
{
    if (!b->conv || strlen(id) > TBP_CONV_ID_MAX) return NULL;
    int64_t now = b->host->now_ms(b->ctx);
    size_t oldest = 0;
    for (size_t i = 0; i < b->n_conv; i++) {
        if (!strcmp(b->conv[i].id, id)) {
            b->conv[i].last_ms = now;
            return &b->conv[i];
        }
        if (b->conv[i].last_ms < b->conv[oldest].last_ms) oldest = i;
    }
    if (b->n_conv == TBP_CONV_MAX) drop(b, oldest);
    tbp_conv *c = &b->conv[b->n_conv++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->last_ms = now;
    return c;
}

void tbp_conv_forget(textbot *b, const char *id)
{
    for (size_t i = 0; i < b->n_conv; i++) {
        if (!strcmp(b->conv[i].id, id)) {
            drop(b, i);
            tbp_conv_changed(b);
            return;
        }
    }
}
