/* RTMP handshake: simple and digest forms, both digest schemas, checked
 * against an independent computation of the digests written here from the
 * published description, plus version and tampering errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/rtmp/handshake.h"

#define SIG RTMP_SIG_SIZE

static const uint8_t tail[32] = {0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0,
				 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80,
				 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae};

/* "Genuine Adobe Flash Player 001" (30) / "... Media Server 001" (36),
 * each followed by the 32-byte tail. */
static uint8_t fp_full[62], fms_full[68];

static int setup(void **state)
{
	memcpy(fp_full, "Genuine Adobe Flash Player 001", 30);
	memcpy(fp_full + 30, tail, 32);
	memcpy(fms_full, "Genuine Adobe Flash Media Server 001", 36);
	memcpy(fms_full + 36, tail, 32);
	return 0;
}

static void hmac(const uint8_t *key, size_t kl, const uint8_t *d, size_t n, uint8_t out[32])
{
	unsigned ol = 0;
	assert_non_null(HMAC(EVP_sha256(), key, (int)kl, d, n, out, &ol));
	assert_int_equal(ol, 32);
}

/* Offset for schema 0 (bytes 772..775) or 1 (bytes 8..11). */
static size_t offset_of(const uint8_t *sig, int schema)
{
	size_t b = schema == 0 ? 772 : 8;
	return (size_t)(sig[b] + sig[b + 1] + sig[b + 2] + sig[b + 3]) % 728 + b + 4;
}

static void digest_at(const uint8_t *sig, size_t off, const uint8_t *key, size_t kl,
		      uint8_t out[32])
{
	uint8_t msg[SIG - 32];
	memcpy(msg, sig, off);
	memcpy(msg + off, sig + off + 32, SIG - 32 - off);
	hmac(key, kl, msg, sizeof(msg), out);
}

static bool has_digest(const uint8_t *sig, int schema, const uint8_t *key, size_t kl)
{
	uint8_t d[32];
	size_t off = offset_of(sig, schema);
	digest_at(sig, off, key, kl, d);
	return memcmp(d, sig + off, 32) == 0;
}

/* A response (S2/C2) ends with HMAC(HMAC(key, peer digest), resp[0..1504)). */
static bool response_ok(const uint8_t *resp, const uint8_t *key, size_t kl, const uint8_t *pd)
{
	uint8_t k[32], d[32];
	hmac(key, kl, pd, 32, k);
	hmac(k, 32, resp, SIG - 32, d);
	return memcmp(d, resp + SIG - 32, 32) == 0;
}

/* A client C1 with a digest in the given schema, built independently. */
static void make_c1(uint8_t c0c1[1 + SIG], int schema, uint8_t fill)
{
	c0c1[0] = 3;
	uint8_t *c1 = c0c1 + 1;
	for (size_t i = 0; i < SIG; i++)
		c1[i] = (uint8_t)(fill + i * 31);
	c1[4] = 9, c1[5] = 0, c1[6] = 124, c1[7] = 2;
	size_t off = offset_of(c1, schema);
	digest_at(c1, off, fp_full, 30, c1 + off);
}

/* C1 whose offset bytes are set by hand and whose digest is written at a
 * hand-computed offset: the server finds it only with the right formula. */
static void test_offsets_golden(void **state)
{
	static const struct {
		size_t base, off;
		uint8_t v;
	} cases[] = {
	    {772, 1020 % 728 + 776, 0xff}, /* schema 0: 4 * 255 -> 1068 */
	    {772, 776, 0},                 /* schema 0: smallest offset */
	    {8, 800 % 728 + 12, 200},      /* schema 1: 4 * 200 -> 84 */
	    {8, 12, 0},                    /* schema 1: smallest offset */
	    {8, 727 + 12, 0},              /* schema 1: largest offset (sum 727) */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t c0c1[1 + SIG], s[1 + 2 * SIG];
		uint8_t *c1 = c0c1 + 1;
		c0c1[0] = 3;
		for (size_t j = 0; j < SIG; j++)
			c1[j] = (uint8_t)(j * 13 + i);
		memset(c1 + cases[i].base, cases[i].v, 4);
		if (cases[i].off == 739)
			c1[8] = 255, c1[9] = 255, c1[10] = 217, c1[11] = 0;
		digest_at(c1, cases[i].off, fp_full, 30, c1 + cases[i].off);
		bool digest = false;
		assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
		assert_true(digest);
		/* the same C1 with the digest one byte off is not recognised */
		memmove(c1 + cases[i].off + 1, c1 + cases[i].off, 32);
		assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
		assert_false(digest);
	}
}

static void test_simple(void **state)
{
	uint8_t c0c1[1 + SIG], s[1 + 2 * SIG], c2[SIG];
	rtmp_handshake_client_c0c1(c0c1, false);
	assert_int_equal(c0c1[0], 3);
	assert_memory_equal(c0c1 + 5, "\0\0\0\0", 4); /* zero version: simple */
	bool digest = true;
	assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
	assert_false(digest);
	assert_int_equal(s[0], 3);
	assert_memory_equal(s + 1 + SIG, c0c1 + 1, SIG); /* S2 echoes C1 */
	assert_memory_equal(s + 5, "\0\0\0\0", 4);
	assert_int_equal(rtmp_handshake_client_c2(c0c1, s, c2), 0);
	assert_memory_equal(c2, s + 1, SIG); /* C2 echoes S1 */
	/* NULL digest pointer is fine */
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), 0);
}

/* Checks a digest answer to C1 whose digest sits in `schema`. */
static void check_digest_answer(const uint8_t *c0c1, const uint8_t *s, int schema)
{
	const uint8_t *c1 = c0c1 + 1, *s1 = s + 1, *s2 = s + 1 + SIG;
	assert_int_equal(s[0], 3);
	assert_int_not_equal(s1[4], 0); /* a version, so clients look for a digest */
	/* S1 digest, keyed with the short FMS key, in the client's schema */
	assert_true(has_digest(s1, schema, fms_full, 36));
	/* S2 = HMAC(HMAC(full FMS key, C1 digest), S2[0..1504)) */
	assert_true(response_ok(s2, fms_full, 68, c1 + offset_of(c1, schema)));
	assert_memory_not_equal(s2, c1, SIG);
}

static void test_digest_schema0_own_client(void **state)
{
	uint8_t c0c1[1 + SIG], s[1 + 2 * SIG], c2[SIG];
	rtmp_handshake_client_c0c1(c0c1, true);
	assert_int_equal(c0c1[0], 3);
	assert_true(has_digest(c0c1 + 1, 0, fp_full, 30));
	bool digest = false;
	assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
	assert_true(digest);
	check_digest_answer(c0c1, s, 0);
	/* C2 = HMAC(HMAC(full FP key, S1 digest), C2[0..1504)) */
	assert_int_equal(rtmp_handshake_client_c2(c0c1, s, c2), 0);
	assert_true(response_ok(c2, fp_full, 62, s + 1 + offset_of(s + 1, 0)));
}

static void test_digest_schema1(void **state)
{
	/* FFmpeg's client puts its digest in schema 1. */
	for (uint8_t fill = 0; fill < 8; fill++) {
		uint8_t c0c1[1 + SIG], s[1 + 2 * SIG];
		make_c1(c0c1, 1, fill);
		bool digest = false;
		assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
		assert_true(digest);
		check_digest_answer(c0c1, s, 1);
		/* and our client accepts that answer */
		uint8_t c2[SIG];
		assert_int_equal(rtmp_handshake_client_c2(c0c1, s, c2), 0);
		assert_true(response_ok(c2, fp_full, 62, s + 1 + offset_of(s + 1, 1)));
	}
}

static void test_bad_client_digest_is_simple(void **state)
{
	uint8_t c0c1[1 + SIG], s[1 + 2 * SIG];
	make_c1(c0c1, 0, 3);
	c0c1[1 + offset_of(c0c1 + 1, 0) + 5] ^= 1; /* corrupt the digest */
	bool digest = true;
	assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
	assert_false(digest);
	assert_memory_equal(s + 1 + SIG, c0c1 + 1, SIG);
	/* a digest keyed with the wrong (server) key is not a client digest */
	uint8_t *c1 = c0c1 + 1;
	size_t off = offset_of(c1, 0);
	digest_at(c1, off, fms_full, 36, c1 + off);
	assert_int_equal(rtmp_handshake_server(c0c1, s, &digest), 0);
	assert_false(digest);
}

static void test_versions(void **state)
{
	uint8_t c0c1[1 + SIG], s[1 + 2 * SIG];
	rtmp_handshake_client_c0c1(c0c1, true);
	c0c1[0] = 6;
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), -ENOTSUP);
	c0c1[0] = 8;
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), -ENOTSUP);
	c0c1[0] = 9;
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), -EPROTO);
	c0c1[0] = 0;
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), -EPROTO);
	c0c1[0] = 0xff;
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), -EPROTO);
}

static void test_client_rejects_bad_server(void **state)
{
	uint8_t c0c1[1 + SIG], s[1 + 2 * SIG], bad[1 + 2 * SIG], c2[SIG];
	rtmp_handshake_client_c0c1(c0c1, true);
	assert_int_equal(rtmp_handshake_server(c0c1, s, NULL), 0);
	/* wrong S0 */
	memcpy(bad, s, sizeof(s));
	bad[0] = 6;
	assert_int_equal(rtmp_handshake_client_c2(c0c1, bad, c2), -EPROTO);
	/* S1 digest broken (version still set) */
	memcpy(bad, s, sizeof(s));
	bad[1 + offset_of(s + 1, 0)] ^= 0x80;
	assert_int_equal(rtmp_handshake_client_c2(c0c1, bad, c2), -EPROTO);
	/* S2 response broken */
	memcpy(bad, s, sizeof(s));
	bad[1 + SIG + SIG - 1] ^= 1;
	assert_int_equal(rtmp_handshake_client_c2(c0c1, bad, c2), -EPROTO);
	/* S2 signed for another client */
	uint8_t other[1 + SIG], s_other[1 + 2 * SIG];
	rtmp_handshake_client_c0c1(other, true);
	assert_int_equal(rtmp_handshake_server(other, s_other, NULL), 0);
	memcpy(bad, s, 1 + SIG);
	memcpy(bad + 1 + SIG, s_other + 1 + SIG, SIG);
	assert_int_equal(rtmp_handshake_client_c2(c0c1, bad, c2), -EPROTO);
	/* a server answering the simple way (zero version) is accepted */
	memcpy(bad, s, sizeof(s));
	memset(bad + 5, 0, 4);
	memcpy(bad + 1 + SIG, c0c1 + 1, SIG);
	assert_int_equal(rtmp_handshake_client_c2(c0c1, bad, c2), 0);
	assert_memory_equal(c2, bad + 1, SIG);
}

static void test_randomness(void **state)
{
	/* Two handshakes never produce the same S1 (random fill). */
	uint8_t c0c1[1 + SIG], a[1 + 2 * SIG], b[1 + 2 * SIG];
	rtmp_handshake_client_c0c1(c0c1, false);
	assert_int_equal(rtmp_handshake_server(c0c1, a, NULL), 0);
	assert_int_equal(rtmp_handshake_server(c0c1, b, NULL), 0);
	assert_memory_not_equal(a + 9, b + 9, SIG - 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offsets_golden),
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_digest_schema0_own_client),
	    cmocka_unit_test(test_digest_schema1),
	    cmocka_unit_test(test_bad_client_digest_is_simple),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_client_rejects_bad_server),
	    cmocka_unit_test(test_randomness),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
