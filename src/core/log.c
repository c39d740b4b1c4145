#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define LOG_RING 512

int log_threshold = LOG_INFO;

static struct log_entry ring[LOG_RING];
static size_t ring_next; /* total entries ever written */

static const char *const names[] = {"NONE", "FAIL",     "ERROR",   "WARN",   "INFO", "MEDIUM",
				    "HIGH", "VERYHIGH", "EXTREME", "INSANE", "DEVEL"};

const char *log_level_name(int level)
{
	if (level < 0 || level > LOG_DEVEL)
		return "?";
	return names[level];
}

void log_msg(int level, const char *stream, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	if (stream && *stream)
		fprintf(stderr, "%s.%03d %s [%s] %s\n", ts, (int)(tv.tv_usec / 1000),
			log_level_name(level), stream, msg);
	else
		fprintf(stderr, "%s.%03d %s %s\n", ts, (int)(tv.tv_usec / 1000),
			log_level_name(level), msg);

	struct log_entry *e = &ring[ring_next++ % LOG_RING];
	e->time_s = tv.tv_sec;
	e->level = level;
	snprintf(e->stream, sizeof(e->stream), "%.63s", stream ? stream : "");
	snprintf(e->msg, sizeof(e->msg), "%.511s", msg);
}

void log_foreach(void (*fn)(const struct log_entry *e, void *arg), void *arg)
{
	size_t n = ring_next < LOG_RING ? ring_next : LOG_RING;
	for (size_t i = ring_next - n; i < ring_next; i++)
		fn(&ring[i % LOG_RING], arg);
}
