/* RTMP handshake: simple (random + echo) and the FP9 digest form.
 *
 * Digest form (public protocol facts, as documented by rtmpdump/crtmpserver):
 * a 32-byte HMAC-SHA256 digest sits inside the 1536-byte C1/S1 at an offset
 * derived from four bytes:
 *   schema 0: offset = (sum of bytes 772..775) % 728 + 776
 *   schema 1: offset = (sum of bytes 8..11)    % 728 + 12
 * The digest covers the other 1504 bytes. C1 is keyed with the first 30
 * bytes of the Flash Player key, S1 with the first 36 bytes of the Media
 * Server key. S2 ends with HMAC(HMAC(full FMS key, C1 digest), S2[0..1504)),
 * C2 with HMAC(HMAC(full FP key, S1 digest), C2[0..1504)). */
#include "proto/rtmp/handshake.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/bytes.h"

#define DIGEST_LEN     32
#define DIGEST_MSG_LEN (RTMP_SIG_SIZE - DIGEST_LEN) /* 1504 */
#define FP_KEY_SHORT   30                           /* "Genuine Adobe Flash Player 001" */
#define FMS_KEY_SHORT  36                           /* "Genuine Adobe Flash Media Server 001" */
#define SERVER_VERSION 0x04050001u                  /* advertised in S1 when answering a digest */
#define CLIENT_VERSION 0x09007c02u                  /* 9.0.124.2, what FP9-style clients send */

/* The 32 bytes both keys share after their ASCII prefix. The arrays are
 * exactly as long as the strings (no NUL). */
#define KEY_TAIL                                                                                   \
	"\xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57"                         \
	"\x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae"

static const uint8_t fms_key[68] = "Genuine Adobe Flash Media Server 001" KEY_TAIL;
static const uint8_t fp_key[62] = "Genuine Adobe Flash Player 001" KEY_TAIL;

enum { SCHEMA0 = 0, SCHEMA1 = 1 };

/* Fills p[0..n) with random bytes. The handshake bytes carry no secret, so
 * when the CSPRNG fails a time-seeded xorshift is good enough. */
static void fill_random(uint8_t *p, size_t n)
{
	if (RAND_bytes(p, (int)n) == 1)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^ 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* Milliseconds of a monotonic clock, for the time field of C1/S1. */
static uint32_t uptime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* out = HMAC-SHA256(key, data). 0 or -EIO (out is zeroed then). */
static int hmac256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
		   uint8_t out[DIGEST_LEN])
{
	unsigned out_len = 0;
	if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) ||
	    out_len != DIGEST_LEN) {
		memset(out, 0, DIGEST_LEN);
		return -EIO;
	}
	return 0;
}

/* Digest offset inside a 1536-byte signature for a schema; always leaves
 * room for the 32-byte digest (max 775 + 32 <= 1536, 739 + 32 <= 772). */
static size_t digest_offset(const uint8_t sig[RTMP_SIG_SIZE], int schema)
{
	size_t base = schema == SCHEMA0 ? 772 : 8;
	unsigned sum = (unsigned)sig[base] + sig[base + 1] + sig[base + 2] + sig[base + 3];
	return sum % 728 + base + 4;
}

/* HMAC over the signature without its digest bytes [off, off + 32). */
static int sig_digest(const uint8_t sig[RTMP_SIG_SIZE], size_t off, const uint8_t *key,
		      size_t key_len, uint8_t out[DIGEST_LEN])
{
	uint8_t msg[DIGEST_MSG_LEN];
	memcpy(msg, sig, off);
	memcpy(msg + off, sig + off + DIGEST_LEN, DIGEST_MSG_LEN - off);
	return hmac256(key, key_len, msg, sizeof(msg), out);
}

/* Finds a valid digest in sig under key. Sets *schema and returns the
 * offset, or -1 when neither schema verifies. */
static long find_digest(const uint8_t sig[RTMP_SIG_SIZE], const uint8_t *key, size_t key_len,
			int *schema)
{
	static const int order[2] = {SCHEMA1, SCHEMA0};
	for (int i = 0; i < 2; i++) {
		size_t off = digest_offset(sig, order[i]);
		uint8_t d[DIGEST_LEN];
		if (sig_digest(sig, off, key, key_len, d) == 0 &&
		    CRYPTO_memcmp(d, sig + off, DIGEST_LEN) == 0) {
			if (schema)
				*schema = order[i];
			return (long)off;
		}
	}
	return -1;
}

/* Writes the digest of a freshly filled signature in place. */
static int sign(uint8_t sig[RTMP_SIG_SIZE], int schema, const uint8_t *key, size_t key_len)
{
	size_t off = digest_offset(sig, schema);
	return sig_digest(sig, off, key, key_len, sig + off);
}

/* Fills a 1536-byte response (S2 or C2): random bytes ending with
 * HMAC(HMAC(key, peer_digest), resp[0..1504)). */
static int make_response(uint8_t resp[RTMP_SIG_SIZE], const uint8_t *key, size_t key_len,
			 const uint8_t peer_digest[DIGEST_LEN])
{
	uint8_t k[DIGEST_LEN];
	fill_random(resp, DIGEST_MSG_LEN);
	int rc = hmac256(key, key_len, peer_digest, DIGEST_LEN, k);
	if (rc == 0)
		rc = hmac256(k, DIGEST_LEN, resp, DIGEST_MSG_LEN, resp + DIGEST_MSG_LEN);
	return rc;
}

/* Checks a response made by make_response(). */
static bool response_ok(const uint8_t resp[RTMP_SIG_SIZE], const uint8_t *key, size_t key_len,
			const uint8_t peer_digest[DIGEST_LEN])
{
	uint8_t k[DIGEST_LEN], d[DIGEST_LEN];
	if (hmac256(key, key_len, peer_digest, DIGEST_LEN, k) ||
	    hmac256(k, DIGEST_LEN, resp, DIGEST_MSG_LEN, d))
		return false;
	return CRYPTO_memcmp(d, resp + DIGEST_MSG_LEN, DIGEST_LEN) == 0;
}

int rtmp_handshake_server(const uint8_t c0c1[1 + RTMP_SIG_SIZE],
			  uint8_t s0s1s2[1 + 2 * RTMP_SIG_SIZE], bool *digest)
{
	if (digest)
		*digest = false;
	if (c0c1[0] == 6 || c0c1[0] == 8)
		return -ENOTSUP; /* RTMPE */
	if (c0c1[0] != 3)
		return -EPROTO;

	const uint8_t *c1 = c0c1 + 1;
	uint8_t *s1 = s0s1s2 + 1, *s2 = s0s1s2 + 1 + RTMP_SIG_SIZE;
	s0s1s2[0] = 3;
	fill_random(s1, RTMP_SIG_SIZE);
	wr_be32(s1, uptime_ms());

	int schema = SCHEMA1;
	long coff = find_digest(c1, fp_key, FP_KEY_SHORT, &schema);
	if (coff < 0) {
		wr_be32(s1 + 4, 0);
		memcpy(s2, c1, RTMP_SIG_SIZE);
		return 0;
	}
	/* Answer in the client's schema: clients look there first. */
	wr_be32(s1 + 4, SERVER_VERSION);
	if (sign(s1, schema, fms_key, FMS_KEY_SHORT) ||
	    make_response(s2, fms_key, sizeof(fms_key), c1 + coff)) {
		/* HMAC unavailable: fall back to the simple form. */
		wr_be32(s1 + 4, 0);
		memcpy(s2, c1, RTMP_SIG_SIZE);
		return 0;
	}
	if (digest)
		*digest = true;
	return 0;
}

void rtmp_handshake_client_c0c1(uint8_t c0c1[1 + RTMP_SIG_SIZE], bool digest)
{
	uint8_t *c1 = c0c1 + 1;
	c0c1[0] = 3;
	fill_random(c1, RTMP_SIG_SIZE);
	wr_be32(c1, uptime_ms());
	wr_be32(c1 + 4, digest ? CLIENT_VERSION : 0);
	if (digest && sign(c1, SCHEMA0, fp_key, FP_KEY_SHORT))
		wr_be32(c1 + 4, 0); /* no HMAC: send a plain C1 instead */
}

int rtmp_handshake_client_c2(const uint8_t c0c1[1 + RTMP_SIG_SIZE],
			     const uint8_t s0s1s2[1 + 2 * RTMP_SIG_SIZE], uint8_t c2[RTMP_SIG_SIZE])
{
	const uint8_t *c1 = c0c1 + 1, *s1 = s0s1s2 + 1, *s2 = s0s1s2 + 1 + RTMP_SIG_SIZE;
	if (s0s1s2[0] != 3)
		return -EPROTO;
	long coff = find_digest(c1, fp_key, FP_KEY_SHORT, NULL);
	/* A server with a zero version answers the simple handshake. */
	if (coff < 0 || rd_be32(s1 + 4) == 0) {
		memcpy(c2, s1, RTMP_SIG_SIZE);
		return 0;
	}
	long soff = find_digest(s1, fms_key, FMS_KEY_SHORT, NULL);
	if (soff < 0 || !response_ok(s2, fms_key, sizeof(fms_key), c1 + coff))
		return -EPROTO;
	if (make_response(c2, fp_key, sizeof(fp_key), s1 + soff))
		return -EPROTO;
	return 0;
}
