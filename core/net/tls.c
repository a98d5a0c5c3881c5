/* mbedtls glue: certificate loading, a non-blocking BIO on the socket. */
#include "net/tls.h"

#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

struct sb_tls_server {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
};

struct sb_tls_conn {
    mbedtls_ssl_context ssl;
    int fd;
};

static void tls_errstr(int rc, char *buf, size_t len)
{
    mbedtls_strerror(rc, buf, len);
}

sb_tls_server *sb_tls_server_new(const char *cert_file, const char *key_file, char *err,
                                 size_t errlen)
{
    sb_tls_server *s = calloc(1, sizeof *s);
    char why[128];
    int rc;
    const char *step;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    mbedtls_x509_crt_init(&s->cert);
    mbedtls_pk_init(&s->key);
    mbedtls_ssl_config_init(&s->conf);

    step = "seeding the RNG";
    rc = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                               (const unsigned char *)"switchboard-http", 16);
    if (rc)
        goto fail;
    step = cert_file;
    rc = mbedtls_x509_crt_parse_file(&s->cert, cert_file);
    if (rc)
        goto fail;
    step = key_file;
    rc = mbedtls_pk_parse_keyfile(&s->key, key_file, NULL);
    if (rc)
        goto fail;
    step = "configuring TLS";
    rc = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc)
        goto fail;
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
    mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_renegotiation(&s->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    step = "certificate and key do not match";
    rc = mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key);
    if (rc)
        goto fail;
    return s;

fail:
    tls_errstr(rc, why, sizeof why);
    snprintf(err, errlen, "%s: %s", step, why);
    sb_tls_server_free(s);
    return NULL;
}

void sb_tls_server_free(sb_tls_server *s)
{
    if (!s)
        return;
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_pk_free(&s->key);
    mbedtls_x509_crt_free(&s->cert);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    free(s);
}

/* MSG_NOSIGNAL: a peer that vanished must not raise SIGPIPE. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    sb_tls_conn *c = ctx;
    for (;;) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    sb_tls_conn *c = ctx;
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_READ;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

sb_tls_conn *sb_tls_conn_new(sb_tls_server *s, int fd)
{
    sb_tls_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &s->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return NULL;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return c;
}

void sb_tls_conn_free(sb_tls_conn *c)
{
    if (!c)
        return;
    mbedtls_ssl_free(&c->ssl);
    free(c);
}

static int map_rc(int rc)
{
    char why[128];
    if (rc == MBEDTLS_ERR_SSL_WANT_READ)
        return SB_TLS_WANT_READ;
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return SB_TLS_WANT_WRITE;
    if (sb_log_get_level() >= SB_LOG_DEBUG) {
        tls_errstr(rc, why, sizeof why);
        sb_debug("http", "tls: %s", why);
    }
    return SB_TLS_ERROR;
}

int sb_tls_handshake(sb_tls_conn *c)
{
    int rc = mbedtls_ssl_handshake(&c->ssl);
    return rc == 0 ? 0 : map_rc(rc);
}

ssize_t sb_tls_read(sb_tls_conn *c, void *buf, size_t len)
{
    int rc = mbedtls_ssl_read(&c->ssl, buf, len);
    if (rc > 0)
        return rc;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF)
        return 0;
    return map_rc(rc);
}

ssize_t sb_tls_write(sb_tls_conn *c, const void *buf, size_t len)
{
    int rc = mbedtls_ssl_write(&c->ssl, buf, len);
    return rc >= 0 ? rc : map_rc(rc);
}

size_t sb_tls_pending(const sb_tls_conn *c)
{
    return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

void sb_tls_close_notify(sb_tls_conn *c)
{
    (void)mbedtls_ssl_close_notify(&c->ssl);
}
