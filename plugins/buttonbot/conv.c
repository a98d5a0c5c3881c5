/* Conversations the bot holds: a bounded table in memory (least recently
 * used evicted first) backed by kv "c:<id>", so that a restart continues
 * where the client was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

int bb_convs_init(bb_state *s)
{
    s->n_buckets = 1024;
    s->buckets = calloc(s->n_buckets, sizeof *s->buckets);
    return s->buckets ? 0 : -1;
}

static void lru_unlink(bb_state *s, bb_conv *c)
{
    if (c->prev) c->prev->next = c->next;
    else s->lru_head = c->next;
    if (c->next) c->next->prev = c->prev;
    else s->lru_tail = c->prev;
    c->prev = c->next = NULL;
}

static void lru_front(bb_state *s, bb_conv *c)
{
    c->next = s->lru_head;
    if (s->lru_head) s->lru_head->prev = c;
    s->lru_head = c;
    if (!s->lru_tail) s->lru_tail = c;
}

/* Removes from memory only (kv keeps it). */
static void forget(bb_conv *c)
{
    bb_state *s = c->s;
    bb_conv **pp = &s->buckets[hash(c->id) % s->n_buckets];
    while (*pp && *pp != c) pp = &(*pp)->hnext;
    if (*pp) *pp = c->hnext;
    lru_unlink(s, c);
    s->n_convs--;
    if (c->call_id) s->host->http_cancel(s->ctx, c->call_id);
    c->dead = 1;
    c->hnext = s->dead;
    s->dead = c;
}

void bb_convs_reap(bb_state *s)
{
    while (s->dead) {
        bb_conv *c = s->dead;
        s->dead = c->hnext;
        bb_scenario_unref(c->sc);
        json_decref(c->vars);
        free(c);
    }
}

static bb_conv *lookup(bb_state *s, const char *id)
{
    for (bb_conv *c = s->buckets[hash(id) % s->n_buckets]; c; c = c->hnext)
        if (!strcmp(c->id, id)) return c;
    return NULL;
}

static bb_conv *insert(bb_state *s, const char *id, const char *channel)
{
    if (strlen(id) >= sizeof ((bb_conv *)0)->id) return NULL;
    /* Evict the least recent that is not waiting for a call; its state is
     * in kv already. */
    for (bb_conv *v = s->lru_tail; v && s->n_convs >= (size_t)s->max_conversations; ) {
        bb_conv *prev = v->prev;
        if (!v->call_id) forget(v);
        v = prev;
    }
    bb_conv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->channel, sizeof c->channel, "%s", channel ? channel : "");
    c->s = s;
    c->vars = json_object();
    if (!c->vars) {
        free(c);
        return NULL;
    }
    size_t b = hash(id) % s->n_buckets;
    c->hnext = s->buckets[b];
    s->buckets[b] = c;
    lru_front(s, c);
    s->n_convs++;
    return c;
}

static void key_of(const char *id, char *key, size_t cap) { snprintf(key, cap, "c:%s", id); }

bb_conv *bb_conv_find(bb_state *s, const char *id)
{
    bb_conv *c = lookup(s, id);
    if (c) {
        lru_unlink(s, c);
        lru_front(s, c);
        return c;
    }
    char key[128], buf[80 << 10];
    size_t len = 0;
    key_of(id, key, sizeof key);
    if (s->host->kv_get(s->ctx, key, strlen(key), buf, sizeof buf - 1, &len) != SB_OK) return NULL;
    buf[len] = 0;
    json_t *j = json_loads(buf, 0, NULL);
    const char *step = json_string_value(json_object_get(j, "step"));
    const char *channel = json_string_value(json_object_get(j, "channel"));
    int ix = step ? bb_scenario_find(s->sc, step) : -1;
    /* A step the current scenario lacks (it was replaced): start over. */
    c = ix >= 0 ? insert(s, id, channel) : NULL;
    if (c) {
        bb_scenario_ref(s->sc);
        c->sc = s->sc;
        c->step = ix;
        c->reasks = (int)json_integer_value(json_object_get(j, "reasks"));
        json_t *vars = json_object_get(j, "vars");
        if (json_is_object(vars)) json_object_update(c->vars, vars);
    }
    json_decref(j);
    return c;
}

bb_conv *bb_conv_new(bb_state *s, const char *id, const char *channel)
{
    bb_conv *old = lookup(s, id);
    if (old) forget(old);
    bb_conv *c = insert(s, id, channel);
    if (!c) return NULL;
    bb_scenario_ref(s->sc);
    c->sc = s->sc;
    c->step = c->sc->start.ix;
    return c;
}

void bb_conv_save(bb_conv *c)
{
    bb_state *s = c->s;
    json_t *j = json_pack("{s:s, s:i, s:s, s:O}", "step", c->sc->steps[c->step].id, "reasks",
                          c->reasks, "channel", c->channel, "vars", c->vars);
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    char key[128];
    key_of(c->id, key, sizeof key);
    sb_status st = txt ? s->host->kv_put(s->ctx, key, strlen(key), txt, strlen(txt), NULL, NULL)
                       : SB_ERR_NOMEM;
    if (st != SB_OK)
        s->host->log(s->ctx, SB_LOG_WARN, "conversation %s: state not saved: %s", c->id,
                     s->host->strstatus(st));
    free(txt);
    json_decref(j);
}

void bb_conv_drop(bb_conv *c)
{
    bb_state *s = c->s;
    if (c->dead) return;
    char key[128];
    key_of(c->id, key, sizeof key);
    s->host->kv_del(s->ctx, key, strlen(key), NULL, NULL);
    forget(c);
}

void bb_convs_free(bb_state *s)
{
    while (s->lru_head) forget(s->lru_head);
    bb_convs_reap(s);
    free(s->buckets);
    s->buckets = NULL;
}

void bb_conv_on_event(void *ud, const sb_event *ev)
{
    bb_state *s = ud;
    bb_convs_reap(s);
    if (strcmp(ev->type, "conversation.queued") && strcmp(ev->type, "conversation.assigned") &&
        strcmp(ev->type, "conversation.closed"))
        return;
    json_t *j = json_loadb(ev->json, ev->json_len, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "conversation_id"));
    if (!id) id = json_string_value(json_object_get(json_object_get(j, "conversation"), "id"));
    bb_conv *c = id ? lookup(s, id) : NULL;
    /* Operators hold it now (or it is over): the bot's part is done. */
    if (c) {
        bb_conv_drop(c);
    } else if (id) {
        char key[128];
        size_t len;
        key_of(id, key, sizeof key);
        if (s->host->kv_get(s->ctx, key, strlen(key), NULL, 0, &len) == SB_ERR_TOO_BIG)
            s->host->kv_del(s->ctx, key, strlen(key), NULL, NULL);
    }
    json_decref(j);
}
