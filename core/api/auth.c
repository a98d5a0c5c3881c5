/* Bearer tokens: API tokens from the config, and login sessions. API
 * tokens compare in constant time so none can be guessed byte by byte from
 * response timing; a session's operator is looked up on every request, so
 * a deleted operator or a changed role takes effect at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "api/sessions.h"
#include "util/query.h"
#include "util/str.h"

static bool const_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

bool sb_api_auth_token(sb_api *api, const char *token, sb_principal *who)
{
    if (!token || !*token) return false;
    memset(who, 0, sizeof *who);
    const sb_api_token *hit = NULL;
    for (size_t i = 0; i < api->n_tokens; i++)
        if (const_eq(token, api->tokens[i].token) && !hit) hit = &api->tokens[i];
    if (hit) {
        sb_strlcpy(who->role, hit->role, sizeof who->role);
        sb_strlcpy(who->login, hit->name, sizeof who->login);
        return true;
    }
    sb_session s;
    if (!api->d.store || sb_session_find(api->d.store, api->d.first_table, token,
                                         sb_api_now_ms(api), &s) != SB_OK)
        return false;
    sb_operator_auth oa = {0};
    if (!api->d.engine || sb_engine_operator_by_login(api->d.engine, s.login, &oa) != SB_OK)
        return false;
    free(oa.hash);
    if (strcmp(oa.id, s.user_id) != 0) return false; /* login reused by a new operator */
    sb_strlcpy(who->role, oa.role, sizeof who->role);
    sb_strlcpy(who->user_id, oa.id, sizeof who->user_id);
    sb_strlcpy(who->login, s.login, sizeof who->login);
    return true;
}

bool sb_api_auth(sb_api *api, const sb_http_req *req, sb_principal *who)
{
    const char *h = sb_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    while (*h == ' ') h++;
    return sb_api_auth_token(api, h, who);
}

bool sb_api_require(sb_api *api, sb_http_req *req, const char *roles, sb_principal *who)
{
    if (!sb_api_auth(api, req, who)) {
        sb_http_error(api->d.http, req->id, 401, "unauthorized",
                      "missing, invalid or expired bearer token");
        return false;
    }
    size_t rl = strlen(who->role);
    for (const char *p = roles; *p;) {
        size_t l = strcspn(p, ",");
        if (l == rl && memcmp(p, who->role, l) == 0) return true;
        p += l + (p[l] == ',');
    }
    char msg[128];
    snprintf(msg, sizeof msg, "the %s role may not do this", who->role);
    sb_http_error(api->d.http, req->id, 403, "forbidden", msg);
    return false;
}

bool sb_api_sees_all(const sb_principal *who)
{
    return strcmp(who->role, "admin") == 0 || strcmp(who->role, "supervisor") == 0;
}

void sb_api_tokens_free(sb_api *api)
{
    for (size_t i = 0; i < api->n_tokens; i++) {
        free(api->tokens[i].name);
        free(api->tokens[i].token);
        free(api->tokens[i].role);
    }
    free(api->tokens);
    api->tokens = NULL;
    api->n_tokens = 0;
}

void sb_api_tokens_set(sb_api *api, const sb_config *cfg)
{
    sb_api_tokens_free(api);
    api->token_ttl_ms = cfg->auth.token_ttl_ms ? cfg->auth.token_ttl_ms : 12 * 3600 * 1000ull;
    if (!cfg->auth.n_api_tokens) return;
    api->tokens = calloc(cfg->auth.n_api_tokens, sizeof *api->tokens);
    if (!api->tokens) return;
    for (size_t i = 0; i < cfg->auth.n_api_tokens; i++) {
        const sb_api_token_conf *t = &cfg->auth.api_tokens[i];
        if (!t->token || !*t->token) continue; /* empty = disabled */
        sb_api_token *d = &api->tokens[api->n_tokens];
        d->name = strdup(t->name);
        d->token = strdup(t->token);
        d->role = strdup(t->role);
        if (!d->name || !d->token || !d->role) {
            free(d->name); free(d->token); free(d->role);
            continue;
        }
        api->n_tokens++;
    }
}

bool sb_api_who(void *ud, const sb_http_req *req, char *role, size_t role_cap, char *user,
                size_t user_cap)
{
    sb_api *api = ud;
    sb_principal who;
    bool ok = sb_api_auth(api, req, &who);
    if (!ok) {
        /* Browsers cannot set headers on a WebSocket: the token may ride in
         * the query, as for /api/v1/ws. */
        char tok[512];
        ok = req->query && sb_query_get(req->query, "token", tok, sizeof tok) >= 0 &&
             sb_api_auth_token(api, tok, &who);
    }
    if (!ok) return false;
    sb_strlcpy(role, who.role, role_cap);
    sb_strlcpy(user, *who.user_id ? who.user_id : who.login, user_cap);
    return true;
}
