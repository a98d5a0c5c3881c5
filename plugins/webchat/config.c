/* The web-chat instance's configuration: read every key, check each, and
 * name the first problem of each key with config_error. */
#include <stdio.h>
#include <string.h>

#include "wc.h"

static const char *const k_default_types[] = {"image/png", "image/jpeg", "image/gif",
                                              "image/webp", "application/pdf", "text/plain"};

static bool bad(sb_status st) { return st != SB_OK && st != SB_ERR_NOT_FOUND; }

/* [a-z0-9_]{1,32}: an omnibutton entry's kind names an icon and a class. */
static bool kind_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
            return false;
    return true;
}

/* A link the widget may open: web, a messenger's scheme or a path on this
 * server; no characters that would need quoting. */
static bool url_ok(const char *u)
{
    static const char *const schemes[] = {"https://", "http://", "viber://", "tg://",
                                          "whatsapp://", "/"};
    size_t n = strlen(u);
    if (n == 0 || n > 512) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || strchr("\"'<>\\`", u[i])) return false;
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(u, schemes[i], strlen(schemes[i])) == 0)
            return !(schemes[i][0] == '/' && u[1] == '/'); /* "//host" is not a path */
    return false;
}

static bool read_list(const sb_host *h, sb_ctx *ctx, const char *key, const char **out,
                      size_t max, size_t *n)
{
    size_t count = 0;
    sb_status st = h->config_count(ctx, key, &count);
    if (st == SB_ERR_NOT_FOUND) return true;
    if (st != SB_OK) return false;
    bool ok = true;
    if (count > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "at most %zu entries", max);
        h->config_error(ctx, key, msg);
        ok = false;
    }
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s[%zu]", key, i);
        const char *v = NULL;
        st = h->config_string(ctx, path, &v);
        if (st != SB_OK) {
            if (st == SB_ERR_NOT_FOUND) h->config_error(ctx, path, "expected a string");
            ok = false;
        } else if (!*v || strlen(v) > 256) {
            h->config_error(ctx, path, "expected 1..256 bytes");
            ok = false;
        } else if (*n < max) {
            out[(*n)++] = v;
        }
    }
    return ok;
}

static bool read_channels(const sb_host *h, sb_ctx *ctx, wc_config *c)
{
    size_t count = 0;
    sb_status st = h->config_count(ctx, "channels", &count);
    if (st == SB_ERR_NOT_FOUND) return true;
    if (st != SB_OK) return false;
    bool ok = true;
    if (count > WC_MAX_CHANNELS) {
        h->config_error(ctx, "channels", "at most 10 entries");
        ok = false;
    }
    for (size_t i = 0; i < count; i++) {
        char pk[48], pt[48], pu[48];
        snprintf(pk, sizeof pk, "channels[%zu].kind", i);
        snprintf(pt, sizeof pt, "channels[%zu].title", i);
        snprintf(pu, sizeof pu, "channels[%zu].url", i);
        wc_channel ch = {"", "", ""};
        sb_status a = h->config_string(ctx, pk, &ch.kind);
        sb_status b = h->config_string(ctx, pt, &ch.title);
        sb_status u = h->config_string(ctx, pu, &ch.url);
        if (bad(a) || bad(b) || bad(u)) {
            ok = false;
            continue;
        }
        if (!kind_ok(ch.kind)) {
            h->config_error(ctx, pk, "required: [a-z0-9_]{1,32}, e.g. telegram");
            ok = false;
        }
        if (!*ch.title || strlen(ch.title) > 64) {
            h->config_error(ctx, pt, "required: 1..64 bytes");
            ok = false;
        }
        /* Only the chat itself opens without a link. */
        if ((*ch.url || strcmp(ch.kind, "webchat") != 0) && !url_ok(ch.url)) {
            h->config_error(ctx, pu, "expected an https://, http://, viber://, tg://, "
                                     "whatsapp:// link or a /path, without quotes or spaces");
            ok = false;
        }
        if (i < WC_MAX_CHANNELS) c->channels[c->n_channels++] = ch;
    }
    return ok;
}

sb_status wc_config_read(const sb_host *h, sb_ctx *ctx, wc_config *c)
{
    memset(c, 0, sizeof *c);
    c->site_key = "";
    c->max_file = 5u << 20;
    c->position = "right";
    c->title = "";
    c->lang = "auto";
    c->history_max = 200;
    c->token_ttl_ms = 24u * 3600u * 1000u;
    bool ok = true;
    sb_status k = h->config_string(ctx, "site_key", &c->site_key);
    sb_status f = h->config_size(ctx, "max_file", &c->max_file);
    sb_status p = h->config_string(ctx, "position", &c->position);
    sb_status t = h->config_string(ctx, "title", &c->title);
    sb_status l = h->config_string(ctx, "lang", &c->lang);
    sb_status m = h->config_int(ctx, "history_max", &c->history_max);
    sb_status d = h->config_duration(ctx, "token_ttl", &c->token_ttl_ms);
    ok &= read_list(h, ctx, "allowed_origins", c->origins, WC_MAX_ORIGINS, &c->n_origins);
    ok &= read_list(h, ctx, "file_types", c->types, WC_MAX_TYPES, &c->n_types);
    ok &= read_channels(h, ctx, c);
    if (bad(k) || bad(f) || bad(p) || bad(t) || bad(l) || bad(m) || bad(d)) ok = false;
    size_t kl = strlen(c->site_key);
    if (k == SB_OK && (kl < 8 || kl > 128)) {
        h->config_error(ctx, "site_key", "expected 8..128 bytes");
        ok = false;
    } else if (k == SB_ERR_NOT_FOUND) {
        h->config_error(ctx, "site_key", "required: the key the site's widget presents");
        ok = false;
    }
    for (size_t i = 0; i < kl; i++)
        if (!((c->site_key[i] >= 'a' && c->site_key[i] <= 'z') ||
              (c->site_key[i] >= 'A' && c->site_key[i] <= 'Z') ||
              (c->site_key[i] >= '0' && c->site_key[i] <= '9') || strchr("-_.", c->site_key[i]))) {
            h->config_error(ctx, "site_key", "expected letters, digits, '-', '_', '.'");
            ok = false;
            break;
        }
    if (f == SB_OK && (c->max_file == 0 || c->max_file > (64u << 20))) {
        h->config_error(ctx, "max_file", "expected 1 byte .. 64MiB");
        ok = false;
    }
    if (p == SB_OK && strcmp(c->position, "right") != 0 && strcmp(c->position, "left") != 0) {
        h->config_error(ctx, "position", "expected right or left");
        ok = false;
    }
    if (t == SB_OK && strlen(c->title) > 128) {
        h->config_error(ctx, "title", "at most 128 bytes");
        ok = false;
    }
    if (l == SB_OK && strcmp(c->lang, "auto") != 0 && strcmp(c->lang, "ru") != 0 &&
        strcmp(c->lang, "en") != 0) {
        h->config_error(ctx, "lang", "expected auto, ru or en");
        ok = false;
    }
    if (m == SB_OK && (c->history_max < 1 || c->history_max > 1000)) {
        h->config_error(ctx, "history_max", "expected 1..1000");
        ok = false;
    }
    if (d == SB_OK && (c->token_ttl_ms < 60000 || c->token_ttl_ms > 30ull * 86400000)) {
        h->config_error(ctx, "token_ttl", "expected 1m..30d");
        ok = false;
    }
    for (size_t i = 0; i < c->n_types; i++)
        if (!strchr(c->types[i], '/')) {
            h->config_error(ctx, "file_types", "expected MIME types such as image/png");
            ok = false;
            break;
        }
    if (c->n_types == 0) {
        c->n_types = sizeof k_default_types / sizeof *k_default_types;
        memcpy(c->types, k_default_types, sizeof k_default_types);
    }
    return ok ? SB_OK : SB_ERR_INVALID;
}
