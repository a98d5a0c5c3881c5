/* Text -> folded tokens: what a client types (any case, ё, HTML pasted from
 * a page, emoji, a Latin "p" typed into a Russian word) and what an editor
 * writes become the same tokens. */
#include <string.h>
#include "search_internal.h"

/* Decodes one code point at s[*i] (bytes left: n). Invalid or truncated
 * sequences give U+FFFD and consume one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t p = *i;
    unsigned c = s[p];
    uint32_t cp;
    size_t need;
    if (c < 0x80) { *i = p + 1; return c; }
    if (c >= 0xC2 && c <= 0xDF) { cp = c & 0x1F; need = 1; }
    else if (c >= 0xE0 && c <= 0xEF) { cp = c & 0x0F; need = 2; }
    else if (c >= 0xF0 && c <= 0xF4) { cp = c & 0x07; need = 3; }
    else { *i = p + 1; return 0xFFFD; }
    if (p + need >= n) { *i = p + 1; return 0xFFFD; }
    for (size_t k = 1; k <= need; k++) {
        unsigned cc = s[p + k];
        if ((cc & 0xC0) != 0x80) { *i = p + 1; return 0xFFFD; }
        cp = (cp << 6) | (cc & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i = p + 1;
        return 0xFFFD;
    }
    *i = p + need + 1;
    return cp;
}

size_t tb_utf8_decode_all(const char *s, size_t len, uint32_t *out, size_t max)
{
    size_t i = 0, n = 0;
    while (i < len && n < max)
        out[n++] = utf8_next((const unsigned char *)s, len, &i);
    return n;
}

static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

enum cls { C_SEP, C_LAT, C_CYR, C_DIGIT, C_IGNORE, C_BREVE };

/* Folds one code point; returns its class. */
static enum cls fold(uint32_t *cp)
{
    uint32_t c = *cp;
    if (c >= 'a' && c <= 'z') return C_LAT;
    if (c >= 'A' && c <= 'Z') { *cp = c + 32; return C_LAT; }
    if (c >= '0' && c <= '9') return C_DIGIT;
    if (c < 0x80) return C_SEP;
    if (c == 0x401 || c == 0x451) { *cp = 0x435; return C_CYR; }      /* ё -> е */
    if (c >= 0x410 && c <= 0x42F) { *cp = c + 0x20; return C_CYR; }
    if (c >= 0x430 && c <= 0x44F) return C_CYR;
    if (c >= 0x400 && c <= 0x40F) { *cp = c + 0x50; return C_CYR; }
    if (c >= 0x450 && c <= 0x45F) return C_CYR;
    if (c == 0x306) return C_BREVE;                                     /* и + ̆ = й */
    if ((c >= 0x300 && c <= 0x36F) || c == 0xAD || (c >= 0x200B && c <= 0x200D) ||
        c == 0x2060 || c == 0xFEFF || (c >= 0xFE00 && c <= 0xFE0F))
        return C_IGNORE;                                                /* marks, ZW, soft hyphen */
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) { *cp = c + 0x20; return C_LAT; }
    if (c >= 0xDF && c <= 0xFF && c != 0xF7) return C_LAT;
    return C_SEP;                                                       /* punctuation, emoji, symbols */
}

/* Latin letter that looks like a Cyrillic one (lower case, either way). */
static const struct { char lat; uint32_t cyr; } lookalike[] = {
    {'a', 0x430}, {'b', 0x432}, {'c', 0x441}, {'e', 0x435}, {'h', 0x43D}, {'k', 0x43A},
    {'m', 0x43C}, {'o', 0x43E}, {'p', 0x440}, {'t', 0x442}, {'x', 0x445}, {'y', 0x443},
};
#define N_LOOKALIKE (sizeof lookalike / sizeof lookalike[0])

static uint32_t lat_to_cyr(uint32_t c)
{
    for (size_t k = 0; k < N_LOOKALIKE; k++)
        if ((uint32_t)lookalike[k].lat == c) return lookalike[k].cyr;
    return 0;
}

static uint32_t cyr_to_lat(uint32_t c)
{
    for (size_t k = 0; k < N_LOOKALIKE; k++)
        if (lookalike[k].cyr == c) return (uint32_t)lookalike[k].lat;
    return 0;
}

static bool is_cyr(uint32_t c) { return c >= 0x430 && c <= 0x45F; }
static bool is_lat(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF); }

/* Decides the script of a word and repairs look-alikes, then writes it. */
static void emit(const uint32_t *w, size_t n, tb_token *t)
{
    size_t cyr = 0, lat = 0, cyr_own = 0, lat_own = 0, dig = 0;
    uint32_t buf[TB_TOKEN_CHARS];
    memcpy(buf, w, n * sizeof *w);
    for (size_t k = 0; k < n; k++) {
        if (is_cyr(buf[k])) { cyr++; if (!cyr_to_lat(buf[k])) cyr_own++; }
        else if (is_lat(buf[k])) { lat++; if (!lat_to_cyr(buf[k])) lat_own++; }
        else dig++;
    }
    if (cyr && lat) {
        /* Letters with no twin in the other alphabet decide; then the
         * majority; a tie goes to Cyrillic (the clients write Russian). */
        bool to_cyr = cyr_own != lat_own ? cyr_own > lat_own : cyr >= lat;
        for (size_t k = 0; k < n; k++) {
            uint32_t m = to_cyr ? (is_lat(buf[k]) ? lat_to_cyr(buf[k]) : 0)
                                : (is_cyr(buf[k]) ? cyr_to_lat(buf[k]) : 0);
            if (m) buf[k] = m;
        }
        cyr = lat = 0;
        for (size_t k = 0; k < n; k++) {
            if (is_cyr(buf[k])) cyr++;
            else if (is_lat(buf[k])) lat++;
        }
    }
    t->script = dig || (cyr && lat) ? TB_SCRIPT_OTHER
              : cyr ? TB_SCRIPT_CYRILLIC : TB_SCRIPT_LATIN;
    size_t o = 0;
    for (size_t k = 0; k < n; k++) o += utf8_put(t->text + o, buf[k]);
    t->text[o] = 0;
    t->len = (uint8_t)o;
}

/* Length of an HTML tag or entity starting at s[i], 0 if it is not one. */
static size_t markup_len(const char *s, size_t n, size_t i)
{
    if (s[i] == '<' && i + 1 < n) {
        char c = s[i + 1];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!'))
            return 0;
        for (size_t j = i + 1; j < n && j < i + 1024; j++) {
            if (s[j] == '>') return j - i + 1;
            if (s[j] == '<') return 0;
        }
        return 0;
    }
    if (s[i] == '&') {
        for (size_t j = i + 1; j < n && j < i + 12; j++) {
            char c = s[j];
            if (c == ';') return j > i + 1 ? j - i + 1 : 0;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '#'))
                return 0;
        }
    }
    return 0;
}

size_t tb_normalize(const char *s, size_t len, size_t max_bytes,
                    tb_token *out, size_t max_tokens)
{
    if (!s || !out || !max_tokens) return 0;
    if (len > max_bytes) len = max_bytes;   /* a cut sequence decodes as U+FFFD */
    uint32_t w[TB_TOKEN_CHARS];
    size_t nw = 0, nt = 0, i = 0;
    while (i < len && nt < max_tokens) {
        size_t m = markup_len(s, len, i);
        uint32_t cp = 0;
        enum cls c = C_SEP;
        if (m) {
            i += m;
        } else {
            cp = utf8_next((const unsigned char *)s, len, &i);
            c = fold(&cp);
        }
        if (c == C_IGNORE) continue;
        if (c == C_BREVE) {
            if (nw && w[nw - 1] == 0x438) w[nw - 1] = 0x439;
            continue;
        }
        if (c == C_SEP) {
            if (nw) emit(w, nw, &out[nt++]);
            nw = 0;
            continue;
        }
        if (nw < TB_TOKEN_CHARS) w[nw++] = cp;   /* the rest of a long word is dropped */
    }
    if (nw && nt < max_tokens) emit(w, nw, &out[nt++]);
    return nt;
}
