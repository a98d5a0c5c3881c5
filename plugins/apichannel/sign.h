/* X-Switchboard-Signature: "sha256=" + hex HMAC-SHA256(secret, raw body). */
#ifndef APICHANNEL_SIGN_H
#define APICHANNEL_SIGN_H
#include <stdbool.h>
#include <stddef.h>

#define AC_SIG_LEN (7 + 64) /* "sha256=" + 64 hex digits */

/* Writes the header value (AC_SIG_LEN chars + NUL) into out. */
void ac_sign(const char *secret, const void *body, size_t len, char out[AC_SIG_LEN + 1]);
/* Checks a received header value in constant time; false when absent or
 * malformed. Hex digits are accepted in either case. */
bool ac_verify(const char *secret, const void *body, size_t len, const char *header);
#endif
