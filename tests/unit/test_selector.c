/* Track selectors: a table of expressions over one fixed set of tracks
 * (every term kind, unions, narrowing, removal, bad syntax), the mask
 * contract, and selector_from_query defaults and errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "media/selector.h"

/* 0: H264 1280x720 3 Mbit/s      1: AAC eng 128 kbit/s
 * 2: HEVC 640x360 800 kbit/s     3: Opus nl 96 kbit/s
 * 4: absent                      5: meta (subtitles) */
static struct track v720, v360, aac, opus, sub;
static const struct track *tracks[6];

static int setup(void **state)
{
	(void)state;
	v720 = (struct track){.type = TRACK_VIDEO,
			      .codec = CODEC_H264,
			      .width = 1280,
			      .height = 720,
			      .bitrate_bps = 3000000};
	v360 = (struct track){.type = TRACK_VIDEO,
			      .codec = CODEC_H265,
			      .width = 640,
			      .height = 360,
			      .bitrate_bps = 800000};
	aac = (struct track){.type = TRACK_AUDIO,
			     .codec = CODEC_AAC,
			     .rate = 48000,
			     .bitrate_bps = 128000,
			     .lang = "eng"};
	opus = (struct track){.type = TRACK_AUDIO,
			      .codec = CODEC_OPUS,
			      .rate = 48000,
			      .bitrate_bps = 96000,
			      .lang = "nl"};
	sub = (struct track){.type = TRACK_META, .lang = "eng"};
	const struct track *t[6] = {&v720, &aac, &v360, &opus, NULL, &sub};
	memcpy(tracks, t, sizeof(t));
	return 0;
}

#define V   TRACK_VIDEO
#define A   TRACK_AUDIO
#define BAD (-1)

static const struct {
	enum track_type type;
	const char *expr;
	int64_t want; /* mask, or BAD for -EINVAL */
} cases[] = {
    /* indices: only tracks of the type */
    {V, "0", 0x1},
    {V, "2", 0x4},
    {V, "1", 0x0},
    {V, "4", 0x0},
    {V, "99", 0x0},
    {A, "1", 0x2},
    {A, "0", 0x0},
    /* all / none */
    {V, "all", 0x5},
    {V, "*", 0x5},
    {V, "ALL", 0x5},
    {A, "all", 0xa},
    {TRACK_META, "all", 0x20},
    {V, "none", 0x0},
    {V, "-1", 0x0},
    /* picks by bit rate and resolution */
    {V, "maxbps", 0x1},
    {V, "MaxBps", 0x1},
    {V, "minbps", 0x4},
    {A, "maxbps", 0x2},
    {A, "minbps", 0x8},
    {V, "maxres", 0x1},
    {V, "minres", 0x4},
    {V, "highbps", 0x1},
    {V, "lowres", 0x4},
    /* bit rate bounds (strict), units */
    {V, ">1mbps", 0x1},
    {V, "<1mbps", 0x4},
    {V, "<1000kbps", 0x4},
    {V, ">800kbps", 0x1},
    {V, ">799999bps", 0x5},
    {V, ">799999", 0x5},
    {V, "<0.9Mbps", 0x4},
    {V, ">2.5mbps", 0x1},
    {V, ">3mbps", 0x0},
    {V, "<3000001", 0x5},
    {A, ">100kbps", 0x2},
    {A, "<100KBPS", 0x8},
    /* sizes */
    {V, "1280x720", 0x1},
    {V, "640X360", 0x4},
    {V, "640x361", 0x0},
    {V, "720p", 0x1},
    {V, "360P", 0x4},
    {V, "480p", 0x0},
    {V, "~1920x1080", 0x1},
    {V, "~600x300", 0x4},
    {V, "~1000x500", 0x4}, /* 500000 px: 360p is 269600 away, 720p 421600 */
    {V, "~1000x700", 0x1},
    /* codecs */
    {V, "h264", 0x1},
    {V, "H264", 0x1},
    {V, "hevc", 0x4},
    {V, "h265", 0x4},
    {V, "aac", 0x0},
    {A, "aac", 0x2},
    {A, "OPUS", 0x8},
    {A, "mp3", 0x0},
    /* languages, ISO 639-1 and 639-2 T/B forms alike */
    {A, "en", 0x2},
    {A, "eng", 0x2},
    {A, "EN", 0x2},
    {A, "nl", 0x8},
    {A, "nld", 0x8},
    {A, "dut", 0x8},
    {A, "de", 0x0},
    {A, "und", 0x0},
    {V, "und", 0x5}, /* tracks without a language */
    {V, "en", 0x0},
    /* unions */
    {V, "0,2", 0x5},
    {V, "h264,360p", 0x5},
    {V, "maxbps,minbps", 0x5},
    {A, "en,nl", 0xa},
    {V, " 0 , 2 ", 0x5},
    {V, "none,0", 0x1},
    /* narrowing: later terms pick among the chain's result */
    {V, "all|h264", 0x1},
    {V, "*|<1mbps", 0x4},
    {V, "h264|360p", 0x0},
    {V, "<5mbps|minres", 0x4},
    {V, "all|!h264", 0x4},
    {A, "aac|nl", 0x0},
    {A, "all|!opus", 0x2},
    {A, "all|<200kbps|minbps", 0x8},
    {V, "hevc|maxbps", 0x4},
    /* removal from what is selected so far */
    {V, "all,!h264", 0x4},
    {V, "0,2,!720p", 0x4},
    {V, "maxbps,!0", 0x0},
    {V, "!0,0", 0x5},
    {V, "!h264", 0x4}, /* a leading removal starts from all */
    {A, "!eng", 0x8},
    {V, "!none", 0x5},
    {V, "!all", 0x0},
    {V, "!h264|720p", 0x4},
    {V, "!h264|360p", 0x5},
    {V, "0,!all,2", 0x4},
    /* bad syntax */
    {V, "", BAD},
    {V, ",", BAD},
    {V, "0,", BAD},
    {V, ",0", BAD},
    {V, "|h264", BAD},
    {V, "h264|", BAD},
    {V, "h264||0", BAD},
    {V, "!", BAD},
    {V, "!!0", BAD},
    {V, "0,!", BAD},
    {V, "foo1", BAD},
    {V, "english", BAD},
    {V, "<", BAD},
    {V, "<kbps", BAD},
    {V, ">5gbps", BAD},
    {V, "<1.5.5mbps", BAD},
    {V, "<1.mbps", BAD},
    {V, "1280x", BAD},
    {V, "x720", BAD},
    {V, "~abc", BAD},
    {V, "~720p", BAD},
    {V, "720pp", BAD},
    {V, "-2", BAD},
    {V, "1.5", BAD},
    {V, "99999999999999999999", BAD},
    {V, "1280x99999999999999999999", BAD},
    {V, "maxbpsmaxbpsmaxbpsmaxbpsmaxbpsmaxbps", BAD},
    {V, "h 264", BAD},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t mask = 0;
		int rc = selector_apply(cases[i].expr, cases[i].type, tracks, 6, &mask);
		if (cases[i].want == BAD) {
			if (rc != -EINVAL)
				fail_msg("'%s': rc %d, want -EINVAL", cases[i].expr, rc);
		} else if (rc != 0 || mask != (uint64_t)cases[i].want) {
			fail_msg("'%s' (type %d): rc %d mask %#llx, want %#llx", cases[i].expr,
				 cases[i].type, rc, (unsigned long long)mask,
				 (unsigned long long)cases[i].want);
		}
	}
}

static void test_mask_contract(void **state)
{
	(void)state;
	uint64_t mask = 0x100;
	assert_int_equal(selector_apply("0", V, tracks, 6, &mask), 0);
	assert_int_equal(mask, 0x101); /* bits are added */
	assert_int_equal(selector_apply("bogus", V, tracks, 6, &mask), -EINVAL);
	assert_int_equal(mask, 0x101); /* untouched on error */
	assert_int_equal(selector_apply(NULL, V, tracks, 6, &mask), -EINVAL);
	assert_int_equal(selector_apply("0", V, tracks, 6, NULL), -EINVAL);
	/* Only the first n tracks count. */
	mask = 0;
	assert_int_equal(selector_apply("all", V, tracks, 1, &mask), 0);
	assert_int_equal(mask, 0x1);
	assert_int_equal(selector_apply("all", A, NULL, 0, &mask), 0);
	assert_int_equal(mask, 0x1);

	/* Ties go to the lowest index; tracks past 64 are never selected. */
	static struct track many[70];
	const struct track *m[70];
	for (unsigned i = 0; i < 70; i++) {
		many[i] = (struct track){.type = TRACK_AUDIO, .bitrate_bps = i == 66 ? 9 : 5};
		m[i] = &many[i];
	}
	mask = 0;
	assert_int_equal(selector_apply("maxbps", A, m, 70, &mask), 0);
	assert_int_equal(mask, 0x1);
	mask = 0;
	assert_int_equal(selector_apply("all", A, m, 70, &mask), 0);
	assert_int_equal(mask, UINT64_MAX);
	mask = 0;
	assert_int_equal(selector_apply("66", A, m, 70, &mask), 0);
	assert_int_equal(mask, 0);
}

static void test_query(void **state)
{
	(void)state;
	static const struct {
		const char *query;
		uint64_t want;
	} ok[] = {
	    {NULL, 0x3}, /* highest-bitrate video + highest-bitrate audio */
	    {"", 0x3},
	    {"foo=bar&x", 0x3},
	    {"video=&audio=", 0x3},
	    {"video", 0x3},
	    {"video=none&audio=0", 0x0}, /* track 0 is not an audio track */
	    {"video=none&audio=1", 0x2},
	    {"video=-1", 0x2},
	    {"video=360p", 0x6},
	    {"audio=all", 0xb},
	    {"audio=nl", 0x9},
	    {"subtitle=all", 0x23},
	    {"subtitle=eng&video=none&audio=none", 0x20},
	    {"video=%3C1mbps%7Ch265", 0x6},
	    {"video=0%2C2", 0x7},
	    {"?video=minres", 0x6},
	    {"tkn=abc&video=maxres&audio=minbps", 0x9},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t mask = 0xdead;
		char err[64] = "";
		int rc = selector_from_query(ok[i].query, tracks, 6, &mask, err, sizeof(err));
		if (rc || mask != ok[i].want)
			fail_msg("'%s': rc %d mask %#llx, want %#llx (%s)",
				 ok[i].query ? ok[i].query : "(null)", rc, (unsigned long long)mask,
				 (unsigned long long)ok[i].want, err);
	}
	static const struct {
		const char *query, *param;
	} bad[] = {
	    {"video=bogus", "'video'"},
	    {"video=0&audio=1,,3", "'audio'"},
	    {"video=%zz", "'video'"},
	    {"subtitle=!!", "'subtitle'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t mask = 0xdead;
		char err[64] = "";
		assert_int_equal(
		    selector_from_query(bad[i].query, tracks, 6, &mask, err, sizeof(err)), -EINVAL);
		assert_int_equal(mask, 0xdead);
		if (!strstr(err, bad[i].param))
			fail_msg("'%s': err '%s' does not name %s", bad[i].query, err,
				 bad[i].param);
	}
	uint64_t mask = 7;
	assert_int_equal(selector_from_query("video=x", tracks, 6, &mask, NULL, 0), -EINVAL);
	assert_int_equal(selector_from_query(NULL, NULL, 0, &mask, NULL, 0), 0);
	assert_int_equal(mask, 0); /* no tracks, nothing selected */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_table, setup),
	    cmocka_unit_test_setup(test_mask_contract, setup),
	    cmocka_unit_test_setup(test_query, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
