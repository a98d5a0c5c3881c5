/* Password hashing: PBKDF2-HMAC-SHA256 (mbedtls) with a per-user random
 * salt, stored as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>".
 *
 * Thread: any; both functions take tens of milliseconds on purpose, so the
 * daemon calls them from a worker thread, never on the loop. */
#ifndef SB_PASSWORD_H
#define SB_PASSWORD_H
#include <stdbool.h>
#include <stddef.h>

#define SB_PASSWORD_ITERATIONS 120000
#define SB_PASSWORD_HASH_MAX 160
#define SB_PASSWORD_MAX 1024 /* longer passwords are refused, not hashed */

/* Writes the encoded hash into out (SB_PASSWORD_HASH_MAX). 0 or -1 (no
 * randomness, or the password is over SB_PASSWORD_MAX). */
int sb_password_hash(const char *password, unsigned iterations, char *out, size_t cap);
/* True when password matches the encoded hash (constant-time compare). A
 * malformed stored value never matches. */
bool sb_password_verify(const char *password, const char *encoded);
#endif
