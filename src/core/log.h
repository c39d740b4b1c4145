/* Logging: MistServer's levels, one line per event on stderr, and a ring
 * of recent lines for the API's `log` command. Loop-thread only. */
#ifndef WEIR_CORE_LOG_H
#define WEIR_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_NONE = 0,
	LOG_FAIL = 1,
	LOG_ERROR = 2,
	LOG_WARN = 3,
	LOG_INFO = 4,
	LOG_MEDIUM = 5,
	LOG_HIGH = 6,
	LOG_VERYHIGH = 7,
	LOG_EXTREME = 8,
	LOG_INSANE = 9,
	LOG_DEVEL = 10,
};

/* Messages above this level are neither printed nor kept. Default LOG_INFO. */
extern int log_threshold;

/* Logs one line: "<time> <LEVEL> [<stream>] <message>". `stream` may be NULL.
 * Messages are cut at 1 KiB; newlines in them are replaced by spaces. */
void log_msg(int level, const char *stream, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_enabled(lvl) ((lvl) <= log_threshold)
#define LOGF(lvl, stream, ...)                                                                     \
	do {                                                                                       \
		if (log_enabled(lvl))                                                              \
			log_msg(lvl, stream, __VA_ARGS__);                                         \
	} while (0)
#define FAIL_MSG(...)  LOGF(LOG_FAIL, NULL, __VA_ARGS__)
#define ERROR_MSG(...) LOGF(LOG_ERROR, NULL, __VA_ARGS__)
#define WARN_MSG(...)  LOGF(LOG_WARN, NULL, __VA_ARGS__)
#define INFO_MSG(...)  LOGF(LOG_INFO, NULL, __VA_ARGS__)
#define DEBUG_MSG(...) LOGF(LOG_HIGH, NULL, __VA_ARGS__)

/* Name of a level as MistServer prints it ("FAIL", "ERROR", "WARN", "INFO", ...). */
const char *log_level_name(int level);

struct log_entry {
	int64_t time_s; /* unix seconds */
	int level;
	char stream[64];
	char msg[512];
};

/* Calls fn for each kept entry, oldest first (at most the last 512). */
void log_foreach(void (*fn)(const struct log_entry *e, void *arg), void *arg);

#endif
