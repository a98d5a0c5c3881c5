/* Literal values of the config: sizes, durations, booleans, integers. */
#include "config/config.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* Leading decimal digits of *s into *out; advances *s. -1 when there are
 * none or the number does not fit in 64 bits. */
static int parse_digits(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *s = p;
    *out = v;
    return 0;
}

typedef struct { const char *unit; uint64_t mul; } unit_mul;

/* `v` times the multiplier of `unit` (from table, "" included when listed). */
static int scale(uint64_t v, const char *unit, const unit_mul *table, size_t n,
                 uint64_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(unit, table[i].unit) != 0) continue;
        if (v > UINT64_MAX / table[i].mul) return -1;
        *out = v * table[i].mul;
        return 0;
    }
    return -1;
}

int sb_parse_size(const char *s, uint64_t *out)
{
    static const unit_mul units[] = {
        {"", 1}, {"B", 1},
        {"KB", 1000ULL}, {"MB", 1000ULL * 1000}, {"GB", 1000ULL * 1000 * 1000},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
        {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40},
    };
    uint64_t v;
    if (!s || parse_digits(&s, &v) != 0) return -1;
    return scale(v, s, units, sizeof units / sizeof units[0], out);
}

int sb_parse_duration(const char *s, uint64_t *out_ms)
{
    static const unit_mul units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60ULL * 1000}, {"h", 3600ULL * 1000},
        {"d", 86400ULL * 1000},
    };
    uint64_t v;
    if (!s || parse_digits(&s, &v) != 0) return -1;
    /* A bare number is ambiguous (ms? s?) except zero, which is zero in any unit. */
    if (*s == '\0' && v == 0) { *out_ms = 0; return 0; }
    return scale(v, s, units, sizeof units / sizeof units[0], out_ms);
}

int sb_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (!s) return -1;
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return 0; }
    }
    return -1;
}

int sb_parse_int(const char *s, int64_t *out)
{
    if (!s) return -1;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    uint64_t v;
    if (parse_digits(&s, &v) != 0 || *s != '\0') return -1;
    /* The magnitude may reach 2^63 only when negative (INT64_MIN). */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (v > limit) return -1;
    *out = neg ? (v == limit ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

int sb_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    if (!s || hostlen < SB_LISTEN_HOST_MAX) return -1;
    const char *h = s, *p;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        p = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) return -1;
        hl = (size_t)(colon - s);
        p = colon + 1;
        for (size_t i = 0; i < hl; i++)
            if (!host_char(s[i])) return -1;
    }
    if (hl == 0 || hl >= SB_LISTEN_HOST_MAX) return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct in6_addr a6;
    if (s[0] == '[' && inet_pton(AF_INET6, host, &a6) != 1) return -1;
    if (!*p || strspn(p, "0123456789") != strlen(p)) return -1;
    uint64_t v;
    if (parse_digits(&p, &v) != 0 || v > 65535) return -2;
    *port = (uint16_t)v;
    return 0;
}
