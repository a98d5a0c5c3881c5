/* Small string helpers. Thread: any. */
#ifndef SB_STR_H
#define SB_STR_H
#include <stdbool.h>
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

/* A reference to a plugin instance, "plugin/instance" (a bot's): one '/',
 * with text on both sides. */
static inline bool sb_is_instance_ref(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash && slash != s && slash[1] && !strchr(slash + 1, '/');
}
#endif
