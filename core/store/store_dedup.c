/* Dedup keys with expiry. "_dedup": key -> record [1, expires_at_ms, value].
 * "_dedup_exp": (expires_at as order-preserving big-endian || key) -> "",
 * so expiry is a range read from the start of the index. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "store/record.h"
#include "util/log.h"

#define DEDUP (st->n_user + SB_TBL_DEDUP)
#define DEDUP_EXP (st->n_user + SB_TBL_DEDUP_EXP)

enum { DEDUP_VERSION = 1, EXPIRE_CHUNK = 64 };

/* Flipping the sign bit makes the unsigned big-endian order the signed one. */
static void exp_put(unsigned char *p, int64_t t)
{
    sb_key_put_u64(p, (uint64_t)t ^ (UINT64_C(1) << 63));
}

static int64_t exp_get(const unsigned char *p)
{
    uint64_t u = sb_key_get_u64(p) ^ (UINT64_C(1) << 63);
    int64_t t;
    memcpy(&t, &u, sizeof t);
    return t;
}

/* Decodes a stored entry; false for a record that does not decode. */
static bool entry_decode(const MDB_val *v, int64_t *exp, const void **val, size_t *vlen)
{
    sb_rec_reader r;
    if (sb_rec_open(&r, v->mv_data, v->mv_size) != SB_OK) return false;
    *exp = sb_rec_next_i64(&r, 0);
    *val = sb_rec_next_bin(&r, vlen); /* borrowed from v, not from r */
    return sb_rec_close(&r) == SB_OK;
}

/* Looks key up in DEDUP: SB_OK with *exp when present and readable (and,
 * when live at now, its value copied into out), SB_ERR_NOT_FOUND otherwise. */
static sb_status entry_get(sb_store *st, const void *key, size_t klen, int64_t now,
                           int64_t *exp, void *out, size_t cap, size_t *out_len)
{
    MDB_txn *txn;
    sb_status s = sb_store_read_begin(st, &txn);
    if (s != SB_OK) return s;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, st->dbi[DEDUP], &k, &v);
    const void *val;
    size_t vlen;
    if (rc == MDB_NOTFOUND) {
        s = SB_ERR_NOT_FOUND;
    } else if (rc != MDB_SUCCESS) {
        sb_error("store", "dedup: %s", mdb_strerror(rc));
        s = SB_ERR_IO;
    } else if (!entry_decode(&v, exp, &val, &vlen)) {
        /* Unreadable: treated as absent, so the next write replaces it. */
        sb_warn("store", "dedup: an undecodable entry is replaced");
        s = SB_ERR_NOT_FOUND;
    } else if (now < *exp) {
        if (out_len) *out_len = vlen;
        if (cap && vlen) memcpy(out, val, vlen < cap ? vlen : cap);
    }
    sb_store_read_end(st, txn);
    return s;
}

static sb_status index_del(sb_store *st, int64_t exp, const void *key, size_t klen)
{
    unsigned char ik[8 + 512];
    exp_put(ik, exp);
    memcpy(ik + 8, key, klen);
    sb_status s = sb_store_write(st, DEDUP_EXP, true, 0, ik, 8 + klen, NULL, 0);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

sb_status sb_store_dedup(sb_store *st, const void *key, size_t klen,
                         const void *val, size_t vlen, int64_t expires_at_ms,
                         int64_t now_ms, void *out, size_t cap, size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!key || klen == 0 || klen + 8 > st->max_key || (!val && vlen) || (!out && cap))
        return SB_ERR_INVALID;
    if (st->scan_depth) return SB_ERR_STATE;
    int64_t old_exp = 0;
    sb_status s = entry_get(st, key, klen, now_ms, &old_exp, out, cap, out_len);
    if (s == SB_OK && now_ms < old_exp) return SB_ERR_EXISTS;
    if (s == SB_OK) s = index_del(st, old_exp, key, klen); /* expired one */
    else if (s == SB_ERR_NOT_FOUND) s = SB_OK;
    if (s != SB_OK) return s;

    sb_rec_writer w;
    const void *rec;
    size_t rlen;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, DEDUP_VERSION, 2);
    sb_rec_i64(&w, expires_at_ms);
    sb_rec_bin(&w, val ? val : "", vlen);
    s = sb_rec_end(&w, &rec, &rlen);
    if (s == SB_OK) s = sb_store_write(st, DEDUP, false, 0, key, klen, rec, rlen);
    sb_rec_writer_free(&w);
    if (s != SB_OK) return s;
    unsigned char ik[8 + 512];
    exp_put(ik, expires_at_ms);
    memcpy(ik + 8, key, klen);
    return sb_store_write(st, DEDUP_EXP, false, 0, ik, 8 + klen, "", 0);
}

typedef struct expired {
    int64_t now;
    size_t n;
    size_t klen[EXPIRE_CHUNK];
    unsigned char key[EXPIRE_CHUNK][512];
} expired;

static int collect(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    expired *e = ud;
    if (klen < 8 || klen > sizeof e->key[0] || exp_get(key) > e->now) return 1;
    memcpy(e->key[e->n], key, klen);
    e->klen[e->n++] = klen;
    return 0;
}

long sb_store_dedup_expire(sb_store *st, int64_t now_ms, size_t max)
{
    if (st->scan_depth) return SB_ERR_STATE;
    expired *e = malloc(sizeof *e);
    if (!e) return SB_ERR_NOMEM;
    long done = 0;
    sb_status s = SB_OK;
    while ((size_t)done < max && s == SB_OK) {
        size_t want = max - (size_t)done < EXPIRE_CHUNK ? max - (size_t)done : EXPIRE_CHUNK;
        e->now = now_ms;
        e->n = 0;
        /* Index keys are (expiry || key): the expired ones come first. */
        long got = sb_store_range(st, DEDUP_EXP, NULL, 0, NULL, 0, false, want, collect, e);
        if (got < 0) { s = (sb_status)got; break; }
        for (size_t i = 0; i < e->n && s == SB_OK; i++) {
            const unsigned char *ik = e->key[i];
            size_t klen = e->klen[i] - 8;
            int64_t exp;
            s = sb_store_write(st, DEDUP_EXP, true, 0, ik, e->klen[i], NULL, 0);
            if (s != SB_OK) break;
            /* Delete the entry only if it is this incarnation (always so
             * while dedup keeps the index in step; cheap to be sure). */
            sb_status g = entry_get(st, ik + 8, klen, now_ms, &exp, NULL, 0, NULL);
            if (g == SB_OK && exp == exp_get(ik))
                s = sb_store_write(st, DEDUP, true, 0, ik + 8, klen, NULL, 0);
            else if (g != SB_OK && g != SB_ERR_NOT_FOUND)
                s = g;
            if (s == SB_OK) done++;
        }
        if (e->n < want) break;
    }
    free(e);
    return s == SB_OK ? done : s;
}
