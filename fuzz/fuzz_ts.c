/* libFuzzer target: the MPEG-TS demuxer, fed in chunks (the first byte
 * sets the chunk size, 0 = all at once). Every track and frame it
 * produces goes through the TS muxer, whose output must demux again
 * without a continuity error or a lost sync. */
#include <stdint.h>
#include <stdlib.h>

#include "format/ts.h"

struct fuzz_ctx {
	struct ts_mux *m;
	struct bytes out;
	int mux_errors;
};

static int on_track(void *ctx, unsigned idx, const struct track *t)
{
	struct fuzz_ctx *c = ctx;
	if (idx >= TS_MAX_TRACKS || t->codec == CODEC_NONE)
		abort();
	if (ts_mux_update_track(c->m, idx, t) == 0)
		ts_mux_psi(c->m, &c->out);
	return 0;
}

static int on_frame(void *ctx, struct frame *f)
{
	struct fuzz_ctx *c = ctx;
	if (f->track >= TS_MAX_TRACKS)
		abort();
	if (ts_mux_frame(c->m, f, &c->out) < 0)
		c->mux_errors++;
	if (c->out.len % TS_PACKET)
		abort();
	frame_unref(f);
	return 0;
}

static int drop_frame(void *ctx, struct frame *f)
{
	frame_unref(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = data[0] ? data[0] : size;
	data++;
	size--;
	const struct track *none[TS_MAX_TRACKS] = {0};
	struct fuzz_ctx c = {.m = ts_mux_new(none, TS_MAX_TRACKS, NULL)};
	struct ts_demux_cb cb = {.ctx = &c, .on_track = on_track, .on_frame = on_frame};
	struct ts_demux *d = ts_demux_new(&cb);
	if (!d || !c.m)
		abort();
	for (size_t i = 0; i < size; i += chunk)
		if (ts_demux_feed(d, data + i, size - i < chunk ? size - i : chunk))
			abort(); /* garbage is never an error */
	if (ts_demux_flush(d))
		abort();
	ts_demux_free(d);

	struct ts_demux_cb cb2 = {.on_frame = drop_frame};
	struct ts_demux *d2 = ts_demux_new(&cb2);
	if (ts_demux_feed(d2, c.out.data, c.out.len) || ts_demux_flush(d2))
		abort();
	struct ts_demux_stats st;
	ts_demux_get_stats(d2, &st);
	if (st.cc_errors || st.resyncs || st.packets != c.out.len / TS_PACKET)
		abort();
	ts_demux_free(d2);
	ts_mux_free(c.m);
	bytes_free(&c.out);
	return 0;
}
