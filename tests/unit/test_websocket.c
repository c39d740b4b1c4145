#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/http/websocket.h"

/* Parses from an exact-size heap copy, so ASan sees overreads. */
static int64_t parse_copy(const uint8_t *p, size_t len, uint64_t max, bool from_client,
			  struct ws_frame *f, uint8_t **keep)
{
	uint8_t *b = malloc(len ? len : 1);
	assert_non_null(b);
	if (len)
		memcpy(b, p, len);
	int64_t rc = ws_parse_frame(b, len, max, from_client, f);
	if (keep)
		*keep = b;
	else
		free(b);
	return rc;
}

/* RFC 6455 5.7 examples */
static const uint8_t hello_unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
static const uint8_t hello_masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
				       0x7f, 0x9f, 0x4d, 0x51, 0x58};

static void test_rfc_hello_unmasked(void **state)
{
	struct ws_frame f;
	uint8_t *b;
	assert_int_equal(parse_copy(hello_unmasked, 7, 1000, false, &f, &b), 7);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_false(f.masked);
	assert_int_equal(f.header_len, 2);
	assert_int_equal(f.payload_len, 5);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_ptr_equal(f.payload, b + 2);
	/* a server requires masked frames */
	assert_int_equal(ws_parse_frame(b, 7, 1000, true, &f), -EPROTO);
	free(b);
}

static void test_rfc_hello_masked(void **state)
{
	struct ws_frame f;
	uint8_t *b;
	assert_int_equal(parse_copy(hello_masked, 11, 1000, true, &f, &b), 11);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_true(f.masked);
	assert_int_equal(f.header_len, 6);
	assert_memory_equal(f.mask, "\x37\xfa\x21\x3d", 4);
	/* unmask into a separate buffer: source stays masked */
	uint8_t out[5];
	struct ws_frame g = f;
	ws_frame_unmask(&g, out);
	assert_memory_equal(out, "Hello", 5);
	assert_false(g.masked);
	assert_ptr_equal(g.payload, out);
	assert_memory_equal(b + 6, hello_masked + 6, 5);
	/* in place */
	ws_frame_unmask(&f, b + 6);
	assert_memory_equal(b + 6, "Hello", 5);
	assert_ptr_equal(f.payload, b + 6);
	/* a second unmask is a no-op */
	ws_frame_unmask(&f, b + 6);
	assert_memory_equal(b + 6, "Hello", 5);
	/* a client refuses masked frames */
	assert_int_equal(parse_copy(hello_masked, 11, 1000, false, &f, NULL), -EPROTO);
	free(b);
}

static void test_rfc_fragments_and_control(void **state)
{
	static const uint8_t frag1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
	static const uint8_t frag2[] = {0x80, 0x02, 0x6c, 0x6f};
	static const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	static const uint8_t pong_masked[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					      0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ws_frame f;
	bool in_msg = false;
	assert_int_equal(parse_copy(frag1, sizeof(frag1), 100, false, &f, NULL), 5);
	assert_false(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_int_equal(ws_check_sequence(&in_msg, &f), 0);
	assert_true(in_msg);
	/* a ping may come between fragments */
	assert_int_equal(parse_copy(ping, sizeof(ping), 100, false, &f, NULL), 7);
	assert_int_equal(f.opcode, WS_OP_PING);
	assert_int_equal(ws_check_sequence(&in_msg, &f), 0);
	assert_true(in_msg);
	uint8_t *b2;
	assert_int_equal(parse_copy(frag2, sizeof(frag2), 100, false, &f, &b2), 4);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_CONT);
	assert_true(f.payload[0] == 'l' && f.payload[1] == 'o');
	free(b2);
	assert_int_equal(ws_check_sequence(&in_msg, &f), 0);
	assert_false(in_msg);
	/* continuation without a message */
	assert_int_equal(ws_check_sequence(&in_msg, &f), -EPROTO);
	/* a new data frame inside a message */
	in_msg = true;
	assert_int_equal(parse_copy(hello_unmasked, 7, 100, false, &f, NULL), 7);
	assert_int_equal(ws_check_sequence(&in_msg, &f), -EPROTO);

	uint8_t out[5];
	uint8_t *b;
	assert_int_equal(parse_copy(pong_masked, sizeof(pong_masked), 100, true, &f, &b), 11);
	assert_int_equal(f.opcode, WS_OP_PONG);
	ws_frame_unmask(&f, out);
	assert_memory_equal(out, "Hello", 5);
	free(b);
}

static void test_extended_lengths(void **state)
{
	/* 256 bytes: 16-bit length */
	size_t n = 4 + 256;
	uint8_t *b = calloc(1, n);
	assert_non_null(b);
	b[0] = 0x82, b[1] = 0x7e, b[2] = 0x01, b[3] = 0x00;
	struct ws_frame f;
	assert_int_equal(ws_parse_frame(b, n, 1 << 20, false, &f), (int64_t)n);
	assert_int_equal(f.header_len, 4);
	assert_int_equal(f.payload_len, 256);
	assert_int_equal(f.opcode, WS_OP_BINARY);
	/* one byte short: header known, payload pending */
	assert_int_equal(ws_parse_frame(b, n - 1, 1 << 20, false, &f), 0);
	assert_int_equal(f.header_len, 4);
	assert_int_equal(f.payload_len, 256);
	assert_null(f.payload);
	/* limit */
	assert_int_equal(ws_parse_frame(b, 4, 255, false, &f), -EMSGSIZE);
	assert_int_equal(ws_parse_frame(b, 4, 256, false, &f), 0);
	free(b);

	/* 64 KiB: 64-bit length, rejected early by the limit */
	static const uint8_t big[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0};
	assert_int_equal(parse_copy(big, sizeof(big), 65535, false, &f, NULL), -EMSGSIZE);
	assert_int_equal(parse_copy(big, sizeof(big), 65536, false, &f, NULL), 0);
	assert_int_equal(f.header_len, 10);
	assert_int_equal(f.payload_len, 65536);
	/* incomplete extended lengths need more bytes */
	assert_int_equal(parse_copy(big, 9, 1, false, &f, NULL), 0);
	assert_int_equal(f.header_len, 0);
	assert_int_equal(parse_copy(big, 3, 1, false, &f, NULL), 0);
}

static void test_protocol_errors(void **state)
{
	static const struct {
		uint8_t b[10];
		size_t len;
		bool from_client;
		int rc;
	} cases[] = {
	    {{0xc1, 0x00}, 2, false, -EPROTO},                                /* RSV1 */
	    {{0x91, 0x00}, 2, false, -EPROTO},                                /* RSV3 */
	    {{0x83, 0x00}, 2, false, -EPROTO},                                /* opcode 3 */
	    {{0x8b, 0x00}, 2, false, -EPROTO},                                /* opcode 0xB */
	    {{0x09, 0x00}, 2, false, -EPROTO},                                /* fragmented ping */
	    {{0x88, 0x7e, 0x00, 0x7e}, 4, false, -EPROTO},                    /* close > 125 */
	    {{0x89, 0x7f}, 2, false, -EPROTO},                                /* ping, 64-bit len */
	    {{0x82, 0x7e, 0x00, 0x7d}, 4, false, -EPROTO},                    /* non-minimal 16 */
	    {{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 10, false, -EPROTO}, /* non-minimal 64 */
	    {{0x82, 0x7f, 0x80, 0, 0, 0, 0, 1, 0, 0}, 10, false, -EPROTO},    /* top bit */
	    {{0x82, 0x00}, 2, true, -EPROTO},  /* unmasked from client */
	    {{0x82, 0x80}, 2, false, -EPROTO}, /* masked from server */
	    {{0x89, 0x7d}, 2, false, 0},       /* ping 125: wait */
	    {{0x82, 0x80, 1, 2}, 4, true, 0},  /* mask incomplete */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws_frame f;
		int64_t rc =
		    parse_copy(cases[i].b, cases[i].len, 1 << 20, cases[i].from_client, &f, NULL);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %lld", i, (long long)rc);
	}
	struct ws_frame f;
	assert_int_equal(ws_parse_frame(hello_unmasked, 0, 10, false, &f), 0);
	assert_int_equal(ws_parse_frame(hello_unmasked, 1, 10, false, &f), 0);
	/* errors show on the first two bytes */
	assert_int_equal(ws_parse_frame((const uint8_t *)"\xc1\x05", 2, 10, false, &f), -EPROTO);
}

static void test_zero_length_and_pieces(void **state)
{
	static const uint8_t close_empty[] = {0x88, 0x80, 1, 2, 3, 4};
	struct ws_frame f;
	uint8_t *b;
	assert_int_equal(parse_copy(close_empty, sizeof(close_empty), 0, true, &f, &b), 6);
	assert_int_equal(f.payload_len, 0);
	assert_non_null(f.payload);
	ws_frame_unmask(&f, b + 6);
	free(b);

	/* masking in pieces equals masking at once */
	uint8_t src[37], whole[37], parts[37];
	for (int i = 0; i < 37; i++)
		src[i] = (uint8_t)(i * 7);
	static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
	ws_mask(whole, src, 37, key, 0);
	ws_mask(parts, src, 5, key, 0);
	ws_mask(parts + 5, src + 5, 13, key, 5);
	ws_mask(parts + 18, src + 18, 19, key, 18);
	assert_memory_equal(whole, parts, 37);
	assert_int_equal(whole[4], src[4] ^ 0xde);
	ws_mask(whole, whole, 37, key, 0);
	assert_memory_equal(whole, src, 37);
}

static void test_write_header(void **state)
{
	uint8_t h[WS_MAX_HEADER];
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_TEXT, 5, NULL), 2);
	assert_memory_equal(h, hello_unmasked, 2);
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_TEXT, 5, key), 6);
	assert_memory_equal(h, hello_masked, 6);
	assert_int_equal(ws_write_header(h, sizeof(h), false, WS_OP_TEXT, 3, NULL), 2);
	assert_int_equal(h[0], 0x01);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 125, NULL), 2);
	assert_int_equal(h[1], 125);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 126, NULL), 4);
	assert_memory_equal(h, "\x82\x7e\x00\x7e", 4);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 256, NULL), 4);
	assert_memory_equal(h, "\x82\x7e\x01\x00", 4);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 65535, NULL), 4);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 65536, NULL), 10);
	assert_memory_equal(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	assert_int_equal(
	    ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 0x0102030405060708ull, key), 14);
	assert_memory_equal(h + 2, "\x01\x02\x03\x04\x05\x06\x07\x08\x37\xfa\x21\x3d", 12);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_PONG, 0, NULL), 2);
	assert_memory_equal(h, "\x8a\x00", 2);

	assert_int_equal(ws_write_header(h, sizeof(h), true, 3, 0, NULL), -EINVAL);
	assert_int_equal(ws_write_header(h, sizeof(h), false, WS_OP_PING, 0, NULL), -EINVAL);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_CLOSE, 126, NULL), -EINVAL);
	assert_int_equal(ws_write_header(h, sizeof(h), true, WS_OP_BINARY, 1ull << 63, NULL),
			 -EINVAL);
	assert_int_equal(ws_write_header(h, 3, true, WS_OP_BINARY, 126, NULL), -ENOSPC);
	assert_int_equal(ws_write_header(h, 5, true, WS_OP_TEXT, 5, key), -ENOSPC);
}

/* Frames written by the serializer parse back to the same fields. */
static void test_round_trip(void **state)
{
	static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
	static const uint8_t key[4] = {1, 2, 3, 4};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int masked = 0; masked < 2; masked++) {
			size_t plen = (size_t)lens[i];
			uint8_t *b = malloc(WS_MAX_HEADER + plen);
			assert_non_null(b);
			int hl = ws_write_header(b, WS_MAX_HEADER, true, WS_OP_BINARY, plen,
						 masked ? key : NULL);
			assert_true(hl >= 2);
			for (size_t k = 0; k < plen; k++)
				b[hl + k] = (uint8_t)k;
			if (masked)
				ws_mask(b + hl, b + hl, plen, key, 0);
			struct ws_frame f;
			int64_t n = ws_parse_frame(b, (size_t)hl + plen, plen, masked, &f);
			assert_int_equal(n, hl + (int64_t)plen);
			assert_int_equal(f.header_len, hl);
			assert_int_equal(f.payload_len, plen);
			ws_frame_unmask(&f, b + hl);
			for (size_t k = 0; k < plen; k++)
				if (b[hl + k] != (uint8_t)k)
					fail_msg("len %zu byte %zu", plen, k);
			free(b);
		}
	}
}

static void test_close_payload(void **state)
{
	uint8_t p[WS_MAX_CONTROL];
	uint16_t code;
	const char *reason;
	size_t rlen;
	size_t n = ws_write_close(p, WS_CLOSE_GOING_AWAY, "bye");
	assert_int_equal(n, 5);
	assert_memory_equal(p,
			    "\x03\xe9"
			    "bye",
			    5);
	assert_int_equal(ws_parse_close(p, n, &code, &reason, &rlen), 0);
	assert_int_equal(code, 1001);
	assert_int_equal(rlen, 3);
	assert_memory_equal(reason, "bye", 3);
	assert_int_equal(ws_write_close(p, 1000, NULL), 2);
	assert_int_equal(ws_parse_close(p, 0, &code, &reason, &rlen), 0);
	assert_int_equal(code, WS_CLOSE_NO_STATUS);
	assert_int_equal(rlen, 0);
	assert_int_equal(ws_parse_close(p, 1, &code, &reason, &rlen), -EPROTO);
	static const uint16_t bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ws_write_close(p, bad[i], NULL);
		assert_int_equal(ws_parse_close(p, 2, &code, &reason, &rlen), -EPROTO);
	}
	static const uint16_t good[] = {1000, 1003, 1007, 1011, 1014, 3000, 4999};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ws_write_close(p, good[i], NULL);
		assert_int_equal(ws_parse_close(p, 2, &code, &reason, &rlen), 0);
		assert_int_equal(code, good[i]);
	}
	/* reason must be UTF-8 */
	memcpy(p, "\x03\xe8\xff", 3);
	assert_int_equal(ws_parse_close(p, 3, &code, &reason, &rlen), -EPROTO);
	/* long reasons are cut at a character boundary */
	char lng[300];
	memset(lng, 'a', 122);
	for (int i = 122; i < 298; i += 2)
		memcpy(lng + i, "\xc3\xa9", 2);
	lng[298] = '\0';
	n = ws_write_close(p, 1000, lng);
	assert_int_equal(n, 2 + 122); /* the 2-byte char at 122 would end at 124 > 123 */
	assert_true(n <= WS_MAX_CONTROL);
	assert_int_equal(ws_parse_close(p, n, &code, &reason, &rlen), 0);
	memset(lng, 'b', 200);
	lng[200] = '\0';
	assert_int_equal(ws_write_close(p, 1000, lng), WS_MAX_CONTROL);
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} cases[] = {
	    {"", 0, true},
	    {"Hello", 5, true},
	    {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11, true}, /* RFC 6455 examples */
	    {"\xf0\x9f\x98\x80", 4, true},
	    {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
	    {"\xef\xbf\xbf", 3, true},      /* U+FFFF */
	    {"\x00", 1, true},              /* NUL is a valid character */
	    {"\xc0\xaf", 2, false},         /* overlong '/' */
	    {"\xe0\x80\xaf", 3, false},     /* overlong */
	    {"\xf0\x80\x80\xaf", 4, false}, /* overlong */
	    {"\xed\xa0\x80", 3, false},     /* surrogate */
	    {"\xf4\x90\x80\x80", 4, false}, /* above U+10FFFF */
	    {"\xf5\x80\x80\x80", 4, false},
	    {"\x80", 1, false},
	    {"\xce", 1, false}, /* truncated */
	    {"\xe1\xbd", 2, false},
	    {"\xe1\xbd\x41", 3, false},
	    {"\xff", 1, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ws_utf8_valid((const uint8_t *)cases[i].s, cases[i].len) != cases[i].ok)
			fail_msg("case %zu", i);
}

static void test_accept_key(void **state)
{
	char out[WS_ACCEPT_LEN + 1];
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* a key computed by hand: base64 of 16 zero bytes */
	assert_int_equal(ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", out), 0);
	assert_int_equal(strlen(out), WS_ACCEPT_LEN);
	static const char *bad[] = {
	    "",
	    "dGhlIHNhbXBsZSBub25jZQ",
	    "dGhlIHNhbXBsZSBub25jZQ=",
	    "dGhlIHNhbXBsZSBub25jZQ===",
	    "dGhlIHNhbXBsZSBub25jZR==", /* padding bits set */
	    "dGhlIHNhbXBsZSBub2 jZQ==",
	    "dGhlIHNhbXBsZSBub25jZQ=x",
	    "dGhlIHNhbXBsZSBub25jZQ==  ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "junk");
		assert_int_equal(ws_accept_key(bad[i], out), -EINVAL);
		assert_string_equal(out, "");
	}
	assert_int_equal(ws_accept_key(NULL, out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_hello_unmasked),
	    cmocka_unit_test(test_rfc_hello_masked),
	    cmocka_unit_test(test_rfc_fragments_and_control),
	    cmocka_unit_test(test_extended_lengths),
	    cmocka_unit_test(test_protocol_errors),
	    cmocka_unit_test(test_zero_length_and_pieces),
	    cmocka_unit_test(test_write_header),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_close_payload),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_accept_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
