#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* Client search keys (table client_search), each followed by "\0" and the
 * client id so that one term names many clients:
 *   'n' a word of the name, lowercased (ASCII, Latin-1, Cyrillic)
 *   'p' phone digits   'e' e-mail (lowercased)   'x' a channel external id
 * A query reads a bounded range of one kind: word/phone/e-mail prefixes,
 * external ids exactly. */

enum { MAX_WORDS = 8, MAX_WORD = 64, MAX_KEYS = MAX_WORDS + 2 + SB_ENG_MAX_IDENTITIES,
       KEY_CAP = 2 + SB_ENG_MAX_REF + 9, SCAN_MAX = 400, RESULT_DEFAULT = 20, RESULT_MAX = 100 };

/* ---- lowercasing ----------------------------------------------------------- */

static unsigned lower_cp(unsigned c)
{
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;   /* Latin-1 */
    if (c >= 0x410 && c <= 0x42F) return c + 32;              /* А-Я */
    if (c >= 0x400 && c <= 0x40F) return c + 80;              /* Ѐ-Џ, Ё */
    return c;
}

/* Decodes one UTF-8 character (input already valid); returns its length. */
static size_t dec(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if ((s[0] & 0xe0) == 0xc0 && s[1]) { *cp = (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu); return 2; }
    if ((s[0] & 0xf0) == 0xe0 && s[1] && s[2]) {
        *cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
        return 3;
    }
    *cp = s[0]; /* 4-byte or broken: copied as they are */
    return 1;
}

static size_t enc(unsigned cp, unsigned char *o)
{
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xc0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3f)); return 2; }
    o[0] = (unsigned char)(0xe0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
}

/* Lowercased copy of s into out (cap bytes, NUL-terminated, cut on a
 * character boundary). Returns the length. */
static size_t lower(const char *s, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        unsigned cp;
        size_t l = dec(p, &cp);
        unsigned char tmp[4];
        size_t m = l == 1 && cp >= 0x80 ? (tmp[0] = *p, 1) : enc(lower_cp(cp), tmp);
        if (n + m >= cap) break;
        memcpy(out + n, tmp, m);
        n += m;
        p += l;
    }
    out[n] = '\0';
    return n;
}

static bool sep(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ',' || c == '.' || c == '-' || c == '"' ||
           c == '\'' || c == '(' || c == ')';
}

/* Splits lowercased text into at most MAX_WORDS words (in place). */
static size_t words(char *s, char **w)
{
    size_t n = 0;
    for (char *p = s; *p && n < MAX_WORDS;) {
        while (*p && sep(*p)) *p++ = '\0';
        if (!*p) break;
        w[n++] = p;
        while (*p && !sep(*p)) p++;
    }
    return n;
}

/* ---- keys -------------------------------------------------------------------- */

typedef struct keyset {
    unsigned char k[MAX_KEYS][KEY_CAP];
    size_t len[MAX_KEYS], n;
} keyset;

static void add(keyset *ks, char kind, const char *term, size_t tlen, uint64_t id)
{
    if (ks->n == MAX_KEYS || !tlen || tlen > KEY_CAP - 10) return;
    unsigned char *k = ks->k[ks->n];
    k[0] = (unsigned char)kind;
    memcpy(k + 1, term, tlen);
    k[1 + tlen] = '\0';
    sb_key_put_u64(k + 2 + tlen, id);
    size_t len = tlen + 10;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->len[i] == len && memcmp(ks->k[i], k, len) == 0) return;
    ks->len[ks->n++] = len;
}

static void keys_of(const sb_eng_client *c, keyset *ks)
{
    ks->n = 0;
    if (!c) return;
    if (c->name) {
        char buf[4 * MAX_WORD * MAX_WORDS], *w[MAX_WORDS];
        lower(c->name, buf, sizeof buf);
        size_t n = words(buf, w);
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(w[i]);
            add(ks, 'n', w[i], l > MAX_WORD ? MAX_WORD : l, c->id);
        }
    }
    if (c->phone) add(ks, 'p', c->phone, strlen(c->phone), c->id);
    if (c->email) add(ks, 'e', c->email, strlen(c->email), c->id);
    for (size_t i = 0; i < c->n_ids; i++)
        add(ks, 'x', c->ids[i].external_id, strlen(c->ids[i].external_id), c->id);
}

static bool has(const keyset *ks, const unsigned char *k, size_t len)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->len[i] == len && memcmp(ks->k[i], k, len) == 0) return true;
    return false;
}

sb_status sb_eng_search_update(sb_engine *e, const sb_eng_client *old, const sb_eng_client *now)
{
    keyset *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    sb_status s = a && b ? SB_OK : SB_ERR_NOMEM;
    if (s == SB_OK) {
        keys_of(old, a);
        keys_of(now, b);
    }
    sb_table t = TBL(e, TB_CLIENT_SEARCH);
    for (size_t i = 0; s == SB_OK && i < a->n; i++) {
        if (has(b, a->k[i], a->len[i])) continue;
        s = sb_store_del(e->st, t, a->k[i], a->len[i]);
        if (s == SB_ERR_NOT_FOUND) s = SB_OK;
    }
    for (size_t i = 0; s == SB_OK && i < b->n; i++)
        if (!has(a, b->k[i], b->len[i])) s = sb_store_put(e->st, t, b->k[i], b->len[i], "", 0);
    free(a);
    free(b);
    return s;
}

/* ---- queries ------------------------------------------------------------------- */

typedef struct found {
    uint64_t *ids;
    size_t n, max;
    size_t term;  /* exact: the key must end right after the term */
    bool exact;
} found;

static int take(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    found *f = ud;
    if (klen < 10) return 0;
    if (f->exact && klen != f->term + 10) return 0;
    uint64_t id = sb_key_get_u64((const unsigned char *)key + klen - 8);
    for (size_t i = 0; i < f->n; i++)
        if (f->ids[i] == id) return 0;
    f->ids[f->n++] = id;
    return f->n == f->max;
}

/* Keys of kind starting with term (exact: equal to it). */
static sb_status scan(sb_engine *e, char kind, const char *term, bool exact, found *f)
{
    size_t tl = strlen(term);
    if (!tl || tl > KEY_CAP - 10 || f->n == f->max) return SB_OK;
    unsigned char from[KEY_CAP], to[KEY_CAP];
    from[0] = to[0] = (unsigned char)kind;
    memcpy(from + 1, term, tl);
    memcpy(to + 1, term, tl);
    size_t fl = 1 + tl, tol;
    if (exact) {
        from[fl] = '\0';
        to[fl] = 1; /* "term\0" .. "term\1" */
        fl++;
        tol = fl;
    } else {
        /* the range of everything that starts with term: term + 0xff... */
        to[fl] = 0xff;
        tol = fl + 1;
    }
    f->exact = exact;
    f->term = tl;
    long n = sb_store_scan(e->st, TBL(e, TB_CLIENT_SEARCH), from, fl, to, tol, false, SCAN_MAX, take, f);
    return n < 0 ? (sb_status)n : SB_OK;
}

/* Whether every query word starts some word of the client's name. */
static bool name_matches(const sb_eng_client *c, char **qw, size_t nq)
{
    if (!c->name) return false;
    char buf[4 * MAX_WORD * MAX_WORDS], *w[MAX_WORDS];
    lower(c->name, buf, sizeof buf);
    size_t n = words(buf, w);
    for (size_t i = 0; i < nq; i++) {
        bool hit = false;
        for (size_t j = 0; j < n && !hit; j++) hit = strncmp(w[j], qw[i], strlen(qw[i])) == 0;
        if (!hit) return false;
    }
    return true;
}

sb_status sb_engine_clients_search(sb_engine *e, const char *query, size_t limit, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    size_t ql = query ? strlen(query) : 0;
    if (!ql || ql > 256 || !sb_eng_utf8_valid(query, ql)) return SB_ERR_INVALID;
    limit = limit == 0 ? RESULT_DEFAULT : limit > RESULT_MAX ? RESULT_MAX : limit;
    found f = {calloc(limit, sizeof(uint64_t)), 0, limit, 0, false};
    if (!f.ids) return SB_ERR_NOMEM;
    char low[4 * 256 + 1], digits[24], *qw[MAX_WORDS];
    lower(query, low, sizeof low);
    sb_status s = scan(e, 'x', query, true, &f);
    if (s == SB_OK && strchr(low, '@')) s = scan(e, 'e', low, false, &f);
    if (s == SB_OK && sb_eng_phone_norm(query, digits) == SB_OK) s = scan(e, 'p', digits, false, &f);
    size_t nw = words(low, qw);
    size_t before_names = f.n;
    if (s == SB_OK && nw) {
        /* candidates by the longest word, checked against all of them */
        size_t best = 0;
        for (size_t i = 1; i < nw; i++)
            if (strlen(qw[i]) > strlen(qw[best])) best = i;
        s = scan(e, 'n', qw[best], false, &f);
    }
    json_t *items = json_array();
    if (s == SB_OK && !items) s = SB_ERR_NOMEM;
    for (size_t i = 0; s == SB_OK && i < f.n; i++) {
        sb_eng_client c;
        if (sb_eng_client_load(e, f.ids[i], &c) != SB_OK) continue;
        if (i < before_names || nw < 2 || name_matches(&c, qw, nw))
            if (json_array_append_new(items, sb_eng_client_json(&c)) != 0) s = SB_ERR_NOMEM;
        sb_eng_client_clear(&c);
    }
    free(f.ids);
    if (s != SB_OK) {
        json_decref(items);
        return s;
    }
    return sb_eng_json_take(sb_eng_page_json(items, 0), out);
}
