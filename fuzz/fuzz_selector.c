/* libFuzzer target: track selector expressions and query strings over a
 * fixed set of tracks. The first byte picks the track type; the rest is
 * the expression, and the whole input is also tried as a query string.
 * A selection may only hold present tracks of the asked type, and a
 * rejected expression must leave the mask alone. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/selector.h"

static const struct track tracks[] = {
    {.type = TRACK_VIDEO,
     .codec = CODEC_H264,
     .width = 1280,
     .height = 720,
     .bitrate_bps = 3000000},
    {.type = TRACK_AUDIO, .codec = CODEC_AAC, .bitrate_bps = 128000, .lang = "eng"},
    {.type = TRACK_VIDEO, .codec = CODEC_H265, .width = 640, .height = 360, .bitrate_bps = 800000},
    {.type = TRACK_AUDIO, .codec = CODEC_OPUS, .bitrate_bps = 96000, .lang = "nl"},
    {.type = TRACK_META, .lang = "dut"},
};
#define NTRACKS 6 /* the last one is absent */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	const struct track *t[NTRACKS] = {&tracks[0], &tracks[1], &tracks[2],
					  &tracks[3], &tracks[4], NULL};
	char *q = malloc(size + 1); /* the whole input; s is past its first byte */
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = 0;
	const char *s = q + 1;
	enum track_type type = (enum track_type)(data[0] % 4);
	uint64_t allowed = 0;
	for (unsigned i = 0; i < NTRACKS; i++)
		if (t[i] && t[i]->type == type)
			allowed |= 1ull << i;
	uint64_t mask = 1ull << 63;
	int rc = selector_apply(s, type, t, NTRACKS, &mask);
	if ((rc != 0 && rc != -EINVAL) || (rc && mask != 1ull << 63) ||
	    (mask & ~(allowed | 1ull << 63)))
		abort();
	char err[64];
	mask = 1ull << 62;
	rc = selector_from_query(q, t, NTRACKS, &mask, err, sizeof(err));
	if ((rc != 0 && rc != -EINVAL) || (rc && mask != 1ull << 62) || (!rc && (mask >> 5)))
		abort();
	free(q);
	return 0;
}
