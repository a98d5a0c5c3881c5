/* Shared between the store's own files only (store.c, store_batch.c,
 * store_read.c, store_log.c, store_dedup.c); nothing outside core/store
 * includes this. */
#ifndef SB_STORE_INTERNAL_H
#define SB_STORE_INTERNAL_H

#include <lmdb.h>

#include "store/store.h"

/* The store's own tables sit after the user's in st->dbi:
 * st->dbi[st->n_user + SB_TBL_EVENTS] ... */
enum { SB_TBL_EVENTS, SB_TBL_DEDUP, SB_TBL_DEDUP_EXP, SB_TBL_OWN };

/* One write of the batch, kept so a MDB_MAP_FULL can be replayed into a
 * bigger map. Key and value live in journal.data at the offsets. */
typedef struct sb_journal_op {
    size_t idx;            /* index into st->dbi */
    unsigned flags;        /* mdb_put flags */
    bool del;
    size_t koff, klen, voff, vlen;
} sb_journal_op;

typedef struct sb_commit_wait {
    sb_commit_cb cb;
    void *ud;
} sb_commit_wait;

typedef struct sb_wait_list {
    sb_commit_wait *v;
    size_t n, cap;
} sb_wait_list;

struct sb_store {
    MDB_env *env;
    MDB_dbi *dbi;            /* n_user + SB_TBL_OWN handles */
    size_t n_user;
    size_t max_key;          /* LMDB's key limit (511) */
    int lock_fd;             /* holds the flock while open */

    MDB_txn *wtxn;           /* the pending batch; NULL between batches */
    MDB_txn *rtxn;           /* reused read txn, reset while no read runs */
    unsigned read_depth;     /* reads running on rtxn (nested via scan cbs) */
    unsigned scan_depth;     /* scan callbacks running: writes refused */
    bool in_flush;
    bool closing;            /* close is cancelling: no new batch */
    bool broken;             /* a remap failed: the map is gone, all fails */
    sb_status failed;        /* SB_OK, or why the current batch failed */

    struct {
        sb_journal_op *ops;
        size_t n, cap;
        unsigned char *data;
        size_t len, dcap;
    } journal;
    sb_wait_list waits[2];   /* [cur] collects; flush runs the other */
    unsigned cur_wait;

    uint64_t log_next;       /* seq the next append gets */
    uint64_t log_committed;  /* log_next as of the last commit */
    uint64_t map_size, max_map_size;
    sb_store_stats stats;
};

/* A write into st->dbi[idx] joining the batch (journal, MAP_FULL growth,
 * batch failure). Key length is the caller's to check. */
sb_status sb_store_write(sb_store *st, size_t idx, bool del, unsigned flags,
                         const void *key, size_t klen, const void *val,
                         size_t vlen);
/* Aborts the pending batch; its callbacks get `why`, and from then on
 * writes and on_commit return SB_ERR_CANCELLED (close only). */
void sb_store_batch_cancel(sb_store *st, sb_status why);
void sb_store_batch_free(sb_store *st);

/* The txn to read in: the batch's, else the reused read txn (renewed).
 * Pair with sb_store_read_end(st, txn). */
sb_status sb_store_read_begin(sb_store *st, MDB_txn **txn);
void sb_store_read_end(sb_store *st, MDB_txn *txn);
/* sb_store_scan over st->dbi[idx]. */
long sb_store_range(sb_store *st, size_t idx, const void *from, size_t flen,
                    const void *to, size_t tlen, bool reverse, size_t limit,
                    sb_scan_cb cb, void *ud);

/* Recovers the next sequence number from the last key of the log. */
sb_status sb_store_log_open(sb_store *st, MDB_txn *txn);

#endif
