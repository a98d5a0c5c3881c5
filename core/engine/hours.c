#include "engine/internal.h"

#include <stdio.h>
#include <string.h>

/* Business hours: {"utc_offset": "+03:00", "mon": "09:00-18:00", ...,
 * "sun": null}. A day absent or null is closed; "00:00-24:00" is all day;
 * a range past midnight ("22:00-06:00") is not supported (split it). */

static const char *const k_days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static bool hhmm(const char *s, int *min)
{
    int h, m;
    char tail;
    if (strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2) return false;
    if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m)) return false;
    *min = h * 60 + m;
    return true;
}

sb_status sb_eng_rt_hours_parse(json_t *h, rt_group *g, char *err, size_t errlen)
{
    g->has_hours = false;
    if (!h || json_is_null(h)) return SB_OK;
    if (!json_is_object(h)) return sb_eng_bad(err, errlen, "business_hours", "must be an object or null");
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        bool known = strcmp(k, "utc_offset") == 0;
        for (int d = 0; d < 7 && !known; d++) known = strcmp(k, k_days[d]) == 0;
        if (!known) return sb_eng_bad(err, errlen, "business_hours", "unknown member %s", k);
    }
    json_t *off = json_object_get(h, "utc_offset");
    int oh = 0, om = 0;
    char sign = '+', tail;
    if (off && (!json_is_string(off) || strlen(json_string_value(off)) != 6 ||
                sscanf(json_string_value(off), "%c%2d:%2d%c", &sign, &oh, &om, &tail) != 3 ||
                (sign != '+' && sign != '-') || oh > 14 || om > 59))
        return sb_eng_bad(err, errlen, "business_hours.utc_offset", "must look like +03:00");
    g->utc_off_min = (sign == '-' ? -1 : 1) * (oh * 60 + om);
    for (int d = 0; d < 7; d++) {
        json_t *r = json_object_get(h, k_days[d]);
        g->open_min[d] = g->close_min[d] = -1;
        if (!r || json_is_null(r)) continue;
        const char *s = json_is_string(r) ? json_string_value(r) : "";
        char a[6], b[6];
        int o, c;
        if (strlen(s) != 11 || s[5] != '-') goto bad;
        memcpy(a, s, 5); a[5] = '\0';
        memcpy(b, s + 6, 5); b[5] = '\0';
        if (!hhmm(a, &o) || !hhmm(b, &c) || o >= c) goto bad;
        g->open_min[d] = (int16_t)o;
        g->close_min[d] = (int16_t)c;
        continue;
    bad:
        return sb_eng_bad(err, errlen, "business_hours", "%s: must look like 09:00-18:00", k_days[d]);
    }
    g->has_hours = true;
    return SB_OK;
}

bool sb_eng_rt_open_at(const rt_group *g, int64_t now)
{
    if (!g->has_hours) return true;
    int64_t local = now / 60000 + g->utc_off_min; /* minutes since the epoch, local */
    int64_t day = local / 1440;
    int minute = (int)(local % 1440);
    int wd = (int)((day + 3) % 7); /* 1970-01-01 was a Thursday: 0 = Monday */
    return g->open_min[wd] >= 0 && minute >= g->open_min[wd] && minute < g->close_min[wd];
}
