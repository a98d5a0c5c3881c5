/* Business-hours arithmetic in the service's local time (a fixed UTC
 * offset: the config names it, no tz database needed). */
#include "hours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static bool two_digits(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

static bool hhmm(const char *s, int *min)
{
    int h, m;
    if (!two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m) || m > 59) return false;
    *min = h * 60 + m;
    return *min <= 1440;
}

bool cb_hours_parse_range(const char *s, int *open, int *close)
{
    if (!s || strlen(s) != 11 || s[5] != '-') return false;
    return hhmm(s, open) && hhmm(s + 6, close) && *open < *close && *open < 1440;
}

bool cb_hours_parse_offset(const char *s, int *minutes)
{
    if (!s || (s[0] != '+' && s[0] != '-')) return false;
    int h = 0, m = 0;
    size_t n = strlen(s);
    if (n == 2 || n == 3) {
        char *end;
        long v = strtol(s + 1, &end, 10);
        if (*end || v > 14 || s[1] < '0' || s[1] > '9') return false;
        h = (int)v;
    } else if (!(n == 6 && two_digits(s + 1, &h) && s[3] == ':' && two_digits(s + 4, &m) &&
                 m < 60 && h <= 14)) {
        return false;
    }
    *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

/* Local day number and minute of the day; Monday = 0 (1970-01-01 was a
 * Thursday). */
static void local(const cb_hours *h, int64_t at_ms, int64_t *day, int *dow, int *minute,
                  int64_t *rem_ms)
{
    int64_t l = at_ms + (int64_t)h->offset_min * 60000;
    int64_t d = l >= 0 ? l / DAY_MS : -((-l + DAY_MS - 1) / DAY_MS);
    int64_t in = l - d * DAY_MS;
    *day = d;
    *dow = (int)(((d + 3) % 7 + 7) % 7);
    *minute = (int)(in / 60000);
    *rem_ms = in % 60000;
}

bool cb_hours_open_at(const cb_hours *h, int64_t at_ms)
{
    int64_t day, rem;
    int dow, minute;
    local(h, at_ms, &day, &dow, &minute, &rem);
    return h->open[dow] >= 0 && minute >= h->open[dow] && minute < h->close[dow];
}

bool cb_hours_is_slot(const cb_hours *h, int64_t at_ms)
{
    int64_t day, rem;
    int dow, minute;
    local(h, at_ms, &day, &dow, &minute, &rem);
    return rem == 0 && h->open[dow] >= 0 && minute >= h->open[dow] &&
           minute + h->slot_min <= h->close[dow] && (minute - h->open[dow]) % h->slot_min == 0;
}

int cb_hours_slots(const cb_hours *h, int64_t now_ms, int64_t lead_ms, int days, int64_t *out,
                   int max)
{
    int64_t day, rem;
    int dow, minute, n = 0;
    local(h, now_ms, &day, &dow, &minute, &rem);
    for (int d = 0; d < days && n < max; d++) {
        int wd = (dow + d) % 7;
        if (h->open[wd] < 0) continue;
        for (int m = h->open[wd]; m + h->slot_min <= h->close[wd] && n < max; m += h->slot_min) {
            int64_t at = (day + d) * DAY_MS + (int64_t)m * 60000 - (int64_t)h->offset_min * 60000;
            if (at > now_ms + lead_ms) out[n++] = at;
        }
    }
    return n;
}

void cb_hours_label(const cb_hours *h, int64_t at_ms, const char *lang, char *out, int cap)
{
    static const char *const ru[] = {"Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"};
    static const char *const en[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    int64_t day, rem;
    int dow, minute;
    local(h, at_ms, &day, &dow, &minute, &rem);
    /* Civil date from the day number (Howard Hinnant's days_from_civil inverse). */
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1), mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    snprintf(out, (size_t)cap, "%s %02d.%02d %02d:%02d",
             lang && strcmp(lang, "en") == 0 ? en[dow] : ru[dow], dd, mm, minute / 60, minute % 60);
}
