/* Playlist and manifest writing from segmenter state (playlist.c). */
#ifndef WEIR_PROTO_HLS_PLAYLIST_H
#define WEIR_PROTO_HLS_PLAYLIST_H

#include <stdbool.h>

#include "core/bytes.h"
#include "proto/hls/seg.h"

struct pl_opts {
	bool ll;           /* Low-Latency HLS tags and parts */
	bool skip;         /* _HLS_skip=YES: delta update */
	const char *query; /* "" or "?llhls=0" appended to child URIs */
};

/* Whether the playlist already holds part `part` of segment msn (part -1:
 * the whole segment), i.e. a blocking reload can be answered. */
bool pl_ready(const struct seg_rend *r, uint64_t msn, int part);
int pl_media(const struct seg_rend *r, const struct pl_opts *o, struct bytes *out);
int pl_master(const struct segmenter *sg, const char *query, struct bytes *out);
/* DASH MPD for a CMAF segmenter; utc_uri for UTCTiming (may be NULL). */
int pl_mpd(struct segmenter *sg, const char *utc_uri, struct bytes *out);

#endif
