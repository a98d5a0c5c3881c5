/* Long texts become several messages: Telegram refuses a text over 4096
 * characters, counted in UTF-16 units (a code point past U+FFFF is two). */
#include "tg.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes of the UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

size_t tg_utf16_len(const char *text, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) != 0x80) units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

size_t tg_split(const char *text, size_t len, size_t max, tg_span *out, size_t cap)
{
    size_t n = 0, pos = 0;
    if (max < 2) max = 2; /* room for one surrogate pair */
    for (;;) {
        while (pos < len && is_space((unsigned char)text[pos])) pos++;
        if (pos >= len) break;
        /* end: the first byte past max units from pos */
        size_t end = pos, units = 0;
        while (end < len) {
            size_t l = seq_len((unsigned char)text[end]);
            size_t u = l == 4 ? 2 : 1;
            if (units + u > max) break;
            units += u;
            end += l;
        }
        if (end > len) end = len;
        size_t cut = end;
        if (end < len) {
            /* the last whitespace at or before end, leaving a non-empty part */
            size_t w = end;
            while (w > pos && !is_space((unsigned char)text[w])) w--;
            if (w > pos) cut = w;
        }
        size_t e = cut;
        while (e > pos && is_space((unsigned char)text[e - 1])) e--;
        if (n < cap) out[n] = (tg_span){pos, e - pos};
        n++;
        pos = cut;
    }
    return n;
}
