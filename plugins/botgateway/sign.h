/* The gateway's two secrets: the HMAC that signs every POST to the bot, and
 * the bot token it checks on every call to its REST route. */
#ifndef BOTGATEWAY_SIGN_H
#define BOTGATEWAY_SIGN_H
#include <stdbool.h>
#include <stddef.h>

#define BG_SIG_LEN (7 + 64) /* "sha256=" + 64 hex digits */

/* X-Switchboard-Signature: "sha256=" + hex HMAC-SHA256(secret, body), the
 * same header as the API channel's. Writes BG_SIG_LEN chars + NUL. */
void bg_sign(const char *secret, const void *body, size_t len, char out[BG_SIG_LEN + 1]);

/* True when `authorization` is "Bearer <token>" (scheme in any case). Takes
 * the same time whatever the given value and wherever it differs: both
 * sides are hashed first, so neither the length nor any prefix of the token
 * leaks. NULL (no header) is false. */
bool bg_bearer_ok(const char *token, const char *authorization);
#endif
