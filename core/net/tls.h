/* Server-side TLS (mbedtls 2.28) over a non-blocking socket. The socket
 * is driven by the caller's loop: every call returns at once, asking for
 * readability or writability with SB_TLS_WANT_READ / SB_TLS_WANT_WRITE.
 * TLS 1.2 only, no renegotiation.
 *
 * Thread: one loop thread per sb_tls_server (its RNG is shared by the
 * connections made from it).
 */
#ifndef SB_TLS_H
#define SB_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct sb_tls_server sb_tls_server;
typedef struct sb_tls_conn sb_tls_conn;

enum {
    SB_TLS_WANT_READ = -1,
    SB_TLS_WANT_WRITE = -2,
    SB_TLS_ERROR = -3
};

/* Loads the certificate chain and key (PEM files). NULL with a reason in
 * err when they cannot be used. */
sb_tls_server *sb_tls_server_new(const char *cert_file, const char *key_file, char *err,
                                 size_t errlen);
/* Only after every connection made from it is freed. */
void sb_tls_server_free(sb_tls_server *s);

/* fd stays owned by the caller (and must outlive the sb_tls_conn). NULL
 * on allocation failure. */
sb_tls_conn *sb_tls_conn_new(sb_tls_server *s, int fd);
void sb_tls_conn_free(sb_tls_conn *c);

/* 0 when the handshake is done, else SB_TLS_WANT_* or SB_TLS_ERROR. */
int sb_tls_handshake(sb_tls_conn *c);
/* Bytes read (>0), 0 at close_notify or EOF, SB_TLS_WANT_* or SB_TLS_ERROR. */
ssize_t sb_tls_read(sb_tls_conn *c, void *buf, size_t len);
/* Bytes written (>0), SB_TLS_WANT_* or SB_TLS_ERROR. After WANT_WRITE the
 * same buffer and length must be passed again. */
ssize_t sb_tls_write(sb_tls_conn *c, const void *buf, size_t len);
/* Decrypted bytes buffered inside (readable without the socket). */
size_t sb_tls_pending(const sb_tls_conn *c);
/* Best effort close_notify (never blocks). */
void sb_tls_close_notify(sb_tls_conn *c);

#endif
