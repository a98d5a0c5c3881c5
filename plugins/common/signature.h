/* Signatures and tokens of Switchboard's own webhooks: the header
 * X-Switchboard-Signature: "sha256=" + hex HMAC-SHA256(secret, raw body)
 * that the API channel checks and both the API channel and the bot gateway
 * send, and the bearer tokens plugins check themselves.
 * Pure functions: any thread; nothing kept. */
#ifndef SB_PLUGIN_SIGNATURE_H
#define SB_PLUGIN_SIGNATURE_H
#include <stdbool.h>
#include <stddef.h>

#define SBP_SIG_LEN (7 + 64) /* "sha256=" + 64 hex digits */

/* Writes the header value (SBP_SIG_LEN chars + NUL) into out. */
void sbp_sign(const char *secret, const void *body, size_t len, char out[SBP_SIG_LEN + 1]);
/* Checks a received header value in constant time; false when absent or
 * malformed. Hex digits are accepted in either case. */
bool sbp_verify(const char *secret, const void *body, size_t len, const char *header);
/* True when `authorization` is "Bearer <token>" (scheme in any case) and
 * token is not empty. Takes the same time whatever the given value and
 * wherever it differs: both sides are hashed first, so neither the length
 * nor any prefix of the token leaks. NULL (no header) is false. */
bool sbp_bearer_ok(const char *token, const char *authorization);
#endif
