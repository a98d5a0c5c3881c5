/* Group commit: the batch's write transaction, its journal, map growth on
 * MDB_MAP_FULL, flush and commit callbacks. */
#include "store/store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

enum {
    FLUSH_ROUNDS = 4,
    /* A journal bigger than this after a flush is freed rather than kept,
     * so one huge batch does not pin its memory for the process's life. */
    JOURNAL_KEEP = 1 << 20,
};

static void journal_clear(sb_store *st)
{
    st->journal.n = 0;
    st->journal.len = 0;
    if (st->journal.dcap > JOURNAL_KEEP) {
        free(st->journal.data);
        st->journal.data = NULL;
        st->journal.dcap = 0;
    }
    if (st->journal.cap * sizeof(sb_journal_op) > JOURNAL_KEEP) {
        free(st->journal.ops);
        st->journal.ops = NULL;
        st->journal.cap = 0;
    }
}

/* p with room for `need` elements, or NULL (p untouched) without memory. */
static void *reserve(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) return NULL;
        n *= 2;
    }
    void *q = realloc(p, n * elem);
    if (q) *cap = n;
    return q;
}

static sb_status journal_push(sb_store *st, size_t idx, bool del, unsigned flags,
                              const void *key, size_t klen, const void *val,
                              size_t vlen)
{
    if (vlen > SIZE_MAX - klen - st->journal.len) return SB_ERR_NOMEM;
    sb_journal_op *ops = reserve(st->journal.ops, &st->journal.cap,
                                 st->journal.n + 1, sizeof *ops);
    if (!ops) return SB_ERR_NOMEM;
    st->journal.ops = ops;
    unsigned char *data = reserve(st->journal.data, &st->journal.dcap,
                                  st->journal.len + klen + vlen, 1);
    if (!data) return SB_ERR_NOMEM;
    st->journal.data = data;
    sb_journal_op *op = &st->journal.ops[st->journal.n++];
    op->idx = idx;
    op->del = del;
    op->flags = flags;
    op->koff = st->journal.len;
    op->klen = klen;
    memcpy(st->journal.data + op->koff, key, klen);
    op->voff = op->koff + klen;
    op->vlen = vlen;
    if (vlen) memcpy(st->journal.data + op->voff, val, vlen);
    st->journal.len = op->voff + vlen;
    return SB_OK;
}

static int apply(sb_store *st, const sb_journal_op *op)
{
    MDB_val k = {op->klen, st->journal.data + op->koff};
    if (op->del) return mdb_del(st->wtxn, st->dbi[op->idx], &k, NULL);
    MDB_val v = {op->vlen, op->vlen ? st->journal.data + op->voff : (void *)""};
    return mdb_put(st->wtxn, st->dbi[op->idx], &k, &v, op->flags);
}

/* After MDB_MAP_FULL: abort, double the map, replay the journal; again while
 * the replay does not fit. MDB_MAP_FULL when the map is at max_map_size. */
static int grow_and_replay(sb_store *st)
{
    for (;;) {
        if (st->wtxn) {
            mdb_txn_abort(st->wtxn);
            st->wtxn = NULL;
        }
        if (st->map_size >= st->max_map_size) return MDB_MAP_FULL;
        uint64_t next = st->map_size > st->max_map_size / 2 ? st->max_map_size
                                                            : st->map_size * 2;
        /* Legal here: no write txn, and the read txn is reset (writes are
         * refused while a scan holds it). */
        int rc = mdb_env_set_mapsize(st->env, (size_t)next);
        if (rc != MDB_SUCCESS) {
            /* LMDB unmapped the old map before failing to map the new one:
             * nothing can be read or written any more. */
            st->broken = true;
            sb_error("store", "cannot grow the map to %llu bytes: %s; storage unusable",
                     (unsigned long long)next, mdb_strerror(rc));
            return rc;
        }
        MDB_envinfo info;
        mdb_env_info(st->env, &info);
        st->map_size = info.me_mapsize;
        st->stats.map_grows++;
        sb_info("store", "map grown to %llu bytes (max %llu)",
                (unsigned long long)st->map_size, (unsigned long long)st->max_map_size);
        rc = mdb_txn_begin(st->env, NULL, 0, &st->wtxn);
        if (rc != MDB_SUCCESS) {
            st->wtxn = NULL;
            return rc;
        }
        for (size_t i = 0; i < st->journal.n && rc == MDB_SUCCESS; i++)
            rc = apply(st, &st->journal.ops[i]);
        if (rc != MDB_MAP_FULL) return rc;
    }
}

/* The batch is lost: nothing of it committed. Writes fail with `why` until
 * the flush that reports it to the callbacks. */
static void fail_batch(sb_store *st, int rc)
{
    /* A full disk (or file size limit) fails the commit's writes: as full
     * as a full map for whoever waits on the batch. */
    bool disk = rc == ENOSPC || rc == EDQUOT || rc == EFBIG;
    sb_status why = rc == MDB_MAP_FULL || disk ? SB_ERR_FULL : SB_ERR_IO;
    if (st->wtxn) {
        mdb_txn_abort(st->wtxn);
        st->wtxn = NULL;
    }
    if (rc == MDB_MAP_FULL)
        sb_error("store", "batch of %zu writes failed: map full at %llu bytes "
                 "(raise storage.max_map_size)",
                 st->journal.n, (unsigned long long)st->map_size);
    else
        sb_error("store", "batch of %zu writes failed: %s%s", st->journal.n,
                 mdb_strerror(rc), disk ? " (free disk space)" : "");
    journal_clear(st);
    st->failed = why;
    st->log_next = st->log_committed;
    st->stats.commit_failures++;
}

sb_status sb_store_write(sb_store *st, size_t idx, bool del, unsigned flags,
                         const void *key, size_t klen, const void *val,
                         size_t vlen)
{
    if (st->broken) return SB_ERR_IO;
    if (st->closing) return SB_ERR_CANCELLED;
    if (st->scan_depth) return SB_ERR_STATE;
    if (st->failed != SB_OK) return st->failed;
    if (!st->wtxn) {
        int rc = mdb_txn_begin(st->env, NULL, 0, &st->wtxn);
        if (rc != MDB_SUCCESS) {
            st->wtxn = NULL;
            sb_error("store", "cannot begin a write transaction: %s", mdb_strerror(rc));
            return SB_ERR_IO;
        }
    }
    /* Journal first: a write LMDB holds must be replayable. */
    sb_status s = journal_push(st, idx, del, flags, key, klen, val, vlen);
    if (s != SB_OK) return s;
    int rc = apply(st, &st->journal.ops[st->journal.n - 1]);
    if (rc == MDB_SUCCESS) return SB_OK;
    if (del && rc == MDB_NOTFOUND) { /* leaves the txn intact */
        st->journal.n--;
        st->journal.len = st->journal.ops[st->journal.n].koff;
        return SB_ERR_NOT_FOUND;
    }
    if (rc == MDB_MAP_FULL) rc = grow_and_replay(st);
    if (rc == MDB_SUCCESS) return SB_OK;
    fail_batch(st, rc);
    return st->failed;
}

sb_status sb_store_put(sb_store *st, sb_table t, const void *key, size_t klen,
                       const void *val, size_t vlen)
{
    if (t >= st->n_user || !key || klen == 0 || klen > st->max_key || (!val && vlen))
        return SB_ERR_INVALID;
    return sb_store_write(st, t, false, 0, key, klen, val, vlen);
}

sb_status sb_store_del(sb_store *st, sb_table t, const void *key, size_t klen)
{
    if (t >= st->n_user || !key || klen == 0 || klen > st->max_key)
        return SB_ERR_INVALID;
    return sb_store_write(st, t, true, 0, key, klen, NULL, 0);
}

sb_status sb_store_on_commit(sb_store *st, sb_commit_cb cb, void *ud)
{
    if (!cb) return SB_ERR_INVALID;
    if (st->closing) return SB_ERR_CANCELLED;
    sb_wait_list *l = &st->waits[st->cur_wait];
    sb_commit_wait *v = reserve(l->v, &l->cap, l->n + 1, sizeof *v);
    if (!v) return SB_ERR_NOMEM;
    l->v = v;
    l->v[l->n++] = (sb_commit_wait){cb, ud};
    return SB_OK;
}

bool sb_store_pending(const sb_store *st)
{
    return st->journal.n > 0 || st->failed != SB_OK ||
           st->waits[st->cur_wait].n > 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void count_commit(sb_store *st, double secs, size_t writes)
{
    st->stats.commits++;
    st->stats.commit_seconds_sum += secs;
    st->stats.last_batch_writes = writes;
    st->stats.total_writes += writes;
    for (int i = 0; i < 11; i++)
        if (secs <= 100e-6 * (double)(1 << i)) st->stats.commit_hist[i]++;
    if (secs > 100e-6 * 1024) st->stats.commit_hist[11]++;
}

/* Commits the batch, growing the map when the commit itself needs pages. */
static sb_status commit(sb_store *st)
{
    size_t writes = st->journal.n;
    for (;;) {
        double t0 = now_s();
        int rc = mdb_txn_commit(st->wtxn);
        double secs = now_s() - t0;
        st->wtxn = NULL; /* freed by LMDB, committed or not */
        if (rc == MDB_SUCCESS) {
            count_commit(st, secs, writes);
            st->log_committed = st->log_next;
            return SB_OK;
        }
        if (rc == MDB_MAP_FULL) rc = grow_and_replay(st);
        if (rc != MDB_SUCCESS) {
            fail_batch(st, rc);
            return st->failed;
        }
    }
}

static sb_status flush_once(sb_store *st)
{
    sb_wait_list *run = &st->waits[st->cur_wait];
    st->cur_wait ^= 1; /* callbacks registered from now on wait for the next */
    sb_status status = SB_OK;
    if (st->failed == SB_OK && st->wtxn) {
        if (st->journal.n > 0) {
            status = commit(st);
        } else { /* only deletes of absent keys: nothing to write */
            mdb_txn_abort(st->wtxn);
            st->wtxn = NULL;
        }
    }
    if (st->failed != SB_OK) {
        status = st->failed;
        st->failed = SB_OK;
    }
    journal_clear(st);
    for (size_t i = 0; i < run->n; i++) run->v[i].cb(run->v[i].ud, status);
    run->n = 0;
    return status;
}

sb_status sb_store_flush(sb_store *st)
{
    if (st->in_flush || st->scan_depth || st->closing) return SB_ERR_STATE;
    st->in_flush = true;
    sb_status first = flush_once(st);
    for (int round = 1; round < FLUSH_ROUNDS && sb_store_pending(st); round++)
        flush_once(st);
    st->in_flush = false;
    return first;
}

void sb_store_batch_cancel(sb_store *st, sb_status why)
{
    st->closing = true; /* callbacks below cannot start another batch */
    if (st->wtxn) {
        mdb_txn_abort(st->wtxn);
        st->wtxn = NULL;
    }
    if (st->journal.n) sb_warn("store", "%zu writes dropped at close", st->journal.n);
    journal_clear(st);
    st->failed = SB_OK;
    st->log_next = st->log_committed;
    for (unsigned k = 0; k < 2; k++) {
        sb_wait_list *l = &st->waits[st->cur_wait];
        st->cur_wait ^= 1;
        for (size_t i = 0; i < l->n; i++) l->v[i].cb(l->v[i].ud, why);
        l->n = 0;
    }
}

void sb_store_batch_free(sb_store *st)
{
    free(st->journal.ops);
    free(st->journal.data);
    free(st->waits[0].v);
    free(st->waits[1].v);
}
