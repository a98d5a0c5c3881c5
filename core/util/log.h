/* Structured log lines on stderr:
 *   2026-11-23T10:00:00.123Z level=info module=store plugin=telegram/bot1 msg="..."
 * Thread: any (one write(2) per line). Secrets must never be passed in. */
#ifndef SB_LOG_H
#define SB_LOG_H
#include <stdarg.h>
#include <switchboard/plugin.h>

/* Lines above this level are dropped. Default SB_LOG_INFO. */
void sb_log_set_level(sb_log_level level);
sb_log_level sb_log_get_level(void);
/* "error"|"warn"|"info"|"debug" -> level; -1 when unknown. */
int sb_log_level_parse(const char *s);

/* module: "store", "http", "host"...; instance: "plugin/instance" or NULL. */
void sb_log(sb_log_level level, const char *module, const char *instance,
            const char *fmt, ...) SB_PRINTF(4, 5);
void sb_vlog(sb_log_level level, const char *module, const char *instance,
             const char *fmt, va_list ap);

#define sb_error(mod, ...) sb_log(SB_LOG_ERROR, mod, NULL, __VA_ARGS__)
#define sb_warn(mod, ...) sb_log(SB_LOG_WARN, mod, NULL, __VA_ARGS__)
#define sb_info(mod, ...) sb_log(SB_LOG_INFO, mod, NULL, __VA_ARGS__)
#define sb_debug(mod, ...) sb_log(SB_LOG_DEBUG, mod, NULL, __VA_ARGS__)
#endif
