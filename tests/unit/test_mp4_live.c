/* Live fMP4 fragmenter (proto/http/mp4_live.c): lead-paced boundaries,
 * exact durations (video from dts differences, the last one from the next
 * frame; audio from sample counts), continuous decode times across
 * fragments, track_IDs in selection order, flush, jumps, stalled lead
 * tracks, config changes and sink errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/fmp4.h"
#include "proto/http/mp4_live.h"

/* avcC: High 3.0, 640x360 (as in test_fmp4.c). */
static const uint8_t avcc[] = {
    0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40,
    0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32,
    0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe0, 0xa4, 0xb2, 0x2c,
};
static const uint8_t asc_44k[] = {0x12, 0x08}; /* AAC-LC 44100 Hz mono */
static const uint8_t asc_48k[] = {0x11, 0x88}; /* AAC-LC 48000 Hz mono */

/* ---- a sink collecting fragments ---- */

#define MAX_FRAGS 256

struct frag {
	uint32_t track_id, seq, count;
	uint64_t base, total;
	uint32_t dur[512];
};

struct collect {
	struct bytes out;
	struct frag frags[MAX_FRAGS];
	unsigned n;
	int fail; /* close() returns this */
};

static void parse_frag(const uint8_t *p, size_t len, struct frag *fr)
{
	struct mp4_box moof, b;
	assert_int_equal(mp4_box_read(p, len, &moof), 0);
	assert_int_equal(moof.type, FOURCC('m', 'o', 'o', 'f'));
	assert_int_equal(mp4_box_find(moof.payload, moof.payload_len, "mfhd", &b), 0);
	fr->seq = rd_be32(b.payload + 4);
	assert_int_equal(mp4_box_find(moof.payload, moof.payload_len, "traf/tfhd", &b), 0);
	fr->track_id = rd_be32(b.payload + 4);
	assert_int_equal(mp4_box_find(moof.payload, moof.payload_len, "traf/tfdt", &b), 0);
	fr->base = (uint64_t)rd_be32(b.payload + 4) << 32 | rd_be32(b.payload + 8);
	assert_int_equal(mp4_box_find(moof.payload, moof.payload_len, "traf/trun", &b), 0);
	uint32_t flags = rd_be24(b.payload + 1);
	fr->count = rd_be32(b.payload + 4);
	assert_true(fr->count <= 512);
	size_t pos = 12 + ((flags & 0x4) ? 4 : 0);
	size_t per = 8 + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
	assert_true(flags & 0x100); /* durations present */
	fr->total = 0;
	for (uint32_t i = 0; i < fr->count; i++) {
		fr->dur[i] = rd_be32(b.payload + pos + i * per);
		fr->total += fr->dur[i];
	}
	struct mp4_box mdat;
	assert_int_equal(mp4_box_read(p + moof.size, len - moof.size, &mdat), 0);
	assert_int_equal(mdat.type, FOURCC('m', 'd', 'a', 't'));
	assert_int_equal(moof.size + mdat.size, len); /* one fragment exactly */
}

static struct bytes *c_open(void *arg)
{
	return &((struct collect *)arg)->out;
}

static int c_close(void *arg, size_t start)
{
	struct collect *c = arg;
	if (c->fail)
		return c->fail;
	assert_true(c->n < MAX_FRAGS);
	parse_frag(c->out.data + start, c->out.len - start, &c->frags[c->n++]);
	return 0;
}

static struct mp4_live_sink sink_of(struct collect *c)
{
	return (struct mp4_live_sink){.open = c_open, .close = c_close, .arg = c};
}

/* ---- tracks and frames ---- */

static void make_track(struct track *t, enum codec c, const void *cfg, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->type = codec_type(c);
	t->codec = c;
	t->config = cfg ? wbuf_from(cfg, len) : NULL;
	if (c == CODEC_AAC)
		t->rate = 44100;
}

static int push(struct mp4_live *m, const struct mp4_live_sink *s, unsigned track, int64_t dts,
		bool key)
{
	static const uint8_t payload[16] = {0, 0, 0, 12, 0x65};
	struct frame *f = frame_new(track, dts, dts, key ? FRAME_KEY : 0, payload, sizeof(payload));
	assert_non_null(f);
	int rc = mp4_live_push(m, f, s);
	frame_unref(f);
	return rc;
}

/* Video at 30 fps with FLV-style ms timestamps (33/34/33 ms) on stream
 * track 3, AAC (1024 samples at 44.1 kHz) on stream track 5, interleaved
 * by dts, for `ms` milliseconds from start_ms. */
static void feed_av(struct mp4_live *m, const struct mp4_live_sink *s, int64_t start_ms, int ms)
{
	int64_t v = start_ms, a_samples = 0;
	unsigned vi = 0;
	while (v < start_ms + ms) {
		int64_t a_ms = start_ms + a_samples * 1000 / 44100;
		if (a_ms < v) {
			assert_int_equal(push(m, s, 5, a_ms * 1000, true), 0);
			a_samples += 1024;
			continue;
		}
		assert_int_equal(push(m, s, 3, v * 1000, vi % 60 == 0), 0);
		v += (vi % 3 == 1) ? 34 : 33;
		vi++;
	}
}

static struct mp4_live *new_av(bool from_zero, struct track *vt, struct track *at)
{
	make_track(vt, CODEC_H264, avcc, sizeof(avcc));
	make_track(at, CODEC_AAC, asc_44k, sizeof(asc_44k));
	const struct track *tr[2] = {vt, at};
	unsigned idx[2] = {3, 5};
	struct mp4_live_opts o = {.from_zero = from_zero};
	struct mp4_live *m;
	assert_int_equal(mp4_live_new(&m, tr, idx, 2, &o), 0);
	return m;
}

/* ---- tests ---- */

static void test_args(void **state)
{
	struct track t;
	make_track(&t, CODEC_H264, avcc, sizeof(avcc));
	const struct track *tr[1] = {&t}, *none[1] = {NULL};
	unsigned idx[1] = {0};
	struct mp4_live *m;
	assert_int_equal(mp4_live_new(&m, tr, idx, 0, NULL), -EINVAL);
	assert_int_equal(mp4_live_new(&m, tr, idx, MP4_LIVE_MAX_TRACKS + 1, NULL), -EINVAL);
	assert_int_equal(mp4_live_new(&m, none, idx, 1, NULL), -EINVAL);
	assert_null(m);
	assert_int_equal(mp4_live_new(&m, tr, idx, 1, NULL), 0);
	assert_int_equal(mp4_live_track_count(m), 1);
	mp4_live_free(m);
	mp4_live_free(NULL);
	track_clear(&t);
}

static void test_init_two_tracks(void **state)
{
	struct track vt, at;
	struct mp4_live *m = new_av(true, &vt, &at);
	struct bytes b = {0};
	assert_int_equal(mp4_live_init(m, &b), 0);
	struct mp4_box box;
	assert_int_equal(mp4_box_read(b.data, b.len, &box), 0);
	assert_int_equal(box.type, FOURCC('f', 't', 'y', 'p'));
	assert_int_equal(mp4_box_find(b.data, b.len, "moov/trak", &box), 0);
	/* track_IDs 1 and 2 in selection order, stream indices kept apart */
	assert_int_equal(mp4_live_track_index(m, 0), 3);
	assert_int_equal(mp4_live_track_index(m, 1), 5);
	unsigned traks = 0;
	struct mp4_box moov;
	assert_int_equal(mp4_box_find(b.data, b.len, "moov", &moov), 0);
	const uint8_t *p = moov.payload;
	size_t len = moov.payload_len;
	while (len) {
		assert_int_equal(mp4_box_read(p, len, &box), 0);
		if (box.type == FOURCC('t', 'r', 'a', 'k')) {
			struct mp4_box tkhd;
			assert_int_equal(mp4_box_find(box.payload, box.payload_len, "tkhd", &tkhd),
					 0);
			uint32_t id = rd_be32(tkhd.payload + (tkhd.payload[0] == 1 ? 20 : 12));
			assert_int_equal(id, ++traks);
		}
		p += box.size;
		len -= (size_t)box.size;
	}
	assert_int_equal(traks, 2);
	bytes_free(&b);
	mp4_live_free(m);
	track_clear(&vt);
	track_clear(&at);
}

/* Fragments of one track id, in order. */
static unsigned of_track(const struct collect *c, uint32_t id, const struct frag **out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->n; i++)
		if (c->frags[i].track_id == id)
			out[n++] = &c->frags[i];
	return n;
}

static void test_av_fragments(void **state)
{
	struct track vt, at;
	struct mp4_live *m = new_av(true, &vt, &at);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	feed_av(m, &s, 10000, 3000); /* starts at 10 s: from_zero shifts it */
	const struct frag *v[MAX_FRAGS], *a[MAX_FRAGS];
	unsigned nv = of_track(&c, 1, v), na = of_track(&c, 2, a);
	assert_true(nv >= 5 && nv <= 6);
	assert_true(na >= 5 && na <= 6);
	assert_int_equal(v[0]->base, 0);
	for (unsigned i = 0; i < c.n; i++)
		assert_int_equal(c.frags[i].seq, i + 1);
	for (unsigned i = 0; i < nv; i++) {
		/* ~0.5 s each: 15 frames of 33/34 ms */
		assert_int_equal(v[i]->count, 15);
		assert_true(v[i]->total >= 44910 && v[i]->total <= 45090);
		for (unsigned k = 0; k < v[i]->count; k++)
			assert_true(v[i]->dur[k] == 2970 || v[i]->dur[k] == 3060);
		if (i)
			assert_int_equal(v[i]->base, v[i - 1]->base + v[i - 1]->total);
	}
	for (unsigned i = 0; i < na; i++) {
		for (unsigned k = 0; k < a[i]->count; k++)
			assert_int_equal(a[i]->dur[k], 1024);
		if (i)
			assert_int_equal(a[i]->base, a[i - 1]->base + a[i - 1]->total);
	}
	/* audio never runs ahead of the video boundary it was cut at */
	assert_true(a[0]->total * 90000 / 44100 <= v[0]->total + 90000 / 40);
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&vt);
	track_clear(&at);
}

static void test_flush_and_stream_timeline(void **state)
{
	struct track vt, at;
	struct mp4_live *m = new_av(false, &vt, &at);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	feed_av(m, &s, 2000, 400); /* under one fragment: nothing yet */
	assert_int_equal(c.n, 0);
	assert_int_equal(mp4_live_current_us(m) / 1000, 2000 + 367);
	assert_int_equal(mp4_live_flush(m, &s), 0);
	const struct frag *v[MAX_FRAGS], *a[MAX_FRAGS];
	assert_int_equal(of_track(&c, 1, v), 1);
	assert_int_equal(of_track(&c, 2, a), 1);
	assert_int_equal(v[0]->base, 180000); /* the stream's timeline: 2 s */
	assert_int_equal(a[0]->base, 88200);
	assert_int_equal(v[0]->count, 12);
	/* the last frame, without a successor, repeats the one before */
	assert_int_equal(v[0]->dur[11], v[0]->dur[10]);
	unsigned before = c.n;
	assert_int_equal(mp4_live_flush(m, &s), 0);
	assert_int_equal(c.n, before); /* nothing left */
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&vt);
	track_clear(&at);
}

static void test_jump_uses_last_duration(void **state)
{
	struct track t;
	make_track(&t, CODEC_H264, avcc, sizeof(avcc));
	const struct track *tr[1] = {&t};
	unsigned idx[1] = {0};
	struct mp4_live *m;
	assert_int_equal(mp4_live_new(&m, tr, idx, 1, NULL), 0);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	for (int i = 0; i < 5; i++)
		assert_int_equal(push(m, &s, 0, i * 40000, i == 0), 0);
	assert_int_equal(push(m, &s, 0, 60000000, true), 0); /* +60 s */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.frags[0].count, 5);
	assert_int_equal(c.frags[0].dur[4], 3600); /* not 60 s */
	assert_int_equal(push(m, &s, 0, 60040000, false), 0);
	assert_int_equal(mp4_live_flush(m, &s), 0);
	assert_int_equal(c.frags[1].base, 5400000); /* follows the timestamps again */
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&t);
}

static void test_audio_only_and_stalled_lead(void **state)
{
	struct track at;
	make_track(&at, CODEC_AAC, asc_44k, sizeof(asc_44k));
	const struct track *tr[1] = {&at};
	unsigned idx[1] = {1};
	struct mp4_live *m;
	assert_int_equal(mp4_live_new(&m, tr, idx, 1, NULL), 0);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	for (int i = 0; i < 100; i++) /* 2.3 s */
		assert_int_equal(push(m, &s, 1, (int64_t)i * 1024 * 1000000 / 44100, true), 0);
	assert_int_equal(c.n, 4); /* a fragment per 22 frames (>= 0.5 s) */
	assert_int_equal(c.frags[0].count, 22);
	mp4_live_free(m);
	bytes_free(&c.out);

	/* video lead stops: audio goes out alone after four fragment lengths */
	struct track vt;
	track_clear(&at);
	m = new_av(true, &vt, &at);
	memset(&c, 0, sizeof(c));
	s = sink_of(&c);
	assert_int_equal(push(m, &s, 3, 0, true), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(push(m, &s, 5, (int64_t)i * 1024 * 1000000 / 44100, true), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.frags[0].track_id, 2);
	assert_int_equal(c.frags[0].count, 88); /* up to the first frame >= 2 s */
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&vt);
	track_clear(&at);
}

/* Audio from a TS input comes in PES bursts (here 17 AAC frames, ~0.4 s)
 * after the video it overlaps, so a reader starting at a keyframe first
 * gets audio from before it. That audio is skipped (it cannot be placed
 * before the file's 0), and the audio decode time never goes back. */
static void test_late_audio_bursts(void **state)
{
	struct track vt, at;
	struct mp4_live *m = new_av(true, &vt, &at);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	const int64_t start = 10000000, frame_us = 1024 * 1000000LL / 44100;
	int64_t a = start - 9 * frame_us; /* the first burst began 0.2 s early */
	for (int vi = 0; vi < 150; vi++) {
		int64_t v = start + vi * 40000;
		assert_int_equal(push(m, &s, 3, v, vi % 50 == 0), 0);
		/* a burst is sent once the video has passed its end by 0.1 s */
		while (a + 17 * frame_us + 100000 <= v) {
			for (int k = 0; k < 17; k++, a += frame_us)
				assert_int_equal(push(m, &s, 5, a, true), 0);
		}
	}
	assert_int_equal(mp4_live_flush(m, &s), 0);
	const struct frag *af[MAX_FRAGS];
	unsigned na = of_track(&c, 2, af);
	assert_true(na >= 8);
	/* starts with the first frame at or after the keyframe (the 10th) */
	int64_t first = start - 9 * frame_us + 9 * frame_us;
	assert_int_equal(af[0]->base, mp4_live_to_ts(first - start, 44100));
	for (unsigned i = 1; i < na; i++)
		assert_int_equal(af[i]->base, af[i - 1]->base + af[i - 1]->total);
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&vt);
	track_clear(&at);
}

static void test_config_change_and_errors(void **state)
{
	struct track vt, at, at48;
	struct mp4_live *m = new_av(true, &vt, &at);
	static struct collect c;
	memset(&c, 0, sizeof(c));
	struct mp4_live_sink s = sink_of(&c);
	feed_av(m, &s, 0, 300);
	assert_int_equal(mp4_live_flush(m, &s), 0);
	make_track(&at48, CODEC_AAC, asc_48k, sizeof(asc_48k));
	at48.rate = 48000;
	assert_int_equal(mp4_live_set_track(m, 1, &at48), 0);
	assert_int_equal(mp4_live_set_track(m, 2, &at48), -EINVAL);
	unsigned before = c.n;
	for (int i = 0; i < 30; i++)
		assert_int_equal(push(m, &s, 5, 300000 + (int64_t)i * 21333, true), 0);
	assert_int_equal(push(m, &s, 3, 300000, false), 0);
	assert_int_equal(mp4_live_flush(m, &s), 0);
	const struct frag *a = NULL;
	for (unsigned i = before; i < c.n; i++)
		if (c.frags[i].track_id == 2)
			a = &c.frags[i];
	assert_non_null(a);
	assert_int_equal(a->base, 14400); /* re-anchored on the 48 kHz clock: 0.3 s */
	/* a sink error stops the push and is passed on */
	c.fail = -EPIPE;
	int rc = 0;
	for (int i = 0; i < 40 && !rc; i++)
		rc = push(m, &s, 3, 400000 + i * 33000, false);
	assert_int_equal(rc, -EPIPE);
	mp4_live_free(m);
	bytes_free(&c.out);
	track_clear(&vt);
	track_clear(&at);
	track_clear(&at48);
}

static void test_to_ts(void **state)
{
	assert_int_equal(mp4_live_to_ts(33000, 90000), 2970);
	assert_int_equal(mp4_live_to_ts(1000000, 44100), 44100);
	assert_int_equal(mp4_live_to_ts(11, 90000), 1); /* 0.99 rounds up */
	assert_int_equal(mp4_live_to_ts(-11, 90000), -1);
	assert_int_equal(mp4_live_to_ts(INT64_MAX / 100000, 90000), (INT64_MAX / 100000) * 9 / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_init_two_tracks),
	    cmocka_unit_test(test_av_fragments),
	    cmocka_unit_test(test_flush_and_stream_timeline),
	    cmocka_unit_test(test_jump_uses_last_duration),
	    cmocka_unit_test(test_audio_only_and_stalled_lead),
	    cmocka_unit_test(test_late_audio_bursts),
	    cmocka_unit_test(test_config_change_and_errors),
	    cmocka_unit_test(test_to_ts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
