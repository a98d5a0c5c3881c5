/* URL query strings. Thread: any (pure functions). */
#ifndef SB_QUERY_H
#define SB_QUERY_H
#include <stddef.h>

/* Finds `name` in a raw query ("a=1&b=x%20y"), percent- and '+'-decodes its
 * value into out (cap bytes, NUL-terminated). Returns the decoded length,
 * -1 when absent, -2 when it does not fit or is malformed. */
long sb_query_get(const char *query, const char *name, char *out, size_t cap);
/* Percent-decodes src[0..len) into out (cap). Returns the length or -1. */
long sb_url_decode(const char *src, size_t len, char *out, size_t cap, int plus_is_space);
#endif
