/* AudioSpecificConfig parsing/writing and MPEG audio frame headers. ASC
 * golden bytes: ffmpeg's native AAC encoder output (from the FLV fixture),
 * well-known HE-AAC records, and configs built from the ISO 14496-3 syntax.
 * MP3 headers are computed from the ISO 11172-3/13818-3 tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/aac.h"

struct bw {
	uint8_t buf[64];
	size_t bits;
};

static void put(struct bw *w, uint32_t v, unsigned n)
{
	while (n--) {
		if ((v >> n) & 1)
			w->buf[w->bits >> 3] |= 0x80 >> (w->bits & 7);
		w->bits++;
	}
}

static size_t bw_len(const struct bw *w)
{
	return (w->bits + 7) / 8;
}

static void parse_ok(const uint8_t *p, size_t len, struct aac_asc *a)
{
	assert_int_equal(aac_parse_asc(p, len, a), 0);
}

static void test_asc_ffmpeg_lc(void **state)
{
	(void)state;
	/* ffmpeg -c:a aac, 44100 Hz mono: LC plus an explicit "no SBR" sync
	 * extension (0x2b7, AOT 5, sbrPresentFlag 0). */
	const uint8_t asc[] = {0x12, 0x08, 0x56, 0xe5, 0x00};
	struct aac_asc a;
	parse_ok(asc, sizeof(asc), &a);
	assert_int_equal(a.object_type, 2);
	assert_int_equal(a.freq_index, 4);
	assert_int_equal(a.sample_rate, 44100);
	assert_int_equal(a.ext_sample_rate, 0);
	assert_int_equal(a.channel_config, 1);
	assert_int_equal(a.channels, 1);
	assert_int_equal(a.frame_samples, 1024);

	const uint8_t lc48[] = {0x11, 0x90}; /* LC 48 kHz stereo */
	parse_ok(lc48, 2, &a);
	assert_int_equal(a.sample_rate, 48000);
	assert_int_equal(a.channels, 2);
	const uint8_t lc960[] = {0x11, 0x94}; /* frameLengthFlag set */
	parse_ok(lc960, 2, &a);
	assert_int_equal(a.frame_samples, 960);
	const uint8_t lc71[] = {0x11, 0xb8}; /* channel config 7 = 7.1 */
	parse_ok(lc71, 2, &a);
	assert_int_equal(a.channels, 8);
}

static void test_asc_he(void **state)
{
	(void)state;
	struct aac_asc a;
	/* HE-AAC, explicit hierarchical: AOT 5, 22050 core, 44100 SBR, stereo */
	const uint8_t he[] = {0x2b, 0x92, 0x08, 0x00};
	parse_ok(he, sizeof(he), &a);
	assert_int_equal(a.object_type, 5);
	assert_int_equal(a.sample_rate, 22050);
	assert_int_equal(a.ext_sample_rate, 44100);
	assert_int_equal(a.channels, 2);
	/* HE-AACv2: AOT 29, 24000 core mono, 48000 SBR: decodes to stereo */
	const uint8_t ps[] = {0xeb, 0x09, 0x88, 0x00};
	parse_ok(ps, sizeof(ps), &a);
	assert_int_equal(a.object_type, 29);
	assert_int_equal(a.sample_rate, 24000);
	assert_int_equal(a.ext_sample_rate, 48000);
	assert_int_equal(a.channel_config, 1);
	assert_int_equal(a.channels, 2);

	/* Backward-compatible: LC 24000 stereo + 0x2b7 SBR 48000 + 0x548 PS */
	struct bw w = {0};
	put(&w, 2, 5);
	put(&w, 6, 4);
	put(&w, 2, 4);
	put(&w, 0, 3);
	put(&w, 0x2b7, 11);
	put(&w, 5, 5);
	put(&w, 1, 1);
	put(&w, 3, 4);
	parse_ok(w.buf, bw_len(&w), &a);
	assert_int_equal(a.object_type, 5);
	assert_int_equal(a.sample_rate, 24000);
	assert_int_equal(a.ext_sample_rate, 48000);
	put(&w, 0x548, 11);
	put(&w, 1, 1);
	parse_ok(w.buf, bw_len(&w), &a);
	assert_int_equal(a.object_type, 29);
}

static void test_asc_escapes(void **state)
{
	(void)state;
	struct aac_asc a;
	/* AOT escape: 31 + 6 bits (42 = USAC), 48 kHz, stereo */
	struct bw w = {0};
	put(&w, 31, 5);
	put(&w, 42 - 32, 6);
	put(&w, 3, 4);
	put(&w, 2, 4);
	parse_ok(w.buf, bw_len(&w), &a);
	assert_int_equal(a.object_type, 42);
	assert_int_equal(a.sample_rate, 48000);
	assert_int_equal(a.channels, 2);
	/* frequency index 15: explicit 24-bit rate */
	struct bw x = {0};
	put(&x, 2, 5);
	put(&x, 15, 4);
	put(&x, 37800, 24);
	put(&x, 2, 4);
	put(&x, 0, 3);
	parse_ok(x.buf, bw_len(&x), &a);
	assert_int_equal(a.freq_index, 15);
	assert_int_equal(a.sample_rate, 37800);
	assert_int_equal(a.channels, 2);
}

/* Channel config 0: counts come from the program_config_element. */
static void test_asc_pce(void **state)
{
	(void)state;
	struct bw w = {0};
	put(&w, 2, 5);
	put(&w, 3, 4);
	put(&w, 0, 4); /* channelConfiguration 0 */
	put(&w, 0, 3); /* GA flags */
	put(&w, 0, 4); /* PCE: element_instance_tag */
	put(&w, 1, 2);
	put(&w, 3, 4);
	put(&w, 2, 4); /* front */
	put(&w, 1, 4); /* side */
	put(&w, 1, 4); /* back */
	put(&w, 1, 2); /* lfe */
	put(&w, 1, 3); /* assoc data */
	put(&w, 1, 4); /* cc */
	put(&w, 0, 1);
	put(&w, 1, 1); /* stereo mixdown present */
	put(&w, 2, 4);
	put(&w, 0, 1);
	put(&w, 0, 1); /* front SCE */
	put(&w, 0, 4);
	put(&w, 1, 1); /* front CPE */
	put(&w, 0, 4);
	put(&w, 1, 1); /* side CPE */
	put(&w, 1, 4);
	put(&w, 0, 1); /* back SCE */
	put(&w, 1, 4);
	put(&w, 0, 4); /* lfe tag */
	put(&w, 0, 4); /* assoc tag */
	put(&w, 0, 5); /* cc */
	put(&w, 0, (8 - w.bits % 8) % 8);
	put(&w, 2, 8); /* comment bytes */
	put(&w, 0x6869, 16);
	size_t pce_end = bw_len(&w);
	put(&w, 0x2b7, 11); /* SBR sync extension after the PCE */
	put(&w, 5, 5);
	put(&w, 1, 1);
	put(&w, 3, 4);
	struct aac_asc a;
	parse_ok(w.buf, bw_len(&w), &a);
	assert_int_equal(a.channel_config, 0);
	assert_int_equal(a.channels, 7);
	assert_int_equal(a.object_type, 5);
	assert_int_equal(a.ext_sample_rate, 48000);
	/* Without the PCE's comment the channel count is unknown: error. */
	assert_int_equal(aac_parse_asc(w.buf, pce_end - 1, &a), -EPROTO);
	parse_ok(w.buf, pce_end, &a);
	assert_int_equal(a.channels, 7);
	assert_int_equal(a.object_type, 2);
}

static void test_asc_malformed(void **state)
{
	(void)state;
	struct aac_asc a;
	const uint8_t lc[] = {0x12, 0x10};
	assert_int_equal(aac_parse_asc(NULL, 2, &a), -EPROTO);
	assert_int_equal(aac_parse_asc(lc, 0, &a), -EPROTO);
	assert_int_equal(aac_parse_asc(lc, 1, &a), -EPROTO);
	const uint8_t aot0[] = {0x02, 0x10};
	assert_int_equal(aac_parse_asc(aot0, 2, &a), -EPROTO);
	const uint8_t idx13[] = {0x16, 0x90}; /* frequency index 13 reserved */
	assert_int_equal(aac_parse_asc(idx13, 2, &a), -EPROTO);
	const uint8_t cfg8[] = {0x12, 0x40}; /* channel config 8 reserved */
	assert_int_equal(aac_parse_asc(cfg8, 2, &a), -EPROTO);
	assert_int_equal(a.sample_rate, 0);
	const uint8_t rate0[] = {0x17, 0x80, 0x00, 0x00, 0x10}; /* explicit rate 0 */
	assert_int_equal(aac_parse_asc(rate0, sizeof(rate0), &a), -EPROTO);
	const uint8_t nopce[] = {0x12, 0x00}; /* config 0 but no PCE */
	assert_int_equal(aac_parse_asc(nopce, 2, &a), -EPROTO);
	const uint8_t he_short[] = {0x2b, 0x92}; /* SBR without core AOT */
	assert_int_equal(aac_parse_asc(he_short, 2, &a), -EPROTO);
	srand(7);
	uint8_t buf[24];
	for (int i = 0; i < 50000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		int rc = aac_parse_asc(buf, n, &a);
		assert_true(rc == 0 || rc == -EPROTO);
		/* Channels stay 0 only for non-GA objects without a config. */
		if (rc == 0)
			assert_true(a.sample_rate > 0 && (a.channels > 0 || a.channel_config == 0));
	}
}

static void test_make_asc(void **state)
{
	(void)state;
	uint8_t out[2];
	assert_int_equal(aac_make_asc(2, 44100, 2, out), 2);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x10);
	assert_int_equal(aac_make_asc(2, 48000, 1, out), 2);
	assert_int_equal(out[0], 0x11);
	assert_int_equal(out[1], 0x88);
	assert_int_equal(aac_make_asc(2, 44100, 8, out), 2);
	assert_int_equal(out[1], 0x38);
	assert_int_equal(aac_make_asc(2, 44000, 2, out), -EINVAL);
	assert_int_equal(aac_make_asc(2, 44100, 7, out), -EINVAL);
	assert_int_equal(aac_make_asc(2, 44100, 0, out), -EINVAL);
	assert_int_equal(aac_make_asc(31, 44100, 2, out), -EINVAL);
	assert_int_equal(aac_make_asc(0, 44100, 2, out), -EINVAL);
	/* Round trip through the parser for every table rate. */
	const unsigned rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
				  22050, 16000, 12000, 11025, 8000,  7350};
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		for (unsigned ch = 1; ch <= 6; ch++) {
			struct aac_asc a;
			assert_int_equal(aac_make_asc(2, rates[i], ch, out), 2);
			parse_ok(out, 2, &a);
			assert_int_equal(a.object_type, 2);
			assert_int_equal(a.freq_index, i);
			assert_int_equal(a.sample_rate, rates[i]);
			assert_int_equal(a.channels, ch);
		}
	}
}

static void mp3(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, unsigned ver, unsigned layer,
		unsigned kbps, unsigned rate, unsigned ch, unsigned len, unsigned samples)
{
	const uint8_t h[4] = {b0, b1, b2, b3};
	struct mp3_header m;
	assert_int_equal(mp3_parse_header(h, 4, &m), 0);
	assert_int_equal(m.version, ver);
	assert_int_equal(m.layer, layer);
	assert_int_equal(m.bitrate_kbps, kbps);
	assert_int_equal(m.sample_rate, rate);
	assert_int_equal(m.channels, ch);
	assert_int_equal(m.frame_len, len);
	assert_int_equal(m.frame_samples, samples);
}

static void test_mp3(void **state)
{
	(void)state;
	mp3(0xff, 0xfb, 0x90, 0x64, 1, 3, 128, 44100, 2, 417, 1152);
	mp3(0xff, 0xfb, 0x92, 0x64, 1, 3, 128, 44100, 2, 418, 1152); /* padding */
	mp3(0xff, 0xfa, 0xe4, 0xc4, 1, 3, 320, 48000, 1, 960, 1152); /* CRC, mono */
	mp3(0xff, 0xf3, 0x40, 0xc4, 2, 3, 32, 22050, 1, 104, 576);   /* libmp3lame */
	mp3(0xff, 0xe3, 0x18, 0xc4, 25, 3, 8, 8000, 1, 72, 576);     /* MPEG-2.5 */
	mp3(0xff, 0xfd, 0xc4, 0x04, 1, 2, 256, 48000, 2, 768, 1152); /* layer II */
	mp3(0xff, 0xf5, 0x84, 0x00, 2, 2, 64, 24000, 2, 384, 1152);  /* MPEG-2 L2 */
	mp3(0xff, 0xff, 0xc0, 0x00, 1, 1, 384, 44100, 2, 416, 384);  /* layer I */
	mp3(0xff, 0xff, 0xc2, 0x00, 1, 1, 384, 44100, 2, 420, 384);  /* L1 pad: 4 */
	mp3(0xff, 0xf7, 0xe0, 0x00, 2, 1, 256, 22050, 2, 556, 384);  /* MPEG-2 L1 */

	struct mp3_header m;
	const uint8_t bad[][4] = {
	    {0xff, 0xeb, 0x90, 0x64}, /* version 01 reserved */
	    {0xff, 0xf9, 0x90, 0x64}, /* layer 00 reserved */
	    {0xff, 0xfb, 0x00, 0x64}, /* free format */
	    {0xff, 0xfb, 0xf0, 0x64}, /* bitrate 15 */
	    {0xff, 0xfb, 0x9c, 0x64}, /* sample rate 3 */
	    {0xfe, 0xfb, 0x90, 0x64}, /* sync */
	    {0xff, 0x1b, 0x90, 0x64}, /* sync */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mp3_parse_header(bad[i], 4, &m), -EPROTO);
	const uint8_t ok[] = {0xff, 0xfb, 0x90, 0x64};
	assert_int_equal(mp3_parse_header(ok, 3, &m), -EPROTO);
	assert_int_equal(mp3_parse_header(NULL, 4, &m), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_asc_ffmpeg_lc), cmocka_unit_test(test_asc_he),
	    cmocka_unit_test(test_asc_escapes),   cmocka_unit_test(test_asc_pce),
	    cmocka_unit_test(test_asc_malformed), cmocka_unit_test(test_make_asc),
	    cmocka_unit_test(test_mp3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
