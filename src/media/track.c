#include "media/track.h"

#include <string.h>
#include <strings.h>

static const char *const names[CODEC_COUNT] = {
    [CODEC_NONE] = "",   [CODEC_H264] = "H264", [CODEC_H265] = "HEVC",
    [CODEC_AV1] = "AV1", [CODEC_VP8] = "VP8",   [CODEC_VP9] = "VP9",
    [CODEC_AAC] = "AAC", [CODEC_MP3] = "MP3",   [CODEC_OPUS] = "opus",
};

const char *codec_name(enum codec c)
{
	return (unsigned)c < CODEC_COUNT ? names[c] : "";
}

enum codec codec_from_name(const char *name)
{
	if (!name || !*name)
		return CODEC_NONE;
	for (int c = 1; c < CODEC_COUNT; c++)
		if (!strcasecmp(name, names[c]))
			return (enum codec)c;
	if (!strcasecmp(name, "H265"))
		return CODEC_H265;
	return CODEC_NONE;
}

enum track_type codec_type(enum codec c)
{
	switch (c) {
	case CODEC_H264:
	case CODEC_H265:
	case CODEC_AV1:
	case CODEC_VP8:
	case CODEC_VP9:
		return TRACK_VIDEO;
	case CODEC_AAC:
	case CODEC_MP3:
	case CODEC_OPUS:
		return TRACK_AUDIO;
	default:
		return TRACK_NONE;
	}
}

const char *track_type_name(enum track_type t)
{
	switch (t) {
	case TRACK_VIDEO:
		return "video";
	case TRACK_AUDIO:
		return "audio";
	case TRACK_META:
		return "meta";
	default:
		return "";
	}
}

void track_copy(struct track *dst, const struct track *src)
{
	*dst = *src;
	wbuf_ref(dst->config);
}

void track_clear(struct track *t)
{
	wbuf_unref(t->config);
	memset(t, 0, sizeof(*t));
}
