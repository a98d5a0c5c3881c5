/* The durable event log: table "_events", key = big-endian u64 seq, so
 * appends go at the end (MDB_APPEND) and reads are range reads. */
#include "store/store_internal.h"

#include "util/log.h"

#define EVENTS (st->n_user + SB_TBL_EVENTS)

sb_status sb_store_log_open(sb_store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->dbi[EVENTS], &cur);
    if (rc != MDB_SUCCESS) return SB_ERR_IO;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        st->log_next = 1;
    } else if (rc != MDB_SUCCESS || k.mv_size != 8) {
        sb_error("store", "event log: cannot read its last key: %s",
                 rc ? mdb_strerror(rc) : "not 8 bytes");
        return SB_ERR_IO;
    } else {
        st->log_next = sb_key_get_u64(k.mv_data) + 1;
    }
    st->log_committed = st->log_next;
    return SB_OK;
}

sb_status sb_store_log_append(sb_store *st, const void *rec, size_t len,
                              uint64_t *seq)
{
    if (!rec && len) return SB_ERR_INVALID;
    unsigned char k[8];
    sb_key_put_u64(k, st->log_next);
    sb_status s = sb_store_write(st, EVENTS, false, MDB_APPEND, k, 8, rec, len);
    if (s != SB_OK) return s;
    if (seq) *seq = st->log_next;
    st->log_next++;
    return SB_OK;
}

typedef struct log_visit {
    sb_log_cb cb;
    void *ud;
} log_visit;

static int visit(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    const log_visit *lv = ud;
    if (klen != 8) return 0; /* only log_append writes here */
    return lv->cb(lv->ud, sb_key_get_u64(key), val, vlen);
}

long sb_store_log_read(sb_store *st, uint64_t from, size_t limit,
                       sb_log_cb cb, void *ud)
{
    if (!cb) return SB_ERR_INVALID;
    unsigned char k[8];
    sb_key_put_u64(k, from);
    log_visit lv = {cb, ud};
    return sb_store_range(st, EVENTS, k, 8, NULL, 0, false, limit, visit, &lv);
}

uint64_t sb_store_log_last(sb_store *st) { return st->log_next - 1; }
