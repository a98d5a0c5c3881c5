/* Bearer tokens. API tokens come from the config; login sessions come with
 * the operators' API. Comparison is constant-time so a token cannot be
 * guessed byte by byte from response timing. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"

static bool const_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

const char *sb_api_auth_token(sb_api *api, const char *token)
{
    if (!token || !*token) return NULL;
    const char *role = NULL;
    for (size_t i = 0; i < api->n_tokens; i++)
        if (const_eq(token, api->tokens[i].token) && !role) role = api->tokens[i].role;
    return role;
}

const char *sb_api_auth(sb_api *api, const sb_http_req *req)
{
    const char *h = sb_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    h += 7;
    while (*h == ' ') h++;
    return sb_api_auth_token(api, h);
}

bool sb_api_require(sb_api *api, sb_http_req *req, const char *roles, const char **out)
{
    const char *role = sb_api_auth(api, req);
    if (!role) {
        sb_http_error(api->d.http, req->id, 401, "unauthorized",
                      "missing or invalid bearer token");
        return false;
    }
    size_t rl = strlen(role);
    for (const char *p = roles; *p;) {
        size_t l = strcspn(p, ",");
        if (l == rl && memcmp(p, role, l) == 0) {
            if (out) *out = role;
            return true;
        }
        p += l + (p[l] == ',');
    }
    sb_http_error(api->d.http, req->id, 403, "forbidden", "this role may not do that");
    return false;
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
