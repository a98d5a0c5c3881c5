/* Test host: the instance's key-value storage, in memory. */
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define MAX_KEY 400
#define MAX_VAL ((size_t)1 << 20)

typedef struct kv_entry {
    char *key, *val; /* val NUL-terminated for sb_th_kv_peek */
    size_t key_len, val_len;
} kv_entry;

static size_t find(const sb_th *th, const void *key, size_t key_len)
{
    for (size_t i = 0; i < th->kv.n; i++) {
        const kv_entry *e = th->kv.v[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return i;
    }
    return (size_t)-1;
}

static void entry_free(kv_entry *e)
{
    free(e->key);
    free(e->val);
    free(e);
}

static void store(sb_th *th, const void *key, size_t key_len, const void *val,
                  size_t val_len)
{
    size_t i = find(th, key, key_len);
    kv_entry *e;
    if (i != (size_t)-1) {
        e = th->kv.v[i];
        free(e->val);
    } else {
        e = sb_thi_alloc(sizeof *e);
        e->key = sb_thi_memdup(key, key_len);
        e->key_len = key_len;
        sb_thi_push(&th->kv, e);
    }
    e->val = sb_thi_memdup(val, val_len);
    e->val_len = val_len;
}

static void queue_done(sb_th *th, sb_done_cb done, void *ud)
{
    if (!done) return;
    sb_thi_pend *p = sb_thi_alloc(sizeof *p);
    p->kind = PEND_KV_DONE;
    p->fn = (void (*)(void))done;
    p->ud = ud;
    sb_thi_queue(th, p);
}

static sb_status h_kv_put(sb_ctx *ctx, const void *key, size_t key_len,
                          const void *val, size_t val_len, sb_done_cb done,
                          void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "kv_put");
    if (!th) return SB_ERR_HANDLE;
    if (!key || key_len == 0 || key_len > MAX_KEY || (val_len && !val))
        return SB_ERR_INVALID;
    if (val_len > MAX_VAL) return SB_ERR_TOO_BIG;
    sb_status st = sb_thi_fault(th, "kv_put");
    if (st != SB_OK) return st;
    store(th, key, key_len, val, val_len);
    queue_done(th, done, ud);
    return SB_OK;
}

static sb_status h_kv_del(sb_ctx *ctx, const void *key, size_t key_len,
                          sb_done_cb done, void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "kv_del");
    if (!th) return SB_ERR_HANDLE;
    if (!key || key_len == 0 || key_len > MAX_KEY) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "kv_del");
    if (st != SB_OK) return st;
    size_t i = find(th, key, key_len);
    if (i != (size_t)-1) {
        entry_free(th->kv.v[i]);
        sb_thi_remove(&th->kv, i);
    }
    queue_done(th, done, ud);
    return SB_OK;
}

static sb_status h_kv_get(sb_ctx *ctx, const void *key, size_t key_len,
                          void *buf, size_t cap, size_t *val_len)
{
    sb_th *th = sb_thi_enter(ctx, "kv_get");
    if (!th) return SB_ERR_HANDLE;
    if (!key || key_len == 0 || key_len > MAX_KEY || !val_len || (cap && !buf))
        return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "kv_get");
    if (st != SB_OK) return st;
    size_t i = find(th, key, key_len);
    if (i == (size_t)-1) return SB_ERR_NOT_FOUND;
    const kv_entry *e = th->kv.v[i];
    *val_len = e->val_len;
    if (e->val_len > cap) return SB_ERR_TOO_BIG;
    if (e->val_len) memcpy(buf, e->val, e->val_len);
    return SB_OK;
}

void sb_th_kv_set(sb_th *th, const char *key, const void *val, size_t len)
{
    store(th, key, strlen(key), val, len);
}

const char *sb_th_kv_peek(const sb_th *th, const char *key, size_t *len)
{
    size_t i = find(th, key, strlen(key));
    if (i == (size_t)-1) return NULL;
    const kv_entry *e = th->kv.v[i];
    if (len) *len = e->val_len;
    return e->val;
}

void sb_thi_kv_free(sb_th *th)
{
    for (size_t i = 0; i < th->kv.n; i++) entry_free(th->kv.v[i]);
    free(th->kv.v);
}

void sb_thi_kv_fill(sb_host *h)
{
    h->kv_put = h_kv_put;
    h->kv_del = h_kv_del;
    h->kv_get = h_kv_get;
}
