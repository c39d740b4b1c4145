/* AMF0: golden bytes per the AMF0 specification's type layouts, decode ->
 * encode round trips, RTMP command bodies, and malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format/amf0.h"

#define ONE 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 /* 1.0 as IEEE 754 big-endian */

/* One value of every type inside a strict array. */
static const uint8_t all_types[] = {
    0x0a, 0,    0,    0,    14,                                      /* strict array, 14 items */
    0x00, ONE,                                                       /* number 1.0 */
    0x01, 0x01,                                                      /* true */
    0x02, 0,    3,    'a',  'p',  'p',                               /* "app" */
    0x03, 0,    1,    'a',  0x00, ONE,  0,    0,   9,                /* {a: 1} */
    0x05,                                                            /* null */
    0x06,                                                            /* undefined */
    0x07, 0x00, 0x02,                                                /* reference 2 */
    0x08, 0,    0,    0,    7,    0,    1,    'b', 0x05, 0,    0, 9, /* ECMA, count hint 7, {b:
									null} */
    0x0a, 0,    0,    0,    1,    0x01, 0x00,                        /* [false] */
    0x0b, 0x42, 0x75, 0xd3, 0xef, 0x79, 0x80, 0,   0,    0,    0,    /* date 1.5e12 ms, tz 0 */
    0x0c, 0,    0,    0,    3,    'x',  'y',  'z',                   /* long string */
    0x0d,                                                            /* unsupported */
    0x0f, 0,    0,    0,    4,    '<',  'a',  '/', '>',              /* xml */
    0x10, 0,    3,    'F',  'o',  'o',  0,    1,   'x',  0x02, 0, 0, 0, 0, 9, /* Foo{x: ""} */
};

static void test_decode_all_types(void **state)
{
	(void)state;
	struct amf0_value v;
	size_t used = 0;
	assert_int_equal(amf0_decode(all_types, sizeof(all_types), &v, &used), 0);
	assert_int_equal(used, sizeof(all_types));
	assert_int_equal(v.type, AMF0_STRICT_ARRAY);
	assert_int_equal(v.nitems, 14);
	const struct amf0_value *it = v.items;
	assert_int_equal(it[0].type, AMF0_NUMBER);
	assert_true(it[0].num == 1.0);
	assert_int_equal(it[1].type, AMF0_BOOLEAN);
	assert_true(it[1].boolean);
	assert_int_equal(it[2].type, AMF0_STRING);
	assert_string_equal(it[2].str, "app");
	assert_int_equal(it[2].str_len, 3);
	assert_int_equal(it[3].type, AMF0_OBJECT);
	assert_true(amf0_get_num(&it[3], "a", 0) == 1.0);
	assert_int_equal(it[4].type, AMF0_NULL);
	assert_int_equal(it[5].type, AMF0_UNDEFINED);
	assert_int_equal(it[6].type, AMF0_REFERENCE);
	assert_true(it[6].num == 2);
	assert_int_equal(it[7].type, AMF0_ECMA_ARRAY);
	assert_int_equal(it[7].nprops, 1); /* the count 7 was only a hint */
	assert_int_equal(amf0_get(&it[7], "b")->type, AMF0_NULL);
	assert_int_equal(it[8].type, AMF0_STRICT_ARRAY);
	assert_false(it[8].items[0].boolean);
	assert_int_equal(it[9].type, AMF0_DATE);
	assert_true(it[9].num == 1.5e12);
	assert_int_equal(it[10].type, AMF0_LONG_STRING);
	assert_string_equal(it[10].str, "xyz");
	assert_int_equal(it[11].type, AMF0_UNSUPPORTED);
	assert_int_equal(it[12].type, AMF0_XML_DOC);
	assert_string_equal(it[12].str, "<a/>");
	assert_int_equal(it[13].type, AMF0_TYPED_OBJECT);
	assert_string_equal(it[13].str, "Foo");
	assert_string_equal(amf0_get_str(&it[13], "x"), "");
	assert_null(amf0_get(&it[13], "y"));
	assert_null(amf0_get(&it[0], "a"));
	assert_null(amf0_get_str(&it[3], "a")); /* not a string */
	assert_true(amf0_get_num(&it[3], "zz", -1) == -1);

	/* Re-encoding gives the same bytes, except that ECMA arrays carry the
	 * real property count. */
	struct bytes out = {0};
	assert_int_equal(amf0_put_value(&out, &v), 0);
	uint8_t want[sizeof(all_types)];
	memcpy(want, all_types, sizeof(want));
	want[47] = 1; /* ECMA count 7 -> 1 */
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	bytes_free(&out);
	amf0_free(&v);
	assert_int_equal(v.type, 0);
	assert_null(v.items);
}

static void test_encoder_bytes(void **state)
{
	(void)state;
	struct bytes b = {0};
	assert_int_equal(amf0_put_string(&b, "connect"), 0);
	assert_int_equal(amf0_put_number(&b, 1), 0);
	assert_int_equal(amf0_put_object_start(&b), 0);
	assert_int_equal(amf0_put_key(&b, "app"), 0);
	assert_int_equal(amf0_put_string(&b, "live"), 0);
	assert_int_equal(amf0_put_key(&b, "fpad"), 0);
	assert_int_equal(amf0_put_bool(&b, false), 0);
	assert_int_equal(amf0_put_object_end(&b), 0);
	assert_int_equal(amf0_put_null(&b), 0);
	assert_int_equal(amf0_put_ecma_start(&b, 0x01020304), 0);
	assert_int_equal(amf0_put_object_end(&b), 0);
	const uint8_t want[] = {
	    0x02, 0,    7,    'c',  'o', 'n', 'n',  'e',  'c', 't', 0x00, ONE, 0x03, 0,   3,
	    'a',  'p',  'p',  0x02, 0,   4,   'l',  'i',  'v', 'e', 0,    4,   'f',  'p', 'a',
	    'd',  0x01, 0x00, 0,    0,   9,   0x05, 0x08, 1,   2,   3,    4,   0,    0,   9,
	};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));

	/* RTMP command body: decode_all, with and without a limit. */
	struct amf0_value v[8];
	assert_int_equal(amf0_decode_all(b.data, b.len, v, 4), 4);
	assert_string_equal(v[0].str, "connect");
	assert_true(v[1].num == 1);
	assert_string_equal(amf0_get_str(&v[2], "app"), "live");
	assert_false(amf0_get(&v[2], "fpad")->boolean);
	assert_int_equal(v[3].type, AMF0_NULL);
	amf0_free_all(v, 4);
	assert_int_equal(amf0_decode_all(b.data, b.len, v, 2), 2);
	amf0_free_all(v, 2);
	assert_int_equal(amf0_decode_all(b.data, 0, v, 2), 0);
	/* An error in a later value frees the earlier ones (ASan checks). */
	assert_int_equal(amf0_decode_all(b.data, b.len - 1, v, 8), -EPROTO);
	bytes_free(&b);
}

static void test_long_string(void **state)
{
	(void)state;
	size_t n = 70000;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'q', n);
	s[n] = 0;
	struct bytes b = {0};
	assert_int_equal(amf0_put_string(&b, s), 0);
	assert_int_equal(b.len, 5 + n);
	const uint8_t hdr[] = {0x0c, 0x00, 0x01, 0x11, 0x70};
	assert_memory_equal(b.data, hdr, 5);
	struct amf0_value v;
	size_t used;
	assert_int_equal(amf0_decode(b.data, b.len, &v, &used), 0);
	assert_int_equal(v.type, AMF0_LONG_STRING);
	assert_int_equal(v.str_len, n);
	assert_string_equal(v.str, s);
	/* A decoded short STRING too long for u16 is re-encoded as long. */
	v.type = AMF0_STRING;
	struct bytes c = {0};
	assert_int_equal(amf0_put_value(&c, &v), 0);
	assert_int_equal(c.len, b.len);
	assert_memory_equal(c.data, b.data, b.len);
	amf0_free(&v);
	bytes_free(&b);
	bytes_free(&c);
	s[65535] = 0; /* exactly 65535: still a short string */
	assert_int_equal(amf0_put_string(&b, s), 0);
	assert_int_equal(b.len, 3 + 65535);
	assert_int_equal(b.data[0], AMF0_STRING);
	bytes_free(&b);
	free(s);
}

/* n objects nested through key "a", innermost empty. */
static size_t nest(uint8_t *buf, int n, uint8_t marker)
{
	size_t o = 0;
	for (int i = 0; i < n - 1; i++) {
		buf[o++] = marker;
		if (marker == AMF0_STRICT_ARRAY) {
			memcpy(buf + o, "\0\0\0\1", 4);
			o += 4;
		} else {
			memcpy(buf + o, "\0\1a", 3);
			o += 3;
		}
	}
	if (marker == AMF0_STRICT_ARRAY) {
		memcpy(buf + o, "\x0a\0\0\0\0", 5);
		return o + 5;
	}
	memcpy(buf + o, "\x03\0\0\x09", 4);
	o += 4;
	for (int i = 0; i < n - 1; i++) {
		memcpy(buf + o, "\0\0\x09", 3);
		o += 3;
	}
	return o;
}

static void test_depth(void **state)
{
	(void)state;
	static uint8_t buf[300000];
	struct amf0_value v;
	size_t used;
	size_t n = nest(buf, 32, AMF0_OBJECT);
	assert_int_equal(amf0_decode(buf, n, &v, &used), 0);
	assert_int_equal(used, n);
	struct bytes out = {0};
	assert_int_equal(amf0_put_value(&out, &v), 0);
	assert_memory_equal(out.data, buf, n);
	bytes_free(&out);
	amf0_free(&v);
	n = nest(buf, 33, AMF0_OBJECT);
	assert_int_equal(amf0_decode(buf, n, &v, &used), -EPROTO);
	assert_int_equal(v.type, 0);
	assert_null(v.props);
	n = nest(buf, 32, AMF0_STRICT_ARRAY);
	assert_int_equal(amf0_decode(buf, n, &v, &used), 0);
	amf0_free(&v);
	n = nest(buf, 33, AMF0_STRICT_ARRAY);
	assert_int_equal(amf0_decode(buf, n, &v, &used), -EPROTO);
	n = nest(buf, 30000, AMF0_OBJECT); /* no stack exhaustion */
	assert_int_equal(amf0_decode(buf, n, &v, &used), -EPROTO);
}

static void expect_bad(const uint8_t *p, size_t len)
{
	struct amf0_value v;
	size_t used = 12345;
	assert_int_equal(amf0_decode(p, len, &v, &used), -EPROTO);
	assert_int_equal(used, 12345);
	assert_int_equal(v.type, 0);
	assert_null(v.str);
	assert_null(v.props);
	assert_null(v.items);
}

static void test_malformed(void **state)
{
	(void)state;
	/* Every strict prefix of a valid value is truncated. */
	for (size_t k = 0; k < sizeof(all_types); k++)
		expect_bad(all_types, k);
	const uint8_t markers[] = {0x04, 0x09, 0x0e, 0x11, 0x12, 0xff};
	for (size_t i = 0; i < sizeof(markers); i++)
		expect_bad(&markers[i], 1);
	const uint8_t s_long[] = {0x02, 0xff, 0xff, 'a', 'b'};
	expect_bad(s_long, sizeof(s_long));
	const uint8_t ls_long[] = {0x0c, 0xff, 0xff, 0xff, 0xff, 'a'};
	expect_bad(ls_long, sizeof(ls_long));
	const uint8_t xml_long[] = {0x0f, 0x80, 0, 0, 0};
	expect_bad(xml_long, sizeof(xml_long));
	const uint8_t arr_huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x05, 0x05};
	expect_bad(arr_huge, sizeof(arr_huge));
	const uint8_t key_long[] = {0x03, 0xff, 0xf0, 'a', 0x05, 0, 0, 9};
	expect_bad(key_long, sizeof(key_long));
	const uint8_t no_end[] = {0x03, 0, 1, 'a', 0x05};
	expect_bad(no_end, sizeof(no_end));
	const uint8_t bad_inner[] = {0x03, 0, 1, 'a', 0x04, 0, 0, 9};
	expect_bad(bad_inner, sizeof(bad_inner));
	expect_bad(NULL, 4);
	/* ECMA count is a hint: a huge count with a proper end is fine, and a
	 * property with an empty key is kept. */
	const uint8_t ecma[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x05, 0, 0, 9};
	struct amf0_value v;
	size_t used;
	assert_int_equal(amf0_decode(ecma, sizeof(ecma), &v, &used), 0);
	assert_int_equal(v.nprops, 1);
	assert_string_equal(v.props[0].key, "");
	amf0_free(&v);
	amf0_free(NULL);
	amf0_free_all(NULL, 3);
}

static void test_random(void **state)
{
	(void)state;
	srand(42);
	uint8_t buf[96];
	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t j = 0; j < n; j++) {
			/* bias towards valid markers and small lengths */
			int r = rand() % 4;
			buf[j] = r == 0 ? (uint8_t)(rand() % 17) : r == 1 ? 0 : (uint8_t)rand();
		}
		struct amf0_value v[4];
		int rc = amf0_decode_all(buf, n, v, 4);
		assert_true(rc >= 0 || rc == -EPROTO);
		if (rc > 0) {
			struct bytes out = {0};
			for (int k = 0; k < rc; k++)
				assert_int_equal(amf0_put_value(&out, &v[k]), 0);
			bytes_free(&out);
			amf0_free_all(v, (size_t)rc);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_all_types), cmocka_unit_test(test_encoder_bytes),
	    cmocka_unit_test(test_long_string),      cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_malformed),        cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
