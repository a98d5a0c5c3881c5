/* Storage: one LMDB environment with named tables, group commit, a durable
 * event log and a dedup table. Knows nothing of conversations or sockets.
 *
 * Thread: every function here is for the loop thread only (the one writer),
 * except where noted.
 *
 * Group commit. The first write after a flush opens a write transaction;
 * every write until the next sb_store_flush() joins it. Reads see the
 * pending writes. sb_store_flush() commits (fsync) and then runs, in order,
 * every callback registered with sb_store_on_commit() for that batch. The
 * daemon calls it once per loop iteration (ev_prepare), so everything
 * written in one iteration costs one fsync, and nothing is acknowledged
 * before its commit.
 *
 * MDB_MAP_FULL never crashes and never loses a batch: the store keeps a
 * journal of the batch's writes, aborts, doubles the map (up to
 * max_map_size), replays and goes on. Only when the map cannot grow does the
 * batch fail: every write call of it returns SB_ERR_FULL from then on and
 * every on_commit callback gets SB_ERR_FULL. A full disk fails the batch
 * the same way at its commit (SB_ERR_FULL for ENOSPC/EDQUOT/EFBIG; LMDB
 * reports a short write as EIO, so SB_ERR_IO too), any other LMDB error
 * with SB_ERR_IO; each is logged and the store stays usable. The writes of
 * a failed batch are gone (none of them committed); the next write after
 * the flush that reports the failure starts a fresh batch.
 *
 * Keys are 1..511 bytes (LMDB's limit; SB_ERR_INVALID otherwise). Values may
 * be empty.
 *
 * Re-entrancy. Scan and log-read callbacks may read (get, nested scans) but
 * not write: writes, dedup and flush return SB_ERR_STATE while one runs;
 * collect keys and write after the scan. Commit callbacks may write, read
 * and register callbacks, but must not call sb_store_flush (SB_ERR_STATE)
 * or sb_store_close.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h> /* sb_status */

typedef struct sb_store sb_store;

/* A table handle: an index into the names given to sb_store_open. */
typedef unsigned sb_table;

typedef struct sb_store_options {
    const char *path;          /* directory, created if missing (last
                                  component only) */
    uint64_t map_size;         /* initial map size, bytes; 0 = 64 MiB */
    uint64_t max_map_size;     /* growth stops here; 0 = 16 GiB; raised to
                                  map_size when smaller */
    const char *const *tables; /* names of the tables; sb_table = index.
                                  Names starting with '_' are reserved. */
    size_t n_tables;           /* at most 1024 */
    bool no_sync;              /* tests/benchmarks only: skip fsync */
} sb_store_options;

/* Opens (creating) the environment and every table. Fails with a clear
 * message in err (may be NULL) and:
 *   SB_ERR_IO    "storage.path P: not writable: Permission denied",
 *                "storage.path P: cannot create directory: <reason>",
 *                "storage.path P: cannot open database: <reason>";
 *   SB_ERR_STATE "storage.path P: locked by another running switchboard
 *                (pid N)" -- an exclusive flock on <path>/switchboard.lock,
 *                held (with our pid written in it) until sb_store_close.
 *                flock is per open file: a second open of the same path in
 *                the same process fails the same way;
 *   SB_ERR_INVALID bad options (no path, a reserved or empty table name).
 * The event log ("_events") and dedup ("_dedup", "_dedup_exp") tables are
 * always added. Reader slots left by a killed process are cleared. */
sb_status sb_store_open(sb_store **out, const sb_store_options *opt, char *err,
                        size_t errlen);
/* Flushes the pending batch (and what its callbacks write, bounded rounds),
 * then closes. A batch still pending after that is aborted and its
 * callbacks get SB_ERR_CANCELLED. st may be NULL. */
void sb_store_close(sb_store *st);

/* ---- writes (join the current batch) ---------------------------------- */
/* SB_OK, SB_ERR_INVALID (table, key), SB_ERR_NOMEM (the journal could not
 * copy the write; the batch is unchanged), SB_ERR_STATE (inside a scan
 * callback), or the failure status of a failed batch. */
sb_status sb_store_put(sb_store *st, sb_table t, const void *key, size_t klen,
                       const void *val, size_t vlen);
/* As put; SB_ERR_NOT_FOUND when the key is absent (the batch is unchanged). */
sb_status sb_store_del(sb_store *st, sb_table t, const void *key, size_t klen);
/* cb(ud, status) runs after the batch holding every write made so far
 * commits (SB_OK) or fails. If nothing is pending it still runs at the next
 * flush. SB_ERR_NOMEM when it cannot be registered (it will not run). */
typedef void (*sb_commit_cb)(void *ud, sb_status status);
sb_status sb_store_on_commit(sb_store *st, sb_commit_cb cb, void *ud);
/* Commits the batch and runs its callbacks. Callbacks may write; those
 * writes form the next batch, which flush also commits (up to 4 rounds;
 * what remains waits for the next flush) before returning. Returns the
 * status of the first batch; SB_ERR_STATE when called from a callback. */
sb_status sb_store_flush(sb_store *st);
/* Something waits for the next flush: writes, callbacks, or the report of a
 * failed batch. */
bool sb_store_pending(const sb_store *st);

/* ---- reads -------------------------------------------------------------
 * Read inside the pending batch when there is one, else in a short,
 * reused read transaction. Values are COPIED into caller memory. */
/* Into buf (cap); *vlen = size. SB_ERR_TOO_BIG when cap is too small (with
 * *vlen set, nothing copied), SB_ERR_NOT_FOUND when absent. */
sb_status sb_store_get(sb_store *st, sb_table t, const void *key, size_t klen,
                       void *buf, size_t cap, size_t *vlen);
/* Malloc'ed copy (caller frees; an empty value is a 1-byte allocation with
 * *vlen 0), NULL + SB_ERR_NOT_FOUND when absent. */
sb_status sb_store_get_alloc(sb_store *st, sb_table t, const void *key,
                             size_t klen, void **val, size_t *vlen);

/* Range scan over keys in [from, to) (from NULL or flen 0 = from the start,
 * to NULL or tlen 0 = to the end of the table), ascending, or descending
 * from `to` (exclusive) down to `from` (inclusive) when reverse. Keys sort
 * bytewise (memcmp, then shorter first). cb gets BORROWED key/value, valid
 * during the call only; returning non-zero stops (that item counts as
 * visited). At most `limit` items (0 = no limit). Returns the number of
 * items visited, or a negative sb_status. */
typedef int (*sb_scan_cb)(void *ud, const void *key, size_t klen,
                          const void *val, size_t vlen);
long sb_store_scan(sb_store *st, sb_table t, const void *from, size_t flen,
                   const void *to, size_t tlen, bool reverse, size_t limit,
                   sb_scan_cb cb, void *ud);

/* ---- the durable event log (append-only, MDB_APPEND) -------------------- */
/* Appends a record; returns its sequence number (1, 2, 3, ... never reused,
 * monotonic across restarts) in *seq. Joins the current batch. The numbers
 * of a failed batch are handed out again. */
sb_status sb_store_log_append(sb_store *st, const void *rec, size_t len,
                              uint64_t *seq);
/* Visits records with seq >= from, in order, at most `limit` (0 = no
 * limit); pending records included. cb gets the record BORROWED; non-zero
 * stops. Returns the count visited or a negative sb_status. */
typedef int (*sb_log_cb)(void *ud, uint64_t seq, const void *rec, size_t len);
long sb_store_log_read(sb_store *st, uint64_t from, size_t limit,
                       sb_log_cb cb, void *ud);
/* Highest committed-or-pending sequence number, 0 when empty. */
uint64_t sb_store_log_last(sb_store *st);

/* ---- dedup keys with expiry --------------------------------------------- */
/* A key is live while now_ms < its expires_at_ms; expired keys behave as
 * absent. Looks `key` (1..503 bytes) up; when live, copies its value (the id
 * stored with it) into out, up to cap bytes, sets *out_len (may be NULL) to
 * the stored length and returns SB_ERR_EXISTS. Otherwise stores (key -> val,
 * expires_at_ms) in the current batch and returns SB_OK (or a write error,
 * as put). */
sb_status sb_store_dedup(sb_store *st, const void *key, size_t klen,
                         const void *val, size_t vlen, int64_t expires_at_ms,
                         int64_t now_ms, void *out, size_t cap, size_t *out_len);
/* Deletes up to `max` expired dedup keys, in expiry order, through the
 * expiry index (a range read, never a scan of live keys). Joins the batch.
 * Returns how many, or a negative sb_status. */
long sb_store_dedup_expire(sb_store *st, int64_t now_ms, size_t max);

/* ---- stats, for /metrics -------------------------------------------------- */
typedef struct sb_store_stats {
    uint64_t commits;          /* batches committed */
    uint64_t commit_failures;  /* batches failed */
    uint64_t last_batch_writes;/* writes (put, del, log, dedup rows) of the
                                  last committed batch */
    uint64_t total_writes;     /* over every committed batch */
    double commit_seconds_sum; /* time in mdb_txn_commit */
    /* Cumulative, as Prometheus `le` buckets: commit_hist[i] (i < 11) counts
     * commits with latency <= 2^i * 100us (100us .. 102.4ms);
     * commit_hist[11] counts the slower ones (so +Inf = commits). */
    uint64_t commit_hist[12];
    uint64_t map_size;         /* current */
    uint64_t map_grows;
} sb_store_stats;
void sb_store_get_stats(const sb_store *st, sb_store_stats *out);

/* ---- keys and ids ------------------------------------------------------- */
/* Big-endian composite keys, so that LMDB's byte order is numeric order. */
static inline void sb_key_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)(v & 0xff); v >>= 8; }
}
static inline uint64_t sb_key_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
static inline void sb_key_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--) { p[i] = (unsigned char)(v & 0xff); v >>= 8; }
}
static inline uint32_t sb_key_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | p[i];
    return v;
}

/* 64-bit ids unique across nodes without coordination: 41 bits of
 * milliseconds since 2024-01-01T00:00:00Z, 10 bits of node id, 12 bits of
 * counter (bit 63 is always 0, so ids fit int64 too). When 4096 ids are
 * taken within one millisecond the id moves to the next millisecond;
 * monotonic within a process even if the clock steps back. Loop thread. */
/* node_id 0..1023; SB_ERR_INVALID (node unchanged) otherwise. Without a
 * call the node is 0. */
sb_status sb_id_init(unsigned node_id);
uint64_t sb_id_next(void);
/* Decimal text; buf >= 21 bytes. Returns buf. */
char *sb_id_str(uint64_t id, char *buf);
/* Parses decimal text (digits only, no sign or spaces, fits 64 bits);
 * 0 on error. */
uint64_t sb_id_parse(const char *s);

#endif
