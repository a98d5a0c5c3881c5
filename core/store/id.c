#include "store/store.h"

#include <time.h>

/* 2024-01-01T00:00:00Z in Unix milliseconds. */
#define ID_EPOCH_MS INT64_C(1704067200000)
#define ID_NODE_BITS 10
#define ID_SEQ_BITS 12
#define ID_TIME_MASK ((UINT64_C(1) << 41) - 1)

static unsigned g_node;
static uint64_t g_last_ms; /* ms of the last id, since the epoch */
static uint32_t g_seq;     /* counter within g_last_ms */

sb_status sb_id_init(unsigned node_id)
{
    if (node_id >= (1u << ID_NODE_BITS)) return SB_ERR_INVALID;
    g_node = node_id;
    return SB_OK;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - ID_EPOCH_MS;
    return ms > 0 ? (uint64_t)ms : 0; /* a clock before 2024 is not trusted */
}

uint64_t sb_id_next(void)
{
    uint64_t ms = now_ms();
    if (ms > g_last_ms) {
        g_last_ms = ms;
        g_seq = 0;
    } else if (++g_seq >= (1u << ID_SEQ_BITS)) {
        /* Counter spent, or the clock stepped back: borrow the next ms so
         * ids keep rising; the real clock catches up. */
        g_last_ms++;
        g_seq = 0;
    }
    return ((g_last_ms & ID_TIME_MASK) << (ID_NODE_BITS + ID_SEQ_BITS)) |
           ((uint64_t)g_node << ID_SEQ_BITS) | g_seq;
}

char *sb_id_str(uint64_t id, char *buf)
{
    char tmp[21];
    int n = 0;
    do { tmp[n++] = (char)('0' + id % 10); id /= 10; } while (id);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

uint64_t sb_id_parse(const char *s)
{
    if (!s || !*s) return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    return v;
}
