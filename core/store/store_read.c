/* Reads: in the pending batch when there is one, else in one read
 * transaction that is reset after every read and renewed for the next, so
 * no snapshot outlives a call and pins old pages. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

sb_status sb_store_read_begin(sb_store *st, MDB_txn **txn)
{
    if (st->broken) return SB_ERR_IO;
    if (st->wtxn) {
        *txn = st->wtxn;
        return SB_OK;
    }
    if (st->read_depth == 0) {
        int rc = st->rtxn ? mdb_txn_renew(st->rtxn) : MDB_BAD_TXN;
        if (rc != MDB_SUCCESS) {
            if (st->rtxn) mdb_txn_abort(st->rtxn);
            st->rtxn = NULL;
            rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
            if (rc != MDB_SUCCESS) {
                st->rtxn = NULL;
                sb_error("store", "cannot begin a read transaction: %s", mdb_strerror(rc));
                return SB_ERR_IO;
            }
        }
    }
    st->read_depth++;
    *txn = st->rtxn;
    return SB_OK;
}

void sb_store_read_end(sb_store *st, MDB_txn *txn)
{
    if (txn != st->rtxn || st->read_depth == 0) return;
    if (--st->read_depth == 0) mdb_txn_reset(st->rtxn);
}

static bool table_key_ok(const sb_store *st, sb_table t, const void *key, size_t klen)
{
    return t < st->n_user && key && klen > 0 && klen <= st->max_key;
}

/* One key's value inside txn (valid until the read ends). */
static sb_status get_in(sb_store *st, MDB_txn *txn, sb_table t, const void *key, size_t klen,
                        MDB_val *v)
{
    MDB_val k = {klen, (void *)key};
    int rc = mdb_get(txn, st->dbi[t], &k, v);
    if (rc == MDB_NOTFOUND) return SB_ERR_NOT_FOUND;
    if (rc != MDB_SUCCESS) {
        sb_error("store", "get: %s", mdb_strerror(rc));
        return SB_ERR_IO;
    }
    return SB_OK;
}

sb_status sb_store_get(sb_store *st, sb_table t, const void *key, size_t klen,
                       void *buf, size_t cap, size_t *vlen)
{
    *vlen = 0;
    if (!table_key_ok(st, t, key, klen) || (!buf && cap)) return SB_ERR_INVALID;
    MDB_txn *txn;
    MDB_val v;
    sb_status s = sb_store_read_begin(st, &txn);
    if (s != SB_OK) return s;
    if ((s = get_in(st, txn, t, key, klen, &v)) == SB_OK) {
        *vlen = v.mv_size;
        if (v.mv_size > cap) s = SB_ERR_TOO_BIG;
        else if (v.mv_size) memcpy(buf, v.mv_data, v.mv_size);
    }
    sb_store_read_end(st, txn);
    return s;
}

sb_status sb_store_get_alloc(sb_store *st, sb_table t, const void *key,
                             size_t klen, void **val, size_t *vlen)
{
    *val = NULL;
    *vlen = 0;
    if (!table_key_ok(st, t, key, klen)) return SB_ERR_INVALID;
    MDB_txn *txn;
    MDB_val v;
    sb_status s = sb_store_read_begin(st, &txn);
    if (s != SB_OK) return s;
    s = get_in(st, txn, t, key, klen, &v);
    if (s == SB_OK && !(*val = malloc(v.mv_size ? v.mv_size : 1))) {
        s = SB_ERR_NOMEM;
    } else if (s == SB_OK) {
        if (v.mv_size) memcpy(*val, v.mv_data, v.mv_size);
        *vlen = v.mv_size;
    }
    sb_store_read_end(st, txn);
    return s;
}

/* Positions cur on the first item of the range; an MDB code. */
static int range_start(MDB_cursor *cur, MDB_val *k, MDB_val *v, bool reverse,
                       const MDB_val *from, const MDB_val *to)
{
    int rc;
    if (!reverse) {
        if (!from) return mdb_cursor_get(cur, k, v, MDB_FIRST);
        *k = *from;
        return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    }
    if (!to) return mdb_cursor_get(cur, k, v, MDB_LAST);
    *k = *to;
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE); /* first key >= to */
    if (rc == MDB_SUCCESS) return mdb_cursor_get(cur, k, v, MDB_PREV);
    if (rc == MDB_NOTFOUND) return mdb_cursor_get(cur, k, v, MDB_LAST);
    return rc;
}

long sb_store_range(sb_store *st, size_t idx, const void *from, size_t flen,
                    const void *to, size_t tlen, bool reverse, size_t limit,
                    sb_scan_cb cb, void *ud)
{
    if (!cb || (from && flen > st->max_key) || (to && tlen > st->max_key))
        return SB_ERR_INVALID;
    MDB_val fk = {flen, (void *)from}, tk = {tlen, (void *)to};
    const MDB_val *fp = from && flen ? &fk : NULL, *tp = to && tlen ? &tk : NULL;
    MDB_txn *txn;
    sb_status s = sb_store_read_begin(st, &txn);
    if (s != SB_OK) return s;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[idx], &cur);
    long count = 0;
    if (rc == MDB_SUCCESS) {
        MDB_val k, v;
        st->scan_depth++;
        rc = range_start(cur, &k, &v, reverse, fp, tp);
        while (rc == MDB_SUCCESS) {
            if (!reverse && tp && mdb_cmp(txn, st->dbi[idx], &k, tp) >= 0) break;
            if (reverse && fp && mdb_cmp(txn, st->dbi[idx], &k, fp) < 0) break;
            count++;
            if (cb(ud, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0) break;
            if (limit && (size_t)count >= limit) break;
            rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT);
        }
        st->scan_depth--;
        mdb_cursor_close(cur);
    }
    sb_store_read_end(st, txn);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        sb_error("store", "scan: %s", mdb_strerror(rc));
        return SB_ERR_IO;
    }
    return count;
}

long sb_store_scan(sb_store *st, sb_table t, const void *from, size_t flen,
                   const void *to, size_t tlen, bool reverse, size_t limit,
                   sb_scan_cb cb, void *ud)
{
    if (t >= st->n_user) return SB_ERR_INVALID;
    return sb_store_range(st, t, from, flen, to, tlen, reverse, limit, cb, ud);
}
