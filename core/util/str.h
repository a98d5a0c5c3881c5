/* Small string helpers. Thread: any. */
#ifndef SB_STR_H
#define SB_STR_H
#include <string.h>

/* Copies src into dst (cap bytes), truncating, always NUL-terminated when
 * cap > 0. Error texts are cut on purpose, so this states it. */
static inline void sb_strlcpy(char *dst, const char *src, size_t cap)
{
    if (!cap) return;
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}
#endif
