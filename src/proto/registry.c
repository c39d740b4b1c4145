/* The driver registry: one line per protocol. */
#include "proto/registry.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

extern const struct driver http_driver;
extern const struct driver rtmp_driver;
extern const struct driver flv_driver;
extern const struct driver mp4_driver;
extern const struct driver mp4ws_driver;
extern const struct driver httpts_driver;
extern const struct driver aac_driver;
extern const struct driver mp3_driver;
extern const struct driver push_input_driver;
extern const struct driver hls_driver;
extern const struct driver cmaf_driver;
extern const struct driver dash_driver;
extern const struct driver player_driver;
extern const struct driver srt_listener_driver;
extern const struct driver srt_input_driver;
extern const struct driver srt_push_driver;
extern const struct driver tsudp_input_driver;
extern const struct driver tsudp_push_driver;
extern const struct driver tsrtp_input_driver;
extern const struct driver tsrtp_push_driver;
extern const struct driver ts_listener_driver;
extern const struct driver tstcp_push_driver;
extern const struct driver rist_input_driver;
extern const struct driver rist_push_driver;

/* clang-format off */
const struct driver *const driver_registry[] = {
	&http_driver,
	&rtmp_driver,
	&flv_driver,
	&hls_driver,
	&cmaf_driver,
	&dash_driver,
	&player_driver,
	/* suffix routes (*.ts, *.mp4): after the prefix routes of HLS/CMAF */
	&mp4_driver,
	&mp4ws_driver,
	&httpts_driver,
	&aac_driver,
	&mp3_driver,
	&push_input_driver,
	&srt_listener_driver,
	&srt_input_driver,
	&srt_push_driver,
	&tsudp_input_driver,
	&tsudp_push_driver,
	&tsrtp_input_driver,
	&tsrtp_push_driver,
	&ts_listener_driver,
	&tstcp_push_driver,
	&rist_input_driver,
	&rist_push_driver,
	NULL,
};
/* clang-format on */

const struct driver *driver_find(const char *name, enum driver_kind kind)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->kind == kind && !strcasecmp((*d)->name, name))
			return *d;
	return NULL;
}

void driver_shutdown_all(void)
{
	for (const struct driver *const *d = driver_registry; *d; d++)
		if ((*d)->shutdown)
			(*d)->shutdown();
}

/* Glob with '*' matching any run of characters. */
static bool glob_match(const char *pat, const char *s)
{
	if (!*pat)
		return !*s;
	if (*pat == '*')
		return glob_match(pat + 1, s) || (*s && glob_match(pat, s + 1));
	return *s && (*pat == *s) && glob_match(pat + 1, s + 1);
}

const struct driver *driver_for_url(const char *url, enum driver_kind kind)
{
	const struct driver *best = NULL;
	for (const struct driver *const *d = driver_registry; *d; d++) {
		if ((*d)->kind != kind || !(*d)->patterns)
			continue;
		if (kind == DRIVER_INPUT && !(*d)->input_start)
			continue;
		if (kind == DRIVER_OUTPUT && !(*d)->push_start)
			continue;
		for (const char *const *p = (*d)->patterns; *p; p++)
			if (glob_match(*p, url) && (!best || (*d)->priority > best->priority))
				best = *d;
	}
	return best;
}

#define MAX_PORTS 32
static struct {
	char name[16];
	int port;
} ports[MAX_PORTS];

void listener_note_port(const char *name, int port)
{
	int free_slot = -1;
	for (int i = 0; i < MAX_PORTS; i++) {
		if (!strcasecmp(ports[i].name, name)) {
			ports[i].port = port;
			return;
		}
		if (free_slot < 0 && !ports[i].name[0])
			free_slot = i;
	}
	if (free_slot >= 0 && port) {
		strncpy(ports[free_slot].name, name, sizeof(ports[0].name) - 1);
		ports[free_slot].port = port;
	}
}

int listener_port(const char *name)
{
	for (int i = 0; i < MAX_PORTS; i++)
		if (!strcasecmp(ports[i].name, name))
			return ports[i].port;
	return 0;
}
