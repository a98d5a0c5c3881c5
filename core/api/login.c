/* Logging in and out, and the first admin. PBKDF2 is deliberately slow, so
 * every hash and every check runs on a worker thread; the loop only
 * dispatches. Unknown logins are checked against a dummy hash so that the
 * answer takes as long as for a real one. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "api/password.h"
#include "api/sessions.h"
#include "util/log.h"
#include "util/str.h"

#define LOGIN_MAX_ATTEMPTS 10       /* per login per window */
#define ADDR_MAX_ATTEMPTS 50        /* per address per window */
#define LOGIN_WINDOW_MS (5 * 60 * 1000)

/* ---- hashing a new password ---------------------------------------------- */
typedef struct {
    sb_api *api;
    sb_api_hashed_fn done;
    void *ud;
    char *password;
    char hash[SB_PASSWORD_HASH_MAX];
    int rc;
} hash_job;

static void hash_work(void *ud)
{
    hash_job *j = ud;
    j->rc = sb_password_hash(j->password, SB_PASSWORD_ITERATIONS, j->hash, sizeof j->hash);
}

static void hash_done(void *ud, int cancelled)
{
    hash_job *j = ud;
    j->done(j->api, j->ud, cancelled || j->rc != 0 ? NULL : j->hash);
    memset(j->password, 0, strlen(j->password));
    free(j->password);
    free(j);
}

sb_status sb_api_hash_password(sb_api *api, const char *password, sb_api_hashed_fn done,
                               void *ud)
{
    hash_job *j = calloc(1, sizeof *j);
    if (!j || !(j->password = strdup(password))) {
        free(j);
        return SB_ERR_NOMEM;
    }
    j->api = api;
    j->done = done;
    j->ud = ud;
    sb_status st = sb_workers_submit(api->workers, hash_work, hash_done, j);
    if (st != SB_OK) {
        free(j->password);
        free(j);
    }
    return st;
}

/* ---- login ------------------------------------------------------------------ */
typedef struct {
    sb_api *api;
    uint64_t req_id;
    char *password, *hash;
    char login[128], id[24], role[16];
    bool known, ok;
} login_job;

/* A valid hash of nothing anyone knows, to spend the same time on a miss. */
static const char k_dummy_hash[] =
    "pbkdf2-sha256$120000$c3dpdGNoYm9hcmQtZHVtbXk=$tt6Xb1hEOvpaSyjjhHHCmhTHv/m5i5oOJL/qJtdsqwQ=";

static void login_work(void *ud)
{
    login_job *j = ud;
    bool ok = sb_password_verify(j->password, j->known && *j->hash ? j->hash : k_dummy_hash);
    j->ok = ok && j->known && *j->hash;
}

static void login_done(void *ud, int cancelled)
{
    login_job *j = ud;
    sb_api *api = j->api;
    char key[160];
    if (cancelled) {
        sb_http_error(api->d.http, j->req_id, 503, "unavailable", "stopping");
    } else if (!j->ok) {
        sb_log(SB_LOG_INFO, "auth", NULL, "login refused for '%s'", j->login);
        sb_http_error(api->d.http, j->req_id, 401, "unauthorized", "wrong login or password");
    } else {
        snprintf(key, sizeof key, "login:%s", j->login);
        sb_rl_reset(&api->rl_login, key);
        sb_session s = {.expires_at_ms = sb_api_now_ms(api) + (int64_t)api->token_ttl_ms};
        sb_strlcpy(s.user_id, j->id, sizeof s.user_id);
        sb_strlcpy(s.login, j->login, sizeof s.login);
        sb_strlcpy(s.role, j->role, sizeof s.role);
        char token[SB_SESSION_TOKEN_LEN + 1], at[40];
        if (sb_session_create(api->d.store, api->d.first_table, &s, token) != SB_OK) {
            sb_http_error(api->d.http, j->req_id, 503, "unavailable", "cannot store the session");
        } else {
            time_t secs = (time_t)(s.expires_at_ms / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            size_t n = strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(at + n, sizeof at - n, ".%03dZ", (int)(s.expires_at_ms % 1000));
            json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "token", token, "expires_at",
                                  at, "user", "id", j->id, "login", j->login, "role", j->role);
            sb_api_send_json(api, j->req_id, 200, o ? json_dumps(o, JSON_COMPACT) : NULL);
            json_decref(o);
            sb_log(SB_LOG_INFO, "auth", NULL, "'%s' logged in", j->login);
        }
    }
    memset(j->password, 0, strlen(j->password));
    free(j->password);
    free(j->hash);
    free(j);
}

void sb_rest_login(sb_rest_ctx *c)
{
    sb_api *api = c->api;
    json_t *b = sb_api_body(c);
    if (!b) return;
    const char *login = json_string_value(json_object_get(b, "login"));
    const char *pw = json_string_value(json_object_get(b, "password"));
    const char *bad = !login || !*login || strlen(login) > 64 ? "login: required, 1-64 characters"
                      : !pw || strlen(pw) > SB_PASSWORD_MAX ? "password: required, a string"
                                                            : NULL;
    if (bad) {
        sb_http_error(api->d.http, c->req->id, 400, "bad_request", bad);
        json_decref(b);
        return;
    }
    char kl[160], ka[160];
    snprintf(kl, sizeof kl, "login:%s", login);
    snprintf(ka, sizeof ka, "addr:%.*s", (int)strcspn(c->req->peer, "]:") + (c->req->peer[0] == '['),
             c->req->peer);
    int64_t now = sb_api_now_ms(api);
    if (!sb_rl_hit(&api->rl_addr, ka, now) || !sb_rl_hit(&api->rl_login, kl, now)) {
        sb_http_error(api->d.http, c->req->id, 429, "too_many_requests",
                      "too many login attempts; try again in a few minutes");
        json_decref(b);
        return;
    }
    login_job *j = calloc(1, sizeof *j);
    sb_operator_auth oa = {0};
    if (j) {
        j->api = api;
        j->req_id = c->req->id;
        sb_strlcpy(j->login, login, sizeof j->login);
        j->known = sb_engine_operator_by_login(api->d.engine, login, &oa) == SB_OK;
        j->hash = oa.hash ? oa.hash : strdup("");
        sb_strlcpy(j->id, oa.id, sizeof j->id);
        sb_strlcpy(j->role, oa.role, sizeof j->role);
        j->password = strdup(pw);
    }
    json_decref(b);
    if (!j || !j->password || !j->hash ||
        sb_workers_submit(api->workers, login_work, login_done, j) != SB_OK) {
        if (j) { free(j->password); free(j->hash); free(j); }
        sb_http_error(api->d.http, c->req->id, 503, "unavailable", "too busy, try again");
    }
}

void sb_rest_logout(sb_rest_ctx *c)
{
    const char *h = sb_http_header(c->req, "Authorization");
    if (h && strlen(h) > 7) sb_session_delete(c->api->d.store, c->api->d.first_table, h + 7);
    sb_http_respond(c->api->d.http, c->req->id, 204, NULL, NULL, 0, "", 0);
}

/* ---- the first admin ---------------------------------------------------------- */
static void admin_hashed(sb_api *api, void *ud, const char *hash)
{
    (void)ud;
    if (!hash) {
        sb_error("auth", "bootstrap_admin: cannot hash the password");
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s}", "login", api->admin_login, "name",
                          api->admin_login, "role", "admin");
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL, *out = NULL, err[256] = "";
    json_decref(o);
    sb_status st = body ? sb_engine_operator_create(api->d.engine, body, strlen(body), hash,
                                                    &out, err, sizeof err)
                        : SB_ERR_NOMEM;
    if (st == SB_OK) sb_info("auth", "created the bootstrap admin '%s'", api->admin_login);
    else if (st != SB_ERR_EXISTS)
        sb_error("auth", "bootstrap_admin '%s': %s", api->admin_login, *err ? err : "failed");
    free(body);
    free(out);
}

void sb_api_start(sb_api *api)
{
    if (!api->admin_login || !*api->admin_login || !api->d.engine) return;
    sb_operator_auth oa = {0};
    if (sb_engine_operator_by_login(api->d.engine, api->admin_login, &oa) == SB_OK) {
        free(oa.hash);
    } else if (!api->admin_password || !*api->admin_password) {
        sb_warn("auth", "auth.bootstrap_admin '%s' has no password (set SB_ADMIN_PASSWORD): "
                "no admin created", api->admin_login);
    } else if (sb_api_hash_password(api, api->admin_password, admin_hashed, NULL) != SB_OK) {
        sb_error("auth", "bootstrap_admin: cannot start hashing");
    }
    if (api->admin_password) memset(api->admin_password, 0, strlen(api->admin_password));
}

static void expire_sessions(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop; (void)revents;
    sb_api *api = w->data;
    sb_sessions_expire(api->d.store, api->d.first_table, sb_api_now_ms(api), 256);
}

void sb_api_login_init(sb_api *api)
{
    sb_rl_init(&api->rl_login, LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_MS);
    sb_rl_init(&api->rl_addr, ADDR_MAX_ATTEMPTS, LOGIN_WINDOW_MS);
    api->workers = api->d.loop ? sb_workers_new(api->d.loop, 2) : NULL;
    if (api->d.loop && api->d.store) {
        ev_timer_init(&api->expire_w, expire_sessions, 60., 60.);
        api->expire_w.data = api;
        ev_timer_start(api->d.loop, &api->expire_w);
    }
}

void sb_api_login_free(sb_api *api)
{
    if (api->d.loop && api->d.store) ev_timer_stop(api->d.loop, &api->expire_w);
    sb_workers_free(api->workers);
    api->workers = NULL;
}
