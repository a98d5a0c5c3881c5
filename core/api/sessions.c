#include "api/sessions.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "store/record.h"

enum { T_SESSIONS, T_EXP };
static const char *const k_tables[] = {"sessions", "session_exp"};

const char *const *sb_sessions_table_names(size_t *n)
{
    *n = 2;
    return k_tables;
}

static void token_key(const char *token, unsigned char key[32])
{
    mbedtls_sha256_ret((const unsigned char *)token, strlen(token), key, 0);
}

/* session_exp key: expires_at (BE) || sha256(token), so expiry is a range. */
static void exp_key(int64_t at, const unsigned char hash[32], unsigned char out[40])
{
    sb_key_put_u64(out, (uint64_t)at);
    memcpy(out + 8, hash, 32);
}

sb_status sb_session_create(sb_store *st, sb_table first, const sb_session *s,
                            char token[SB_SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[32], key[32], ek[40];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) return SB_ERR_IO;
    for (int i = 0; i < 32; i++) sprintf(token + 2 * i, "%02x", raw[i]);
    token_key(token, key);
    sb_rec_writer w;
    sb_rec_writer_init(&w);
    sb_rec_begin(&w, 1, 4);
    sb_rec_str(&w, s->user_id);
    sb_rec_str(&w, s->login);
    sb_rec_str(&w, s->role);
    sb_rec_i64(&w, s->expires_at_ms);
    const void *data;
    size_t len;
    sb_status rc = sb_rec_end(&w, &data, &len);
    if (rc == SB_OK) rc = sb_store_put(st, first + T_SESSIONS, key, sizeof key, data, len);
    exp_key(s->expires_at_ms, key, ek);
    if (rc == SB_OK) rc = sb_store_put(st, first + T_EXP, ek, sizeof ek, "", 0);
    sb_rec_writer_free(&w);
    return rc;
}

/* Record strings are not NUL-terminated. */
static void copy_field(sb_rec_reader *r, char *dst, size_t cap)
{
    size_t len = 0;
    const char *s = sb_rec_next_str(r, &len);
    if (len >= cap) len = cap - 1;
    if (s) memcpy(dst, s, len);
    dst[s ? len : 0] = 0;
}

static sb_status load(sb_store *st, sb_table first, const unsigned char key[32], sb_session *out)
{
    unsigned char buf[512];
    size_t len;
    sb_status rc = sb_store_get(st, first + T_SESSIONS, key, 32, buf, sizeof buf, &len);
    if (rc != SB_OK) return rc == SB_ERR_TOO_BIG ? SB_ERR_IO : rc;
    sb_rec_reader r;
    if (sb_rec_open(&r, buf, len) != SB_OK) return SB_ERR_IO;
    memset(out, 0, sizeof *out);
    copy_field(&r, out->user_id, sizeof out->user_id);
    copy_field(&r, out->login, sizeof out->login);
    copy_field(&r, out->role, sizeof out->role);
    out->expires_at_ms = sb_rec_next_i64(&r, 0);
    return sb_rec_close(&r) == SB_OK ? SB_OK : SB_ERR_IO;
}

static void drop(sb_store *st, sb_table first, const unsigned char key[32], int64_t expires)
{
    unsigned char ek[40];
    exp_key(expires, key, ek);
    sb_store_del(st, first + T_SESSIONS, key, 32);
    sb_store_del(st, first + T_EXP, ek, sizeof ek);
}

sb_status sb_session_find(sb_store *st, sb_table first, const char *token, int64_t now_ms,
                          sb_session *out)
{
    if (!token || strlen(token) != SB_SESSION_TOKEN_LEN) return SB_ERR_NOT_FOUND;
    unsigned char key[32];
    token_key(token, key);
    sb_status rc = load(st, first, key, out);
    if (rc != SB_OK) return rc;
    if (out->expires_at_ms > now_ms) return SB_OK;
    drop(st, first, key, out->expires_at_ms);
    return SB_ERR_NOT_FOUND;
}

sb_status sb_session_delete(sb_store *st, sb_table first, const char *token)
{
    sb_session s;
    unsigned char key[32];
    if (!token || strlen(token) != SB_SESSION_TOKEN_LEN) return SB_ERR_NOT_FOUND;
    token_key(token, key);
    sb_status rc = load(st, first, key, &s);
    if (rc == SB_OK) drop(st, first, key, s.expires_at_ms);
    return rc;
}

typedef struct {
    unsigned char keys[256][40];
    size_t n;
} expired;

static int collect(void *ud, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)v; (void)vl;
    expired *e = ud;
    if (kl != 40) return 0;
    memcpy(e->keys[e->n++], k, 40);
    return e->n == 256;
}

long sb_sessions_expire(sb_store *st, sb_table first, int64_t now_ms, size_t max)
{
    /* Collect first: a scan callback may not write. */
    expired e;
    unsigned char to[8];
    sb_key_put_u64(to, (uint64_t)now_ms);
    e.n = 0;
    long rc = sb_store_scan(st, first + T_EXP, NULL, 0, to, sizeof to, false,
                            max < 256 ? max : 256, collect, &e);
    if (rc < 0) return rc;
    for (size_t i = 0; i < e.n; i++) {
        sb_store_del(st, first + T_SESSIONS, e.keys[i] + 8, 32);
        sb_store_del(st, first + T_EXP, e.keys[i], 40);
    }
    return (long)e.n;
}
