#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* One event waiting for its batch to commit. Each event has its own commit
 * callback: the store runs them in registration order, so events go out in
 * log order, and an event emitted from another commit callback (which lands
 * in the next batch) waits for that batch instead of riding along. */
typedef struct pending_event {
    sb_eng_later later;
    uint64_t seq;
    char *type, *json;
    size_t len;
} pending_event;

json_t *sb_eng_event_new(const char *type)
{
    json_t *ev = json_object();
    if (ev && json_object_set_new(ev, "type", json_string(type)) != 0) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

sb_status sb_eng_emit_obj(sb_engine *e, const char *type, const char *key, json_t *val)
{
    json_t *ev = sb_eng_event_new(type);
    if (!ev || !val) {
        json_decref(ev);
        json_decref(val);
        return SB_ERR_NOMEM;
    }
    if (json_object_set_new(ev, key, val) != 0) { /* val is taken either way */
        json_decref(ev);
        return SB_ERR_NOMEM;
    }
    return sb_eng_emit(e, ev);
}

static void compact(sb_engine *e)
{
    size_t j = 0;
    for (size_t i = 0; i < e->n_subs; i++) {
        if (e->subs[i].dead) free(e->subs[i].prefix);
        else e->subs[j++] = e->subs[i];
    }
    e->n_subs = j;
}

/* Calls every subscriber whose prefix matches. Subscribers may subscribe
 * and unsubscribe from the callback: those added now wait for the next
 * event, those removed are only marked, and the array is indexed afresh
 * after every call. */
static void deliver(sb_engine *e, const sb_event *ev)
{
    size_t tl = strlen(ev->type);
    size_t n = e->n_subs;
    e->dispatching++;
    for (size_t i = 0; i < n; i++) {
        sb_eng_sub s = e->subs[i];
        if (s.dead || s.prefix_len > tl || memcmp(s.prefix, ev->type, s.prefix_len) != 0)
            continue;
        s.cb(s.ud, ev);
    }
    if (--e->dispatching == 0) compact(e);
}

static void dispatch(sb_engine *e, sb_eng_later *l, sb_status st)
{
    pending_event *pe = (pending_event *)l;
    if (e && st == SB_OK) {
        sb_event ev = {.struct_size = sizeof ev, .seq = pe->seq, .type = pe->type,
                       .json = pe->json, .json_len = pe->len};
        deliver(e, &ev);
    } else if (e) {
        sb_debug("engine", "event %s (seq %llu) not delivered: its batch failed (%d)",
                pe->type, (unsigned long long)pe->seq, (int)st);
    }
    free(pe->type);
    free(pe->json);
    free(pe);
}

/* Queues ev (taken) for dispatch after the batch's commit, appended to the
 * durable log unless `unlogged` (then seq 0). */
static sb_status emit(sb_engine *e, json_t *ev, bool unlogged)
{
    if (!ev) return SB_ERR_NOMEM;
    pending_event *pe = calloc(1, sizeof *pe);
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (pe && type) pe->type = strdup(type);
    if (pe) pe->json = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    sb_status s = SB_ERR_NOMEM;
    if (pe && pe->type && pe->json) {
        pe->len = strlen(pe->json);
        s = unlogged ? SB_OK : sb_store_log_append(e->st, pe->json, pe->len, &pe->seq);
        if (s == SB_OK) s = sb_eng_after_commit(e, &pe->later, dispatch);
        if (s == SB_OK) return SB_OK;
    }
    if (pe) {
        free(pe->type);
        free(pe->json);
        free(pe);
    }
    return s;
}

sb_status sb_eng_emit(sb_engine *e, json_t *ev) { return emit(e, ev, false); }

sb_status sb_eng_emit_unlogged(sb_engine *e, json_t *ev) { return emit(e, ev, true); }

sb_status sb_eng_emit_transient(sb_engine *e, json_t *ev)
{
    if (!ev) return SB_ERR_NOMEM;
    const char *type = json_string_value(json_object_get(ev, "type"));
    char *js = type ? json_dumps(ev, JSON_COMPACT) : NULL;
    if (js) {
        sb_event out = {.struct_size = sizeof out, .seq = 0, .type = type, .json = js,
                        .json_len = strlen(js)};
        deliver(e, &out);
    }
    free(js);
    json_decref(ev);
    return js ? SB_OK : SB_ERR_NOMEM;
}

sb_status sb_engine_subscribe(sb_engine *e, const char *prefix, sb_event_cb cb, void *ud,
                              const void *owner)
{
    if (!e || !cb) return SB_ERR_INVALID;
    if (!prefix) prefix = "";
    if (e->n_subs == e->cap_subs) {
        size_t cap = e->cap_subs ? e->cap_subs * 2 : 8;
        sb_eng_sub *subs = realloc(e->subs, cap * sizeof *subs);
        if (!subs) return SB_ERR_NOMEM;
        e->subs = subs;
        e->cap_subs = cap;
    }
    char *p = strdup(prefix);
    if (!p) return SB_ERR_NOMEM;
    e->subs[e->n_subs++] = (sb_eng_sub){.prefix = p, .prefix_len = strlen(p), .cb = cb,
                                        .ud = ud, .owner = owner};
    return SB_OK;
}

void sb_engine_unsubscribe_owner(sb_engine *e, const void *owner)
{
    if (!e) return;
    for (size_t i = 0; i < e->n_subs; i++)
        if (e->subs[i].owner == owner) e->subs[i].dead = true;
    if (!e->dispatching) compact(e);
}

void sb_eng_subs_free(sb_engine *e)
{
    for (size_t i = 0; i < e->n_subs; i++) free(e->subs[i].prefix);
    free(e->subs);
    e->subs = NULL;
    e->n_subs = e->cap_subs = 0;
}
