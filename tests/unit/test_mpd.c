/* MPD writer: whole documents compared against golden XML (live with video
 * + audio, timeline gaps and repeats, UTCTiming; static VOD; empty
 * timeline), xs:duration / xs:dateTime / frameRate formatting, XML
 * escaping, every -EINVAL of the contract with the output untouched, and
 * mpd_compact_timeline grouping, gaps and capacity. The golden documents
 * were also checked once with xmllint against the schema types of
 * MPEGGroup/DASHSchema DASH-MPD.xsd that they use. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/mpd.h"

static void mpd_is(const struct mpd *m, const char *want)
{
	struct bytes b = {0};
	assert_int_equal(mpd_write(m, &b), 0);
	assert_non_null(b.data);
	assert_string_equal((const char *)b.data, want);
	assert_int_equal(b.len, strlen(want));
	bytes_free(&b);
}

static void mpd_fails(const struct mpd *m)
{
	struct bytes b = {0};
	assert_int_equal(bytes_printf(&b, "keep"), 0);
	assert_int_equal(mpd_write(m, &b), -EINVAL);
	assert_int_equal(b.len, 4);
	assert_string_equal((const char *)b.data, "keep");
	bytes_free(&b);
}

static const struct mpd_timeline_entry video_tl[] = {
    {.t = 900000, .d = 180000, .r = 2},  /* 900000 .. 1440000 */
    {.t = 1440000, .d = 171000, .r = 0}, /* contiguous: no t */
    {.t = 1800000, .d = 180000, .r = 0}, /* gap after 1611000: explicit t */
};
static const struct mpd_timeline_entry audio_tl[] = {
    {.t = 480000, .d = 96256, .r = 9},
};

static struct mpd_representation video_rep(void)
{
	return (struct mpd_representation){
	    .id = "v0",
	    .mime = "video/mp4",
	    .codecs = "avc1.64001e",
	    .bandwidth_bps = 1500000,
	    .width = 640,
	    .height = 360,
	    .fps_milli = 25000,
	    .timescale = 90000,
	    .start_number = 5,
	    .init_template = "$RepresentationID$/init.mp4",
	    .media_template = "$RepresentationID$/$Number$.m4s",
	    .timeline = video_tl,
	    .ntimeline = 3,
	};
}

static struct mpd_representation audio_rep(void)
{
	return (struct mpd_representation){
	    .id = "a1",
	    .mime = "audio/mp4",
	    .codecs = "mp4a.40.2",
	    .bandwidth_bps = 128000,
	    .sample_rate = 48000,
	    .channels = 2,
	    .lang = "en",
	    .timescale = 48000,
	    .start_number = 3,
	    .init_template = "$RepresentationID$/init.mp4",
	    .media_template = "$RepresentationID$/$Number$.m4s",
	    .timeline = audio_tl,
	    .ntimeline = 1,
	    .presentation_time_offset = 480000,
	};
}

static struct mpd live_mpd(const struct mpd_representation *reps, unsigned n)
{
	return (struct mpd){
	    .dynamic = true,
	    .availability_start_ms = 1795907400123,
	    .publish_time_ms = 1795907420000,
	    .min_update_period_ms = 2000,
	    .time_shift_depth_ms = 30000,
	    .min_buffer_ms = 1500,
	    .suggested_delay_ms = 6000,
	    .max_segment_ms = 2000,
	    .utc_timing_uri = "https://example.com/time?iso&ms",
	    .reps = reps,
	    .nreps = n,
	};
}

static const char live_golden[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
    "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" "
    "availabilityStartTime=\"2026-11-28T23:10:00.123Z\" "
    "publishTime=\"2026-11-28T23:10:20.000Z\" minimumUpdatePeriod=\"PT2S\" "
    "timeShiftBufferDepth=\"PT30S\" minBufferTime=\"PT1.5S\" "
    "suggestedPresentationDelay=\"PT6S\" maxSegmentDuration=\"PT2S\">\n"
    "  <Period id=\"0\" start=\"PT0S\">\n"
    "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" "
    "segmentAlignment=\"true\" startWithSAP=\"1\">\n"
    "      <Representation id=\"v0\" codecs=\"avc1.64001e\" bandwidth=\"1500000\" "
    "width=\"640\" height=\"360\" frameRate=\"25\">\n"
    "        <SegmentTemplate timescale=\"90000\" startNumber=\"5\" "
    "initialization=\"$RepresentationID$/init.mp4\" "
    "media=\"$RepresentationID$/$Number$.m4s\">\n"
    "          <SegmentTimeline>\n"
    "            <S t=\"900000\" d=\"180000\" r=\"2\"/>\n"
    "            <S d=\"171000\"/>\n"
    "            <S t=\"1800000\" d=\"180000\"/>\n"
    "          </SegmentTimeline>\n"
    "        </SegmentTemplate>\n"
    "      </Representation>\n"
    "    </AdaptationSet>\n"
    "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" "
    "segmentAlignment=\"true\" startWithSAP=\"1\" lang=\"en\">\n"
    "      <Representation id=\"a1\" codecs=\"mp4a.40.2\" bandwidth=\"128000\" "
    "audioSamplingRate=\"48000\">\n"
    "        <AudioChannelConfiguration "
    "schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>\n"
    "        <SegmentTemplate timescale=\"48000\" presentationTimeOffset=\"480000\" "
    "startNumber=\"3\" initialization=\"$RepresentationID$/init.mp4\" "
    "media=\"$RepresentationID$/$Number$.m4s\">\n"
    "          <SegmentTimeline>\n"
    "            <S t=\"480000\" d=\"96256\" r=\"9\"/>\n"
    "          </SegmentTimeline>\n"
    "        </SegmentTemplate>\n"
    "      </Representation>\n"
    "    </AdaptationSet>\n"
    "  </Period>\n"
    "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" "
    "value=\"https://example.com/time?iso&amp;ms\"/>\n"
    "</MPD>\n";

static void test_live(void **state)
{
	(void)state;
	const struct mpd_representation reps[] = {video_rep(), audio_rep()};
	const struct mpd m = live_mpd(reps, 2);
	mpd_is(&m, live_golden);
}

static void test_static(void **state)
{
	(void)state;
	const struct mpd_timeline_entry tl[] = {{.t = 0, .d = 2000, .r = 29}};
	struct mpd_representation rep = {
	    .id = "video_1080",
	    .mime = "video/mp4",
	    .codecs = "hvc1.2.4.L120.90",
	    .bandwidth_bps = 6000000,
	    .width = 1920,
	    .height = 1080,
	    .fps_milli = 29970,
	    .timescale = 1000,
	    .start_number = 0,
	    .media_template = "seg-$Number$.m4s",
	    .timeline = tl,
	    .ntimeline = 1,
	};
	const struct mpd m = {
	    .min_buffer_ms = 4000,
	    .max_segment_ms = 2000,
	    .duration_ms = 60000,
	    .reps = &rep,
	    .nreps = 1,
	};
	mpd_is(&m,
	       "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	       "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
	       "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" "
	       "mediaPresentationDuration=\"PT60S\" minBufferTime=\"PT4S\" "
	       "maxSegmentDuration=\"PT2S\">\n"
	       "  <Period id=\"0\" start=\"PT0S\">\n"
	       "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" "
	       "segmentAlignment=\"true\" startWithSAP=\"1\">\n"
	       "      <Representation id=\"video_1080\" codecs=\"hvc1.2.4.L120.90\" "
	       "bandwidth=\"6000000\" width=\"1920\" height=\"1080\" frameRate=\"30000/1001\">\n"
	       "        <SegmentTemplate timescale=\"1000\" startNumber=\"0\" "
	       "media=\"seg-$Number$.m4s\">\n"
	       "          <SegmentTimeline>\n"
	       "            <S t=\"0\" d=\"2000\" r=\"29\"/>\n"
	       "          </SegmentTimeline>\n"
	       "        </SegmentTemplate>\n"
	       "      </Representation>\n"
	       "    </AdaptationSet>\n"
	       "  </Period>\n"
	       "</MPD>\n");
}

/* A live stream with nothing published yet, no optional attributes, an
 * unusual MIME type, escaped templates and no codecs. */
static void test_minimal(void **state)
{
	(void)state;
	struct mpd_representation rep = {
	    .id = "t",
	    .mime = "x-weir/raw",
	    .bandwidth_bps = 0,
	    .timescale = 1,
	    .start_number = 4294967295u,
	    .media_template = "<&\"'>/$Number$",
	};
	const struct mpd m = {.dynamic = true, .reps = &rep, .nreps = 1};
	mpd_is(&m, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		   "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
		   "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" "
		   "availabilityStartTime=\"1970-01-01T00:00:00.000Z\" "
		   "publishTime=\"1970-01-01T00:00:00.000Z\" minBufferTime=\"PT0S\">\n"
		   "  <Period id=\"0\" start=\"PT0S\">\n"
		   "    <AdaptationSet id=\"0\" mimeType=\"x-weir/raw\" "
		   "segmentAlignment=\"true\" startWithSAP=\"1\">\n"
		   "      <Representation id=\"t\" bandwidth=\"0\">\n"
		   "        <SegmentTemplate timescale=\"1\" startNumber=\"4294967295\" "
		   "media=\"&lt;&amp;&quot;&apos;&gt;/$Number$\"/>\n"
		   "      </Representation>\n"
		   "    </AdaptationSet>\n"
		   "  </Period>\n"
		   "</MPD>\n");
}

/* Writes a one-representation static MPD and returns the line holding
 * needle (up to its end) in line. */
static void line_with(const struct mpd *m, const char *needle, char *line, size_t len)
{
	struct bytes b = {0};
	assert_int_equal(mpd_write(m, &b), 0);
	const char *p = strstr((const char *)b.data, needle);
	assert_non_null(p);
	const char *e = strchr(p, '>');
	assert_non_null(e);
	snprintf(line, len, "%.*s", (int)(e - p), p);
	bytes_free(&b);
}

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "PT0S"},      {1, "PT0.001S"},      {10, "PT0.01S"},
	    {500, "PT0.5S"},  {1900, "PT1.9S"},     {1234, "PT1.234S"},
	    {50000, "PT50S"}, {3600000, "PT3600S"}, {86400001, "PT86400.001S"},
	    {120, "PT0.12S"}, {1020, "PT1.02S"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mpd m = {.duration_ms = cases[i].ms, .min_buffer_ms = 1};
		char line[128], want[128];
		line_with(&m, "mediaPresentationDuration", line, sizeof(line));
		snprintf(want, sizeof(want),
			 "mediaPresentationDuration=\"%s\" minBufferTime=\"PT0.001S\"",
			 cases[i].want);
		assert_string_equal(line, want);
	}
}

static void test_datetimes(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {951782400005, "2000-02-29T00:00:00.005Z"},
	    {2147483648000, "2038-01-19T03:14:08.000Z"},
	    {1795907400123, "2026-11-28T23:10:00.123Z"},
	    {4102444799999, "2099-12-31T23:59:59.999Z"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mpd m = {.dynamic = true, .availability_start_ms = cases[i].ms};
		char line[128], want[128];
		line_with(&m, "availabilityStartTime", line, sizeof(line));
		snprintf(want, sizeof(want),
			 "availabilityStartTime=\"%s\" publishTime=\"1970-01-01T00:00:00.000Z\" "
			 "minBufferTime=\"PT0S\"",
			 cases[i].want);
		assert_string_equal(line, want);
	}
}

static void test_frame_rates(void **state)
{
	(void)state;
	static const struct {
		uint32_t fps_milli;
		const char *want;
	} cases[] = {
	    {25000, "25"},         {30000, "30"},         {29970, "30000/1001"},
	    {59940, "60000/1001"}, {23976, "24000/1001"}, {119880, "120000/1001"},
	    {12500, "25/2"},       {29971, "29971/1000"}, {29969, "29969/1000"},
	    {1, "1/1000"},         {14985, "15000/1001"}, {7500, "15/2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mpd_representation rep = video_rep();
		rep.fps_milli = cases[i].fps_milli;
		const struct mpd m = {.min_buffer_ms = 1, .reps = &rep, .nreps = 1};
		char line[256], want[256];
		line_with(&m, "frameRate", line, sizeof(line));
		snprintf(want, sizeof(want), "frameRate=\"%s\"", cases[i].want);
		assert_string_equal(line, want);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	struct bytes b = {0};
	struct mpd_representation reps[2];
	struct mpd m;
	assert_int_equal(mpd_write(NULL, &b), -EINVAL);
	reps[0] = video_rep();
	m = live_mpd(reps, 1);
	assert_int_equal(mpd_write(&m, NULL), -EINVAL);

#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		reps[0] = video_rep();                                                             \
		reps[1] = audio_rep();                                                             \
		m = live_mpd(reps, 2);                                                             \
		assert_int_equal(mpd_write(&m, &b), 0);                                            \
		bytes_reset(&b);                                                                   \
		stmt;                                                                              \
		mpd_fails(&m);                                                                     \
	} while (0)
	BAD(m.reps = NULL);
	BAD(m.min_buffer_ms = -1);
	BAD(m.availability_start_ms = -1);
	BAD(m.publish_time_ms = -5);
	BAD(m.suggested_delay_ms = -1);
	BAD(m.duration_ms = -1);
	BAD(m.utc_timing_uri = "http://a\n");
	BAD(reps[0].id = NULL);
	BAD(reps[0].id = "");
	BAD(reps[0].id = "v 0"); /* StringNoWhitespaceType */
	BAD(reps[0].id = "v\t0");
	BAD(reps[0].mime = NULL);
	BAD(reps[0].mime = "video");
	BAD(reps[0].media_template = NULL);
	BAD(reps[0].timescale = 0);
	BAD(reps[0].start_number = 4294967296ull); /* xs:unsignedInt */
	BAD(reps[0].codecs = "avc1\x01");
	BAD(reps[0].init_template = "a\rb");
	BAD(reps[0].presentation_time_offset = -1);
	BAD(reps[0].timeline = NULL);
	BAD(reps[1].lang = "e n");
	BAD(reps[1].lang = "englishxx"); /* 9 letters */
	BAD(reps[1].lang = "en-");
	BAD(reps[1].lang = "1en");
	{
		/* a zero duration, then an overlap */
		struct mpd_timeline_entry tl[2] = {{.t = 0, .d = 0}, {.t = 10, .d = 10}};
		BAD(reps[0].timeline = tl; reps[0].ntimeline = 2);
		tl[0].d = 6;
		tl[0].r = 1; /* ends at 12 > 10 */
		BAD(reps[0].timeline = tl; reps[0].ntimeline = 2);
		tl[0].r = 0; /* ends at 6: a gap is fine */
		m.reps = reps;
		reps[0].timeline = tl;
		assert_int_equal(mpd_write(&m, &b), 0);
	}
#undef BAD
	/* valid language tags */
	reps[0] = video_rep();
	reps[1] = audio_rep();
	m = live_mpd(reps, 2);
	const char *langs[] = {"eng", "und", "pt-BR", "zh-Hant-TW", "de-1996", ""};
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		reps[1].lang = langs[i];
		bytes_reset(&b);
		assert_int_equal(mpd_write(&m, &b), 0);
		char attr[32];
		snprintf(attr, sizeof(attr), "lang=\"%s\"", langs[i]);
		assert_true(!!strstr((const char *)b.data, attr) == !!*langs[i]);
	}
	bytes_free(&b);
}

static void test_appends(void **state)
{
	(void)state;
	const struct mpd_representation reps[] = {video_rep(), audio_rep()};
	const struct mpd m = live_mpd(reps, 2);
	struct bytes b = {0};
	assert_int_equal(bytes_printf(&b, "HEAD"), 0);
	assert_int_equal(mpd_write(&m, &b), 0);
	assert_memory_equal(b.data, "HEAD", 4);
	assert_string_equal((const char *)b.data + 4, live_golden);
	bytes_free(&b);
}

static void test_compact(void **state)
{
	(void)state;
	/* 3 x 2 s, a short one, a gap, 2 x 2 s, then a jump back to 2 s after a
	 * different duration: every rule of the grouping. */
	const uint64_t starts[] = {0, 2000, 4000, 6000, 7500, 10000, 12000, 14000, 15000};
	const uint64_t durs[] = {2000, 2000, 2000, 1500, 2000, 2000, 2000, 1000, 2000};
	struct mpd_timeline_entry out[8];
	memset(out, 0xaa, sizeof(out));
	int n = mpd_compact_timeline(starts, durs, 9, out, 8);
	assert_int_equal(n, 6);
	const struct mpd_timeline_entry want[] = {
	    {0, 2000, 2},     {6000, 1500, 0},
	    {7500, 2000, 0}, /* 7500 is contiguous but 2000 != 1500 */
	    {10000, 2000, 1}, {14000, 1000, 0},
	    {15000, 2000, 0},
	};
	for (int i = 0; i < n; i++) {
		assert_int_equal(out[i].t, want[i].t);
		assert_int_equal(out[i].d, want[i].d);
		assert_int_equal(out[i].r, want[i].r);
	}
	/* exactly enough room, and one short */
	assert_int_equal(mpd_compact_timeline(starts, durs, 9, out, 6), 6);
	assert_int_equal(mpd_compact_timeline(starts, durs, 9, out, 5), -ENOSPC);
	/* nothing in, nothing out */
	assert_int_equal(mpd_compact_timeline(NULL, NULL, 0, NULL, 0), 0);
	assert_int_equal(mpd_compact_timeline(starts, durs, 1, NULL, 0), -ENOSPC);
	assert_int_equal(mpd_compact_timeline(NULL, durs, 1, out, 8), -EINVAL);
	/* a gap of equal durations still starts a new entry */
	const uint64_t s2[] = {0, 100, 201};
	const uint64_t d2[] = {100, 100, 100};
	assert_int_equal(mpd_compact_timeline(s2, d2, 3, out, 8), 2);
	assert_int_equal(out[0].r, 1);
	assert_int_equal(out[1].t, 201);
	assert_int_equal(out[1].r, 0);
}

/* The compacted timeline fed to the writer round-trips to the S list. */
static void test_compact_into_mpd(void **state)
{
	(void)state;
	const uint64_t starts[] = {100, 190, 280, 400};
	const uint64_t durs[] = {90, 90, 90, 90};
	struct mpd_timeline_entry tl[4];
	int n = mpd_compact_timeline(starts, durs, 4, tl, 4);
	assert_int_equal(n, 2);
	struct mpd_representation rep = video_rep();
	rep.timeline = tl;
	rep.ntimeline = (unsigned)n;
	const struct mpd m = {.min_buffer_ms = 1, .reps = &rep, .nreps = 1};
	struct bytes b = {0};
	assert_int_equal(mpd_write(&m, &b), 0);
	assert_non_null(strstr((const char *)b.data, "          <SegmentTimeline>\n"
						     "            <S t=\"100\" d=\"90\" r=\"2\"/>\n"
						     "            <S t=\"400\" d=\"90\"/>\n"
						     "          </SegmentTimeline>\n"));
	bytes_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live),      cmocka_unit_test(test_static),
	    cmocka_unit_test(test_minimal),   cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_datetimes), cmocka_unit_test(test_frame_rates),
	    cmocka_unit_test(test_invalid),   cmocka_unit_test(test_appends),
	    cmocka_unit_test(test_compact),   cmocka_unit_test(test_compact_into_mpd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
