#include "api/ratelimit.h"

#include <string.h>

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

void sb_rl_init(sb_ratelimit *rl, uint32_t max, int64_t window_ms)
{
    memset(rl->slots, 0, sizeof rl->slots);
    rl->max = max;
    rl->window_ms = window_ms;
}

/* Linear probing over a short run; past it the stalest slot is reused. */
static sb_rl_slot *slot_for(sb_ratelimit *rl, uint64_t h, bool create)
{
    sb_rl_slot *stalest = NULL;
    for (unsigned i = 0; i < 16; i++) {
        sb_rl_slot *s = &rl->slots[(h + i) % SB_RL_SLOTS];
        if (s->hash == h) return s;
        if (s->hash == 0) return create ? s : NULL;
        if (!stalest || s->window_start < stalest->window_start) stalest = s;
    }
    if (!create) return NULL;
    memset(stalest, 0, sizeof *stalest);
    return stalest;
}

bool sb_rl_hit(sb_ratelimit *rl, const char *key, int64_t now)
{
    uint64_t h = fnv1a(key);
    sb_rl_slot *s = slot_for(rl, h, true);
    if (s->hash != h) {
        s->hash = h;
        s->window_start = now;
        s->prev = s->cur = 0;
    }
    int64_t age = now - s->window_start;
    if (age >= 2 * rl->window_ms) {
        s->prev = s->cur = 0;
        s->window_start = now;
        age = 0;
    } else if (age >= rl->window_ms) {
        s->prev = s->cur;
        s->cur = 0;
        s->window_start += rl->window_ms;
        age -= rl->window_ms;
    }
    /* The previous window counts in proportion to how much of it overlaps. */
    double est = s->cur + s->prev * (double)(rl->window_ms - age) / (double)rl->window_ms;
    if (est >= rl->max) return false;
    s->cur++;
    return true;
}

void sb_rl_reset(sb_ratelimit *rl, const char *key)
{
    sb_rl_slot *s = slot_for(rl, fnv1a(key), false);
    if (s) memset(s, 0, sizeof *s);
}
