/* libFuzzer target: what an SRT peer or a config controls before any media
 * flows: the stream ID a caller sends (plain names and the #!:: access
 * control syntax) and srt:// URLs with their SRTO_* options.
 *
 * First byte even: the rest is a stream ID. Odd: the rest is the part of
 * an srt:// URL after the scheme. Either way the input is NUL-terminated
 * first (both come from C strings); a parse that succeeds must leave
 * NUL-terminated fields, and a URL must be freed cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/srt/wsrt.h"

static void check_str(const char *s, size_t cap)
{
	if (!memchr(s, 0, cap))
		abort();
}

static void run_streamid(const char *s)
{
	struct wsrt_streamid id;
	int reject = 0;
	char err[256];
	if (wsrt_streamid_parse(s, &id, &reject, err, sizeof(err)) == 0) {
		check_str(id.name, sizeof(id.name));
		check_str(id.user, sizeof(id.user));
		check_str(id.pass, sizeof(id.pass));
		if (!id.name[0])
			abort(); /* accepted without a resource name */
	} else {
		if (reject < 1000)
			abort(); /* a failure always carries an SRT_REJX_ code */
		check_str(err, sizeof(err));
	}
}

static void run_url(const char *s)
{
	static const char *const extra[] = {"streamid", NULL};
	char url[4200];
	snprintf(url, sizeof(url), "srt://%s", s);
	struct wsrt_url u;
	char err[256];
	if (wsrt_url_parse(url, extra, &u, err, sizeof(err)) == 0) {
		check_str(u.host, sizeof(u.host));
		check_str(u.extra, sizeof(u.extra));
		if (u.port < 0 || u.port > 65535)
			abort();
	}
	wsrt_url_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	if (data[0] & 1)
		run_url(s);
	else
		run_streamid(s);
	free(s);
	return 0;
}
