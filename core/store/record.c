#include "store/record.h"

#include <string.h>

/* ---- writer ------------------------------------------------------------- */

void sb_rec_writer_init(sb_rec_writer *w)
{
    msgpack_sbuffer_init(&w->buf);
    msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
    w->declared = w->written = 0;
    w->err = SB_OK;
}

void sb_rec_writer_reset(sb_rec_writer *w)
{
    msgpack_sbuffer_clear(&w->buf);
    w->declared = w->written = 0;
    w->err = SB_OK;
}

void sb_rec_writer_free(sb_rec_writer *w)
{
    msgpack_sbuffer_destroy(&w->buf);
    msgpack_sbuffer_init(&w->buf);
    w->declared = w->written = 0;
}

static void check(sb_rec_writer *w, int rc)
{
    /* msgpack_sbuffer_write fails only when realloc does. */
    if (rc != 0 && w->err == SB_OK) w->err = SB_ERR_NOMEM;
}

void sb_rec_begin(sb_rec_writer *w, uint32_t version, uint32_t n_fields)
{
    sb_rec_writer_reset(w);
    if (version == 0 || n_fields == UINT32_MAX) { w->err = SB_ERR_INVALID; return; }
    w->declared = n_fields;
    check(w, msgpack_pack_array(&w->pk, (size_t)n_fields + 1));
    check(w, msgpack_pack_uint64(&w->pk, version));
}

/* Counts one field; false when nothing should be packed any more. */
static bool field(sb_rec_writer *w)
{
    if (w->err != SB_OK) return false;
    if (w->written >= w->declared) { w->err = SB_ERR_STATE; return false; }
    w->written++;
    return true;
}

static void pack_str(sb_rec_writer *w, const char *s, size_t len)
{
    if (!s) { check(w, msgpack_pack_nil(&w->pk)); return; }
    if (len > UINT32_MAX) { w->err = SB_ERR_TOO_BIG; return; }
    check(w, msgpack_pack_str(&w->pk, len));
    check(w, msgpack_pack_str_body(&w->pk, s, len));
}

void sb_rec_nil(sb_rec_writer *w)
{
    if (field(w)) check(w, msgpack_pack_nil(&w->pk));
}

void sb_rec_str(sb_rec_writer *w, const char *s)
{
    if (field(w)) pack_str(w, s, s ? strlen(s) : 0);
}

void sb_rec_strn(sb_rec_writer *w, const char *s, size_t len)
{
    if (field(w)) pack_str(w, s, len);
}

void sb_rec_u64(sb_rec_writer *w, uint64_t v)
{
    if (field(w)) check(w, msgpack_pack_uint64(&w->pk, v));
}

void sb_rec_i64(sb_rec_writer *w, int64_t v)
{
    if (field(w)) check(w, msgpack_pack_int64(&w->pk, v));
}

void sb_rec_bool(sb_rec_writer *w, bool v)
{
    if (field(w)) check(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void sb_rec_double(sb_rec_writer *w, double v)
{
    if (field(w)) check(w, msgpack_pack_double(&w->pk, v));
}

void sb_rec_bin(sb_rec_writer *w, const void *p, size_t len)
{
    if (!field(w)) return;
    if (!p) { check(w, msgpack_pack_nil(&w->pk)); return; }
    if (len > UINT32_MAX) { w->err = SB_ERR_TOO_BIG; return; }
    check(w, msgpack_pack_bin(&w->pk, len));
    check(w, msgpack_pack_bin_body(&w->pk, p, len));
}

void sb_rec_str_array(sb_rec_writer *w, const char *const *items, size_t n)
{
    if (!field(w)) return;
    if (n > UINT32_MAX || (n && !items)) { w->err = SB_ERR_INVALID; return; }
    check(w, msgpack_pack_array(&w->pk, n));
    for (size_t i = 0; i < n; i++)
        pack_str(w, items[i], items[i] ? strlen(items[i]) : 0);
}

void sb_rec_map(sb_rec_writer *w, const char *const *keys,
                const char *const *vals, size_t n)
{
    if (!field(w)) return;
    if (n > UINT32_MAX || (n && (!keys || !vals))) { w->err = SB_ERR_INVALID; return; }
    for (size_t i = 0; i < n; i++)
        if (!keys[i]) { w->err = SB_ERR_INVALID; return; }
    check(w, msgpack_pack_map(&w->pk, n));
    for (size_t i = 0; i < n; i++) {
        pack_str(w, keys[i], strlen(keys[i]));
        pack_str(w, vals[i], vals[i] ? strlen(vals[i]) : 0);
    }
}

sb_status sb_rec_end(sb_rec_writer *w, const void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (w->err != SB_OK) return w->err;
    if (w->buf.size == 0 || w->written != w->declared) return SB_ERR_STATE;
    *data = w->buf.data;
    *len = w->buf.size;
    return SB_OK;
}

/* ---- reader -------------------------------------------------------------
 * A small pull parser over the bytes rather than msgpack_unpack: the
 * unpacker allocates an array's slots before reading them, so five bytes of
 * garbage claiming 2^32 elements would ask for ~100 GB. Here every count is
 * checked against the bytes left before anything is trusted. */

enum kind { K_NIL, K_BOOL, K_UINT, K_INT, K_FLOAT, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT };

typedef struct item {
    enum kind kind;
    uint64_t u;                 /* K_UINT, K_BOOL */
    int64_t i;                  /* K_INT (negative only) */
    double d;                   /* K_FLOAT */
    const unsigned char *ptr;   /* K_STR, K_BIN, K_EXT payload */
    uint32_t len;               /* payload bytes, or K_ARRAY/K_MAP count */
} item;

enum { MAX_DEPTH = 32 };

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++) v = (v << 8) | p[k];
    return v;
}

/* Reads one item's head (and, for str/bin/ext, its payload) at *pp. */
static int head(const unsigned char **pp, const unsigned char *end, item *it)
{
    const unsigned char *p = *pp;
    if (p >= end) return -1;
    unsigned b = *p++;
    size_t avail = (size_t)(end - p);
    int n = 0;          /* width of a length or number that follows */
    memset(it, 0, sizeof *it);

    if (b <= 0x7f) { it->kind = K_UINT; it->u = b; goto done; }
    if (b >= 0xe0) { it->kind = K_INT; it->i = (int64_t)(int8_t)b; goto done; }
    if (b <= 0x8f) { it->kind = K_MAP; it->len = b & 0x0f; goto done; }
    if (b <= 0x9f) { it->kind = K_ARRAY; it->len = b & 0x0f; goto done; }
    if (b <= 0xbf) { it->kind = K_STR; it->len = b & 0x1f; goto payload; }
    switch (b) {
    case 0xc0: it->kind = K_NIL; goto done;
    case 0xc2: case 0xc3: it->kind = K_BOOL; it->u = b == 0xc3; goto done;
    case 0xc4: case 0xc5: case 0xc6:
        it->kind = K_BIN; n = 1 << (b - 0xc4); break;
    case 0xd9: case 0xda: case 0xdb:
        it->kind = K_STR; n = 1 << (b - 0xd9); break;
    case 0xc7: case 0xc8: case 0xc9:
        it->kind = K_EXT; n = 1 << (b - 0xc7); break;
    case 0xdc: case 0xdd: case 0xde: case 0xdf:
        it->kind = b <= 0xdd ? K_ARRAY : K_MAP;
        n = (b == 0xdc || b == 0xde) ? 2 : 4;
        if (avail < (size_t)n) return -1;
        it->len = (uint32_t)be(p, n);
        p += n;
        goto done;
    case 0xca: case 0xcb: {
        n = b == 0xca ? 4 : 8;
        if (avail < (size_t)n) return -1;
        uint64_t bits = be(p, n);
        p += n;
        it->kind = K_FLOAT;
        if (n == 4) { uint32_t b32 = (uint32_t)bits; float f; memcpy(&f, &b32, 4); it->d = f; }
        else memcpy(&it->d, &bits, 8);
        goto done;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        n = 1 << (b - 0xcc);
        if (avail < (size_t)n) return -1;
        it->kind = K_UINT;
        it->u = be(p, n);
        p += n;
        goto done;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        n = 1 << (b - 0xd0);
        if (avail < (size_t)n) return -1;
        uint64_t raw = be(p, n);
        p += n;
        /* Sign-extend from n bytes. */
        if (n < 8 && (raw >> (8 * n - 1)) & 1) raw |= ~UINT64_C(0) << (8 * n);
        int64_t v;
        memcpy(&v, &raw, 8);
        if (v >= 0) { it->kind = K_UINT; it->u = (uint64_t)v; }
        else { it->kind = K_INT; it->i = v; }
        goto done;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        it->kind = K_EXT;
        it->len = (uint32_t)(1u << (b - 0xd4)) + 1; /* type byte + data */
        goto payload;
    default: /* 0xc1: never used */
        return -1;
    }
    /* str/bin/ext with an explicit length of n bytes */
    if (avail < (size_t)n) return -1;
    it->len = (uint32_t)be(p, n);
    p += n;
    if (it->kind == K_EXT) { /* the type byte */
        if (it->len == UINT32_MAX) return -1;
        it->len += 1;
    }
payload:
    if ((size_t)(end - p) < it->len) return -1;
    it->ptr = p;
    p += it->len;
done:
    /* Every element takes at least one byte: a count larger than what is
     * left cannot be honest, and is refused before anyone loops over it. */
    if (it->kind == K_ARRAY && it->len > (size_t)(end - p)) return -1;
    if (it->kind == K_MAP && (uint64_t)it->len * 2 > (size_t)(end - p)) return -1;
    *pp = p;
    return 0;
}

static int skip(const unsigned char **pp, const unsigned char *end, int depth)
{
    item it;
    if (depth > MAX_DEPTH || head(pp, end, &it) != 0) return -1;
    uint64_t n = it.kind == K_ARRAY ? it.len : it.kind == K_MAP ? (uint64_t)it.len * 2 : 0;
    for (uint64_t k = 0; k < n; k++)
        if (skip(pp, end, depth + 1) != 0) return -1;
    return 0;
}

sb_status sb_rec_open(sb_rec_reader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof *r);
    if (!data) return SB_ERR_INVALID;
    const unsigned char *p = data, *end = p + len;
    item top, ver;
    if (head(&p, end, &top) != 0 || top.kind != K_ARRAY || top.len == 0) return SB_ERR_INVALID;
    const unsigned char *fields = p;
    for (uint32_t k = 0; k < top.len; k++)
        if (skip(&p, end, 1) != 0) return SB_ERR_INVALID;
    if (p != end) return SB_ERR_INVALID;
    p = fields;
    if (head(&p, end, &ver) != 0 || ver.kind != K_UINT || ver.u == 0 || ver.u > UINT32_MAX) return SB_ERR_INVALID;
    r->p = p;
    r->end = end;
    r->left = top.len - 1;
    r->version = (uint32_t)ver.u;
    return SB_OK;
}

uint32_t sb_rec_version(const sb_rec_reader *r) { return r->version; }

static void fail(sb_rec_reader *r, sb_status st)
{
    if (r->err == SB_OK) r->err = st;
}

/* Reads the next field's head; false past the last field. */
static bool take(sb_rec_reader *r, item *it, const unsigned char **start)
{
    if (r->left == 0) return false;
    *start = r->p;
    if (head(&r->p, r->end, it) != 0) { /* cannot happen after open */
        r->left = 0;
        fail(r, SB_ERR_INVALID);
        return false;
    }
    r->left--;
    return true;
}

/* A field that cannot be read (wrong type, no memory): step over all of it
 * from its start and remember why. */
static void discard(sb_rec_reader *r, const unsigned char *start, sb_status why)
{
    r->p = start;
    if (skip(&r->p, r->end, 1) != 0) r->left = 0;
    fail(r, why);
}

static void mismatch(sb_rec_reader *r, const unsigned char *start)
{
    discard(r, start, SB_ERR_INVALID);
}

void sb_rec_skip(sb_rec_reader *r)
{
    item it;
    const unsigned char *start;
    if (!take(r, &it, &start)) return;
    r->p = start;
    if (skip(&r->p, r->end, 1) != 0) { r->left = 0; fail(r, SB_ERR_INVALID); }
}

const char *sb_rec_next_str(sb_rec_reader *r, size_t *len)
{
    item it;
    const unsigned char *start;
    *len = 0;
    if (!take(r, &it, &start) || it.kind == K_NIL) return NULL;
    if (it.kind != K_STR) { mismatch(r, start); return NULL; }
    *len = it.len;
    return (const char *)it.ptr;
}

const void *sb_rec_next_bin(sb_rec_reader *r, size_t *len)
{
    item it;
    const unsigned char *start;
    *len = 0;
    if (!take(r, &it, &start) || it.kind == K_NIL) return NULL;
    if (it.kind != K_BIN) { mismatch(r, start); return NULL; }
    *len = it.len;
    return it.ptr;
}

uint64_t sb_rec_next_u64(sb_rec_reader *r, uint64_t def)
{
    item it;
    const unsigned char *start;
    if (!take(r, &it, &start) || it.kind == K_NIL) return def;
    if (it.kind != K_UINT) { mismatch(r, start); return def; }
    return it.u;
}

int64_t sb_rec_next_i64(sb_rec_reader *r, int64_t def)
{
    item it;
    const unsigned char *start;
    if (!take(r, &it, &start) || it.kind == K_NIL) return def;
    if (it.kind == K_INT) return it.i;
    if (it.kind == K_UINT && it.u <= INT64_MAX) return (int64_t)it.u;
    mismatch(r, start);
    return def;
}

bool sb_rec_next_bool(sb_rec_reader *r, bool def)
{
    item it;
    const unsigned char *start;
    if (!take(r, &it, &start) || it.kind == K_NIL) return def;
    if (it.kind != K_BOOL) { mismatch(r, start); return def; }
    return it.u != 0;
}

double sb_rec_next_double(sb_rec_reader *r, double def)
{
    item it;
    const unsigned char *start;
    if (!take(r, &it, &start) || it.kind == K_NIL) return def;
    switch (it.kind) {
    case K_FLOAT: return it.d;
    case K_UINT: return (double)it.u;
    case K_INT: return (double)it.i;
    default: mismatch(r, start); return def;
    }
}

static void *zalloc(sb_rec_reader *r, size_t size)
{
    if (!r->zone && !(r->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE))) return NULL;
    return msgpack_zone_malloc(r->zone, size);
}

/* Copies the string at r->p (or NULL for nil) NUL-terminated into *out.
 * SB_ERR_INVALID for another type. */
static sb_status copy_str(sb_rec_reader *r, const char **out)
{
    item it;
    if (head(&r->p, r->end, &it) != 0) return SB_ERR_INVALID;
    if (it.kind == K_NIL) { *out = NULL; return SB_OK; }
    if (it.kind != K_STR) return SB_ERR_INVALID;
    char *s = zalloc(r, (size_t)it.len + 1);
    if (!s) return SB_ERR_NOMEM;
    memcpy(s, it.ptr, it.len);
    s[it.len] = '\0';
    *out = s;
    return SB_OK;
}

/* Reads an array (pairs = 1) or a map (pairs = 2) of strings into one or two
 * parallel arrays of copies. */
static sb_status next_strings(sb_rec_reader *r, enum kind want,
                              const char ***a, const char ***b, size_t *n)
{
    item it;
    const unsigned char *start;
    *a = NULL;
    if (b) *b = NULL;
    *n = 0;
    if (!take(r, &it, &start) || it.kind == K_NIL) return SB_OK;
    if (it.kind != want) { mismatch(r, start); return SB_ERR_INVALID; }
    if (it.len == 0) return SB_OK;
    const char **x = zalloc(r, it.len * sizeof *x);
    const char **y = b ? zalloc(r, it.len * sizeof *y) : NULL;
    sb_status st = (!x || (b && !y)) ? SB_ERR_NOMEM : SB_OK;
    for (uint32_t k = 0; k < it.len && st == SB_OK; k++) {
        st = copy_str(r, &x[k]);
        if (st == SB_OK && b) {
            st = x[k] ? copy_str(r, &y[k]) : SB_ERR_INVALID; /* keys are never nil */
        }
    }
    if (st != SB_OK) {
        discard(r, start, st);
        return st;
    }
    *a = x;
    if (b) *b = y;
    *n = it.len;
    return SB_OK;
}

sb_status sb_rec_next_str_array(sb_rec_reader *r, const char *const **items,
                                size_t *n)
{
    const char **x;
    sb_status st = next_strings(r, K_ARRAY, &x, NULL, n);
    *items = x;
    return st;
}

sb_status sb_rec_next_map(sb_rec_reader *r, const char *const **keys,
                          const char *const **vals, size_t *n)
{
    const char **x, **y;
    sb_status st = next_strings(r, K_MAP, &x, &y, n);
    *keys = x;
    *vals = y;
    return st;
}

sb_status sb_rec_close(sb_rec_reader *r)
{
    if (r->zone) msgpack_zone_free(r->zone);
    r->zone = NULL;
    r->left = 0;
    return r->err;
}
