/* HLS playlist writers: whole playlists compared against golden text (TS
 * live, fMP4 VOD with discontinuities and init changes, Low-Latency with
 * parts/preload hint/rendition reports, delta updates, master), the
 * target duration and number formatting rules, and every -EINVAL case of
 * the contract (with the output buffer left untouched). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/m3u8.h"

/* Writes m and compares the whole output with want. */
static void media_is(const struct m3u8_media *m, const char *want)
{
	struct bytes b = {0};
	assert_int_equal(m3u8_write_media(m, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal((const char *)b.data, want);
	bytes_free(&b);
}

/* Expects rc and an output buffer left exactly as it was ("keep"). */
static void media_fails(const struct m3u8_media *m, int rc)
{
	struct bytes b = {0};
	assert_int_equal(bytes_printf(&b, "keep"), 0);
	assert_int_equal(m3u8_write_media(m, &b), rc);
	assert_int_equal(b.len, 4);
	assert_string_equal((const char *)b.data, "keep");
	bytes_free(&b);
}

static void test_ts_live(void **state)
{
	(void)state;
	const struct m3u8_segment segs[] = {
	    {.msn = 10, .dur_us = 2000000, .uri = "10.ts"},
	    {.msn = 11, .dur_us = 2400000, .uri = "11.ts"}, /* rounds to 2: target stays 2 */
	    {.msn = 12, .dur_us = 1899999, .uri = "12.ts?tkn=a&b=c"},
	};
	const struct m3u8_media m = {
	    .version = 3, .target_us = 2000000, .first_msn = 10, .segs = segs, .nsegs = 3};
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:3\n"
		     "#EXT-X-TARGETDURATION:2\n"
		     "#EXT-X-MEDIA-SEQUENCE:10\n"
		     "#EXTINF:2.000,\n"
		     "10.ts\n"
		     "#EXTINF:2.400,\n"
		     "11.ts\n"
		     "#EXTINF:1.900,\n"
		     "12.ts?tkn=a&b=c\n");
}

static void test_target_duration(void **state)
{
	(void)state;
	struct m3u8_segment seg = {.msn = 0, .dur_us = 1000000, .uri = "0.ts"};
	struct m3u8_media m = {.version = 3, .target_us = 1900000, .segs = &seg, .nsegs = 1};
	const char *head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
			   "#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:%s,\n0.ts\n";
	char want[256];
	/* ceil of the configured target */
	snprintf(want, sizeof(want), head, 2, "1.000");
	media_is(&m, want);
	m.target_us = 2000001;
	snprintf(want, sizeof(want), head, 3, "1.000");
	media_is(&m, want);
	/* a longer segment raises it: 2.5 s rounds to 3 */
	m.target_us = 2000000;
	seg.dur_us = 2500000;
	snprintf(want, sizeof(want), head, 3, "2.500");
	media_is(&m, want);
	/* 2.4995 s is written 2.500, so it must count as 3 too */
	seg.dur_us = 2499500;
	media_is(&m, want);
	/* just below: 2.499 -> 2 */
	seg.dur_us = 2499499;
	snprintf(want, sizeof(want), head, 2, "2.499");
	media_is(&m, want);
	/* long segments and big numbers */
	seg.dur_us = 12345678901;
	snprintf(want, sizeof(want), head, 12346, "12345.679");
	media_is(&m, want);
}

static void test_empty(void **state)
{
	(void)state;
	const struct m3u8_media m = {.version = 6, .target_us = 4000000, .first_msn = 7};
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:6\n"
		     "#EXT-X-TARGETDURATION:4\n"
		     "#EXT-X-MEDIA-SEQUENCE:7\n");
	const struct m3u8_media ended = {.version = 6, .target_us = 4000000, .ended = true};
	media_is(&ended, "#EXTM3U\n"
			 "#EXT-X-VERSION:6\n"
			 "#EXT-X-TARGETDURATION:4\n"
			 "#EXT-X-MEDIA-SEQUENCE:0\n"
			 "#EXT-X-ENDLIST\n");
}

static void test_fmp4_vod(void **state)
{
	(void)state;
	const struct m3u8_segment segs[] = {
	    {.msn = 100,
	     .dur_us = 4000000,
	     .pdt_ms = 1795907400123,
	     .map_uri = "init1.mp4",
	     .uri = "100.m4s"},
	    /* same init repeated by the caller: not written again */
	    {.msn = 101,
	     .dur_us = 3966667,
	     .pdt_ms = 1795907404123,
	     .map_uri = "init1.mp4",
	     .uri = "101.m4s"},
	    {.msn = 102,
	     .dur_us = 500,
	     .pdt_ms = 951782400005,
	     .discontinuity = true,
	     .map_uri = "init2.mp4",
	     .uri = "102.m4s"},
	    {.msn = 103, .dur_us = 499, .pdt_ms = 2147483648000, .uri = "103.m4s"},
	};
	const struct m3u8_media m = {.version = 6,
				     .target_us = 4000000,
				     .first_msn = 100,
				     .disc_seq = 3,
				     .independent_segments = true,
				     .segs = segs,
				     .nsegs = 4,
				     .ended = true};
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:6\n"
		     "#EXT-X-TARGETDURATION:4\n"
		     "#EXT-X-MEDIA-SEQUENCE:100\n"
		     "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
		     "#EXT-X-INDEPENDENT-SEGMENTS\n"
		     "#EXT-X-MAP:URI=\"init1.mp4\"\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:00.123Z\n"
		     "#EXTINF:4.000,\n"
		     "100.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:04.123Z\n"
		     "#EXTINF:3.967,\n"
		     "101.m4s\n"
		     "#EXT-X-DISCONTINUITY\n"
		     "#EXT-X-MAP:URI=\"init2.mp4\"\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2000-02-29T00:00:00.005Z\n"
		     "#EXTINF:0.001,\n"
		     "102.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2038-01-19T03:14:08.000Z\n"
		     "#EXTINF:0.000,\n"
		     "103.m4s\n"
		     "#EXT-X-ENDLIST\n");
}

/* Three full segments of 2 s with 0.5 s parts on the last two, a fourth in
 * progress, as an LL-HLS server lists them. */
static const struct m3u8_part parts_21[] = {
    {.dur_us = 500000, .independent = true, .uri = "21.0.m4s"},
    {.dur_us = 500000, .uri = "21.1.m4s"},
    {.dur_us = 500000, .uri = "21.2.m4s"},
    {.dur_us = 500000, .uri = "21.3.m4s"},
};
static const struct m3u8_part parts_22[] = {
    {.dur_us = 500000, .independent = true, .uri = "22.0.m4s"},
    {.dur_us = 500000, .uri = "22.1.m4s"},
    {.dur_us = 500000, .uri = "22.2.m4s"},
    {.dur_us = 466667, .independent = true, .uri = "22.3.m4s"},
};
static const struct m3u8_part parts_23[] = {
    {.dur_us = 500000, .independent = true, .uri = "23.0.m4s"},
};

static struct m3u8_media ll_media(struct m3u8_segment *segs)
{
	const struct m3u8_segment init[] = {
	    {.msn = 20,
	     .dur_us = 2000000,
	     .pdt_ms = 1795907400000,
	     .map_uri = "init.mp4",
	     .uri = "20.m4s"},
	    {.msn = 21,
	     .dur_us = 2000000,
	     .pdt_ms = 1795907402000,
	     .uri = "21.m4s",
	     .parts = parts_21,
	     .nparts = 4},
	    {.msn = 22,
	     .dur_us = 1966667,
	     .pdt_ms = 1795907404000,
	     .uri = "22.m4s",
	     .parts = parts_22,
	     .nparts = 4},
	    {.msn = 23, .pdt_ms = 1795907405967, .parts = parts_23, .nparts = 1},
	};
	memcpy(segs, init, sizeof(init));
	static const struct m3u8_report reports[] = {
	    {.uri = "../audio/index.m3u8", .last_msn = 23, .last_part = 1},
	    {.uri = "../low/index.m3u8", .last_msn = 22, .last_part = -1},
	};
	return (struct m3u8_media){.version = 9,
				   .target_us = 2000000,
				   .first_msn = 20,
				   .independent_segments = true,
				   .segs = segs,
				   .nsegs = 4,
				   .part_target_us = 500000,
				   .part_hold_back_us = 1500000,
				   .hold_back_us = 6000000,
				   .can_skip_until_us = 12000000,
				   .can_block_reload = true,
				   .preload_hint_uri = "23.1.m4s",
				   .reports = reports,
				   .nreports = 2};
}

static void test_low_latency(void **state)
{
	(void)state;
	struct m3u8_segment segs[4];
	struct m3u8_media m = ll_media(segs);
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:9\n"
		     "#EXT-X-TARGETDURATION:2\n"
		     "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,"
		     "CAN-SKIP-UNTIL=12.000,HOLD-BACK=6.000\n"
		     "#EXT-X-PART-INF:PART-TARGET=0.500\n"
		     "#EXT-X-MEDIA-SEQUENCE:20\n"
		     "#EXT-X-INDEPENDENT-SEGMENTS\n"
		     "#EXT-X-MAP:URI=\"init.mp4\"\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:00.000Z\n"
		     "#EXTINF:2.000,\n"
		     "20.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:02.000Z\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"21.0.m4s\",INDEPENDENT=YES\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"21.1.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"21.2.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"21.3.m4s\"\n"
		     "#EXTINF:2.000,\n"
		     "21.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:04.000Z\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.0.m4s\",INDEPENDENT=YES\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.1.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.2.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.467,URI=\"22.3.m4s\",INDEPENDENT=YES\n"
		     "#EXTINF:1.967,\n"
		     "22.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:05.967Z\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"23.0.m4s\",INDEPENDENT=YES\n"
		     "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"23.1.m4s\"\n"
		     "#EXT-X-RENDITION-REPORT:URI=\"../audio/index.m3u8\",LAST-MSN=23,LAST-PART=1\n"
		     "#EXT-X-RENDITION-REPORT:URI=\"../low/index.m3u8\",LAST-MSN=22\n");
}

/* The minimal LL header: only PART-HOLD-BACK in SERVER-CONTROL. */
static void test_low_latency_minimal(void **state)
{
	(void)state;
	const struct m3u8_part p = {.dur_us = 333333, .independent = false, .uri = "p0"};
	const struct m3u8_segment seg = {.msn = 5, .parts = &p, .nparts = 1};
	const struct m3u8_media m = {.version = 6,
				     .target_us = 1000000,
				     .first_msn = 5,
				     .segs = &seg,
				     .nsegs = 1,
				     .part_target_us = 333334,
				     .part_hold_back_us = 1000000};
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:6\n"
		     "#EXT-X-TARGETDURATION:1\n"
		     "#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=1.000\n"
		     "#EXT-X-PART-INF:PART-TARGET=0.333\n"
		     "#EXT-X-MEDIA-SEQUENCE:5\n"
		     "#EXT-X-PART:DURATION=0.333,URI=\"p0\"\n");
}

/* Delta update: the first two segments are skipped; the init section the
 * first one declared still has to precede the first listed segment. */
static void test_delta_update(void **state)
{
	(void)state;
	struct m3u8_segment segs[4];
	struct m3u8_media m = ll_media(segs);
	m.skip_segments = 2;
	m.nreports = 0;
	m.preload_hint_uri = NULL;
	m.can_block_reload = false;
	m.hold_back_us = 0;
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:9\n"
		     "#EXT-X-TARGETDURATION:2\n"
		     "#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=1.500,CAN-SKIP-UNTIL=12.000\n"
		     "#EXT-X-PART-INF:PART-TARGET=0.500\n"
		     "#EXT-X-MEDIA-SEQUENCE:20\n"
		     "#EXT-X-INDEPENDENT-SEGMENTS\n"
		     "#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"
		     "#EXT-X-MAP:URI=\"init.mp4\"\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:04.000Z\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.0.m4s\",INDEPENDENT=YES\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.1.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"22.2.m4s\"\n"
		     "#EXT-X-PART:DURATION=0.467,URI=\"22.3.m4s\",INDEPENDENT=YES\n"
		     "#EXTINF:1.967,\n"
		     "22.m4s\n"
		     "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T23:10:05.967Z\n"
		     "#EXT-X-PART:DURATION=0.500,URI=\"23.0.m4s\",INDEPENDENT=YES\n");
}

/* Delta update without LL (CAN-SKIP-UNTIL alone), every segment skipped. */
static void test_delta_all_skipped(void **state)
{
	(void)state;
	const struct m3u8_segment segs[] = {
	    {.msn = 1, .dur_us = 6000000, .uri = "1.ts"},
	    {.msn = 2, .dur_us = 6000000, .uri = "2.ts"},
	};
	const struct m3u8_media m = {.version = 9,
				     .target_us = 6000000,
				     .first_msn = 1,
				     .segs = segs,
				     .nsegs = 2,
				     .can_skip_until_us = 36000000,
				     .skip_segments = 2};
	media_is(&m, "#EXTM3U\n"
		     "#EXT-X-VERSION:9\n"
		     "#EXT-X-TARGETDURATION:6\n"
		     "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=36.000\n"
		     "#EXT-X-MEDIA-SEQUENCE:1\n"
		     "#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n");
}

static void test_appends(void **state)
{
	(void)state;
	const struct m3u8_media m = {.version = 3, .target_us = 1};
	struct bytes b = {0};
	assert_int_equal(bytes_printf(&b, "HTTP/1.1 200 OK\r\n\r\n"), 0);
	assert_int_equal(m3u8_write_media(&m, &b), 0);
	assert_string_equal((const char *)b.data,
			    "HTTP/1.1 200 OK\r\n\r\n"
			    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
			    "#EXT-X-MEDIA-SEQUENCE:0\n");
	bytes_free(&b);
}

static void test_media_invalid(void **state)
{
	(void)state;
	struct m3u8_segment segs[4];
	struct m3u8_media m;
	struct bytes b = {0};
	assert_int_equal(m3u8_write_media(NULL, &b), -EINVAL);
	m = ll_media(segs);
	assert_int_equal(m3u8_write_media(&m, NULL), -EINVAL);

#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		m = ll_media(segs);                                                                \
		assert_int_equal(m3u8_write_media(&m, &b), 0);                                     \
		bytes_reset(&b);                                                                   \
		stmt;                                                                              \
		media_fails(&m, -EINVAL);                                                          \
	} while (0)

	BAD(m.skip_segments = 5);                          /* more than listed */
	BAD(m.skip_segments = 4);                          /* would skip the in-progress segment */
	BAD(m.can_skip_until_us = 0; m.skip_segments = 1); /* delta without CAN-SKIP-UNTIL */
	BAD(m.part_target_us = 0);                         /* parts without LL */
	BAD(m.part_hold_back_us = 999999);                 /* < 2 part targets */
	BAD(m.part_hold_back_us = 0);
	BAD(m.target_us = 0);
	BAD(m.segs = NULL);
	BAD(segs[1].parts = NULL);
	BAD(segs[2].uri = NULL); /* in progress but not last */
	BAD(segs[3].nparts = 0); /* in progress without parts */
	BAD(m.ended = true);     /* ended with an in-progress segment */
	BAD(segs[1].msn = 22);   /* MSNs must follow first_msn */
	BAD(m.first_msn = 19);
	BAD(segs[0].dur_us = -1);
	BAD(segs[0].uri = "a\nb.m4s"); /* would inject a line */
	BAD(segs[0].uri = "");
	BAD(segs[0].map_uri = "in\"it.mp4");
	BAD(m.preload_hint_uri = "x\".m4s");
	BAD(m.reports = NULL);
	BAD(m.nreports = 3; m.reports = NULL);
	BAD(m.hold_back_us = -1);
	{
		/* a part URI with a quote */
		struct m3u8_part bad[1] = {{.dur_us = 1, .uri = "a\"b"}};
		BAD(segs[3].parts = bad);
	}
	{
		/* preload hint without LL */
		const struct m3u8_media plain = {
		    .version = 3, .target_us = 1000000, .preload_hint_uri = "x"};
		media_fails(&plain, -EINVAL);
	}
#undef BAD
	bytes_free(&b);
}

static const struct m3u8_alt_audio audio[] = {
    {.group = "aac",
     .name = "English",
     .lang = "en",
     .is_default = true,
     .uri = "audio/en.m3u8",
     .channels = 2},
    {.group = "aac", .name = "Commentary", .uri = "audio/c.m3u8"},
};

static void test_master(void **state)
{
	(void)state;
	const struct m3u8_variant v[] = {
	    {.bandwidth_bps = 2500000,
	     .avg_bandwidth_bps = 2000000,
	     .width = 1280,
	     .height = 720,
	     .fps_milli = 29970,
	     .codecs = "avc1.64001f,mp4a.40.2",
	     .audio_group = "aac",
	     .uri = "video/720.m3u8"},
	    {.bandwidth_bps = 800000, .uri = "low.m3u8?x=1&y=2"},
	    {.bandwidth_bps = 64000,
	     .codecs = "mp4a.40.5",
	     .fps_milli = 25000,
	     .uri = "audioonly.m3u8"},
	};
	struct bytes b = {0};
	assert_int_equal(m3u8_write_master(6, audio, 2, v, 3, &b), 0);
	assert_string_equal(
	    (const char *)b.data,
	    "#EXTM3U\n"
	    "#EXT-X-VERSION:6\n"
	    "#EXT-X-INDEPENDENT-SEGMENTS\n"
	    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,"
	    "AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/en.m3u8\"\n"
	    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"Commentary\",DEFAULT=NO,"
	    "AUTOSELECT=YES,URI=\"audio/c.m3u8\"\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,"
	    "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO=\"aac\"\n"
	    "video/720.m3u8\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=800000\n"
	    "low.m3u8?x=1&y=2\n"
	    "#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.5\",FRAME-RATE=25.000\n"
	    "audioonly.m3u8\n");
	bytes_free(&b);
}

static void test_master_empty(void **state)
{
	(void)state;
	struct bytes b = {0};
	assert_int_equal(m3u8_write_master(3, NULL, 0, NULL, 0, &b), 0);
	assert_string_equal((const char *)b.data,
			    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
	bytes_free(&b);
}

static void master_fails(const struct m3u8_alt_audio *a, unsigned na, const struct m3u8_variant *v,
			 unsigned nv)
{
	struct bytes b = {0};
	assert_int_equal(bytes_printf(&b, "keep"), 0);
	assert_int_equal(m3u8_write_master(6, a, na, v, nv, &b), -EINVAL);
	assert_string_equal((const char *)b.data, "keep");
	assert_int_equal(b.len, 4);
	bytes_free(&b);
}

static void test_master_invalid(void **state)
{
	(void)state;
	const struct m3u8_variant ok = {.bandwidth_bps = 1, .audio_group = "aac", .uri = "v.m3u8"};
	struct bytes b = {0};
	assert_int_equal(m3u8_write_master(6, audio, 2, &ok, 1, &b), 0);
	assert_int_equal(m3u8_write_master(6, audio, 2, &ok, 1, NULL), -EINVAL);
	bytes_free(&b);

	master_fails(audio, 1, NULL, 1);
	master_fails(NULL, 1, &ok, 1);
	master_fails(NULL, 0, &ok, 1); /* AUDIO group not declared */
	struct m3u8_variant v = ok;
	v.audio_group = "other";
	master_fails(audio, 2, &v, 1);
	v = ok;
	v.bandwidth_bps = 0;
	master_fails(audio, 2, &v, 1);
	v = ok;
	v.uri = NULL;
	master_fails(audio, 2, &v, 1);
	v.uri = "v.m3u8\r\n#EXT-X-ENDLIST";
	master_fails(audio, 2, &v, 1);
	v = ok;
	v.codecs = "avc1\",x";
	master_fails(audio, 2, &v, 1);
	v = ok;
	v.width = 640; /* RESOLUTION needs both */
	master_fails(audio, 2, &v, 1);

	struct m3u8_alt_audio a = audio[0];
	a.name = "The \"best\"";
	master_fails(&a, 1, &ok, 1);
	a = audio[0];
	a.name = NULL;
	master_fails(&a, 1, &ok, 1);
	a = audio[0];
	a.group = "";
	master_fails(&a, 1, NULL, 0);
	a = audio[0];
	a.lang = "e\"n";
	master_fails(&a, 1, &ok, 1);
	a = audio[0];
	a.uri = "a\n";
	master_fails(&a, 1, &ok, 1);
	/* URI is optional for a rendition carried in the variant */
	a = audio[0];
	a.uri = NULL;
	a.channels = 6;
	a.lang = NULL;
	b = (struct bytes){0};
	assert_int_equal(m3u8_write_master(7, &a, 1, &ok, 1, &b), 0);
	assert_string_equal((const char *)b.data,
			    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
			    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",DEFAULT=YES,"
			    "AUTOSELECT=YES,CHANNELS=\"6\"\n"
			    "#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"aac\"\nv.m3u8\n");
	bytes_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ts_live),        cmocka_unit_test(test_target_duration),
	    cmocka_unit_test(test_empty),          cmocka_unit_test(test_fmp4_vod),
	    cmocka_unit_test(test_low_latency),    cmocka_unit_test(test_low_latency_minimal),
	    cmocka_unit_test(test_delta_update),   cmocka_unit_test(test_delta_all_skipped),
	    cmocka_unit_test(test_appends),        cmocka_unit_test(test_media_invalid),
	    cmocka_unit_test(test_master),         cmocka_unit_test(test_master_empty),
	    cmocka_unit_test(test_master_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
