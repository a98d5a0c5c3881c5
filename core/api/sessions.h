/* Login sessions: opaque bearer tokens with an expiry, persisted so that a
 * restart does not log every operator out. Only SHA-256 of a token is
 * stored, so a copy of the database holds no usable token.
 *
 * Thread: loop thread only. */
#ifndef SB_SESSIONS_H
#define SB_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define SB_SESSION_TOKEN_LEN 64 /* hex characters */

typedef struct sb_session {
    char user_id[24];
    char login[128];
    char role[16];
    int64_t expires_at_ms;
} sb_session;

/* The tables sessions need ("sessions", "session_exp"), for sb_store_open. */
const char *const *sb_sessions_table_names(size_t *n);

/* Creates a session (joins the current batch) and writes its token. */
sb_status sb_session_create(sb_store *st, sb_table first, const sb_session *s,
                            char token[SB_SESSION_TOKEN_LEN + 1]);
/* SB_OK with *out when the token names a live session; SB_ERR_NOT_FOUND
 * when unknown or expired. */
sb_status sb_session_find(sb_store *st, sb_table first, const char *token, int64_t now_ms,
                          sb_session *out);
sb_status sb_session_delete(sb_store *st, sb_table first, const char *token);
/* Deletes up to max expired sessions (a range read on the expiry index). */
long sb_sessions_expire(sb_store *st, sb_table first, int64_t now_ms, size_t max);
#endif
