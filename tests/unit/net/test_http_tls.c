/* HTTPS: a self-signed certificate made at test time with mbedtls, libcurl
 * as the client (verification off). */
#include "test_http_harness.h"

#include <curl/curl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

static sb_http_server *g_srv;
static char g_dir[64], g_cert[128], g_key[128];

static void h_echo(sb_http_req *req, void *ud)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s %s body=%s", req->method, req->path, req->body);
    (void)ud;
    TH_CHECK(sb_http_respond(g_srv, req->id, 200, "text/plain", NULL, 0, buf, (size_t)n) == SB_OK);
}

static void setup_routes(th_server *s, void *arg)
{
    (void)arg;
    g_srv = s->srv;
    assert_int_equal(sb_http_route(s->srv, NULL, "/echo", false, h_echo, NULL, NULL), SB_OK);
    th_route_big(s);
}

static void write_file(const char *path, const unsigned char *data)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs((const char *)data, f) >= 0, 1);
    fclose(f);
}

/* EC P-256 key and a self-signed certificate for CN=localhost. */
static void make_cert(void)
{
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char pem[4096];

    snprintf(g_dir, sizeof g_dir, "/tmp/sb-tls-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/key.pem", g_dir);

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    assert_int_equal(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, NULL, 0), 0);
    assert_int_equal(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                         mbedtls_ctr_drbg_random, &drbg),
                     0);
    assert_int_equal(mbedtls_pk_write_key_pem(&key, pem, sizeof pem), 0);
    write_file(g_key, pem);

    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&crt, "CN=localhost"), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&crt, "CN=localhost"), 0);
    assert_int_equal(mbedtls_mpi_lset(&serial, 1), 0);
    assert_int_equal(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&crt, "20200101000000", "20991231235959"),
                     0);
    assert_int_equal(
        mbedtls_x509write_crt_pem(&crt, pem, sizeof pem, mbedtls_ctr_drbg_random, &drbg), 0);
    write_file(g_cert, pem);

    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
}

static th_server g_s;

static int start(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    make_cert();
    assert_true(th_start_at(&g_s, &l, NULL, g_cert, g_key, setup_routes, NULL));
    return 0;
}

static int stop(void **state)
{
    (void)state;
    th_stop(&g_s);
    unlink(g_cert);
    unlink(g_key);
    rmdir(g_dir);
    return 0;
}

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    if (s->len + size * n + 1 > s->cap) {
        size_t ncap = s->cap ? s->cap : 4096;
        char *np;
        while (ncap < s->len + size * n + 1)
            ncap *= 2;
        if (!(np = realloc(s->p, ncap)))
            return 0;
        s->p = np;
        s->cap = ncap;
    }
    memcpy(s->p + s->len, ptr, size * n);
    s->len += size * n;
    s->p[s->len] = 0;
    return size * n;
}

/* A small receive buffer keeps the server's socket full: its TLS writes
 * meet WANT_WRITE and must be repeated. */
static int small_rcvbuf(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    int small = 8192;
    (void)ud;
    (void)purpose;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    return CURL_SOCKOPT_OK;
}

static long https(CURL *h, const char *path, const char *post, sink *out)
{
    char url[128];
    long code = 0;
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", g_s.port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, small_rcvbuf);
    if (post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    else
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static void test_tls_round_trip(void **state)
{
    CURL *h = curl_easy_init();
    sink s = {0};
    sb_http_stats st;
    (void)state;
    assert_int_equal(https(h, "/echo", NULL, &s), 200);
    assert_string_equal(s.p, "GET /echo body=");
    s.len = 0;
    assert_int_equal(https(h, "/echo", "hello=tls", &s), 200);
    assert_string_equal(s.p, "POST /echo body=hello=tls");
    s.len = 0;
    /* larger than a TLS record and the socket buffers: partial writes */
    assert_int_equal(https(h, "/big", NULL, &s), 200);
    assert_int_equal(s.len, TH_BIG);
    assert_memory_equal(s.p, th_big_body(), TH_BIG);
    s.len = 0;
    assert_int_equal(https(h, "/nope", NULL, &s), 404);
    st = th_stats(&g_s);
    assert_int_equal(st.accepted, 1); /* keep-alive over TLS */
    free(s.p);
    curl_easy_cleanup(h);
}

static void test_tls_plaintext_client(void **state)
{
    th_conn *c = th_connect(g_s.port);
    (void)state;
    th_send(c, "GET /echo HTTP/1.1\r\n\r\n");
    assert_true(th_wait_closed(c->fd, 3000));
    th_close(c);
    /* still serving */
    CURL *h = curl_easy_init();
    sink s = {0};
    assert_int_equal(https(h, "/echo", NULL, &s), 200);
    free(s.p);
    curl_easy_cleanup(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_round_trip, start, stop),
        cmocka_unit_test_setup_teardown(test_tls_plaintext_client, start, stop),
    };
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
