/* Login attempt limits: at most `max` attempts per key in a sliding window
 * of `window_ms` (two fixed half-windows). Keys are "login:<name>" and
 * "addr:<ip>". Memory is bounded: the table holds SB_RL_SLOTS keys and a
 * full table forgets the stalest key.
 *
 * Thread: loop thread only. */
#ifndef SB_RATELIMIT_H
#define SB_RATELIMIT_H
#include <stdbool.h>
#include <stdint.h>

#define SB_RL_SLOTS 4096

typedef struct sb_rl_slot {
    uint64_t hash;       /* 0 = free */
    int64_t window_start;
    uint32_t prev, cur;  /* attempts in the previous and current window */
} sb_rl_slot;

typedef struct sb_ratelimit {
    sb_rl_slot slots[SB_RL_SLOTS];
    uint32_t max;
    int64_t window_ms;
} sb_ratelimit;

void sb_rl_init(sb_ratelimit *rl, uint32_t max, int64_t window_ms);
/* Counts one attempt for key; false when the key is over its limit (the
 * attempt is then not counted). */
bool sb_rl_hit(sb_ratelimit *rl, const char *key, int64_t now_ms);
/* Forgets a key (after a successful login). */
void sb_rl_reset(sb_ratelimit *rl, const char *key);
#endif
