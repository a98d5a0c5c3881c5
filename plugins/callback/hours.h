/* Business hours of the callback service: pure functions, no host. */
#ifndef CALLBACK_HOURS_H
#define CALLBACK_HOURS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cb_hours {
    int offset_min;    /* local time = UTC + offset */
    int open[7];       /* minute of the day, Monday first; -1 = closed */
    int close[7];      /* exclusive; up to 1440 */
    int slot_min;      /* length of one slot */
} cb_hours;

/* "09:00-18:00" -> minutes; false when malformed or not open < close. */
bool cb_hours_parse_range(const char *s, int *open, int *close);
/* "+03:00", "-05:30", "+3" -> minutes; false when malformed or beyond 14h. */
bool cb_hours_parse_offset(const char *s, int *minutes);
/* Whether `at_ms` (UTC) lies within the hours. */
bool cb_hours_open_at(const cb_hours *h, int64_t at_ms);
/* Whether `at_ms` is the start of a whole slot inside the hours. */
bool cb_hours_is_slot(const cb_hours *h, int64_t at_ms);
/* Slot starts after now_ms + lead_ms within `days` local days, at most
 * `max` of them into out; returns how many. */
int cb_hours_slots(const cb_hours *h, int64_t now_ms, int64_t lead_ms, int days, int64_t *out,
                   int max);
/* "Пн 07.12 10:00" (lang "ru") or "Mon 07.12 10:00" in local time. */
void cb_hours_label(const cb_hours *h, int64_t at_ms, const char *lang, char *out, int cap);

#endif
