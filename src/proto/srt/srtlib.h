/* libsrt's headers, made safe to use next to core/log.h: <srt/srt.h>
 * pulls in <syslog.h>, whose LOG_* macros (LOG_INFO = 6) would silently
 * replace weir's log levels of the same names. Include this, never
 * <srt/srt.h> directly. */
#ifndef WEIR_PROTO_SRT_SRTLIB_H
#define WEIR_PROTO_SRT_SRTLIB_H

#include <srt/access_control.h>
#include <srt/srt.h>

#undef LOG_EMERG
#undef LOG_ALERT
#undef LOG_CRIT
#undef LOG_ERR
#undef LOG_WARNING
#undef LOG_NOTICE
#undef LOG_INFO
#undef LOG_DEBUG

/* syslog's LOG_ERR, the level libsrt logs from (srt_setloglevel). */
#define WSRT_SYSLOG_ERR 3

#endif
