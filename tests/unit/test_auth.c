/* API login challenges: random, single-use, per peer, expiring, bounded. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control/auth.h"

#define STORED "5ebe2294ecd0e0f08eab7690d2a6ee69" /* md5("secret") */

/* What a client sends: md5hex(md5hex(password) + challenge). */
static void proof_for(const char *challenge, char out[33])
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s%s", STORED, challenge);
	auth_md5hex(buf, strlen(buf), out);
}

static void test_md5_vectors(void **state)
{
	char out[33];
	auth_md5hex("", 0, out);
	assert_string_equal(out, "d41d8cd98f00b204e9800998ecf8427e");
	auth_md5hex("abc", 3, out);
	assert_string_equal(out, "900150983cd24fb0d6963f7d28e17f72");
	auth_md5hex("secret", 6, out);
	assert_string_equal(out, STORED);
}

static void test_challenge_format(void **state)
{
	struct auth *a = auth_new();
	char c1[AUTH_CHALLENGE_LEN + 1], c2[AUTH_CHALLENGE_LEN + 1];
	assert_int_equal(auth_challenge(a, "10.0.0.1", 1000, c1), 0);
	assert_int_equal(auth_challenge(a, "10.0.0.1", 1000, c2), 0);
	assert_int_equal(strlen(c1), 32);
	for (int i = 0; i < 32; i++)
		assert_true(isxdigit((unsigned char)c1[i]) && !isupper((unsigned char)c1[i]));
	assert_string_not_equal(c1, c2);
	assert_int_equal(auth_outstanding(a), 2);
	auth_free(a);
}

static void test_single_use(void **state)
{
	struct auth *a = auth_new();
	char c[AUTH_CHALLENGE_LEN + 1], p[33];
	assert_int_equal(auth_challenge(a, "10.0.0.1", 1000, c), 0);
	proof_for(c, p);
	assert_false(auth_verify(a, "10.0.0.2", STORED, p, 1001)); /* other peer */
	assert_false(auth_verify(a, "10.0.0.1", "0000", p, 1001)); /* other password */
	assert_true(auth_verify(a, "10.0.0.1", STORED, p, 1001));
	assert_false(auth_verify(a, "10.0.0.1", STORED, p, 1002)); /* replay */
	assert_int_equal(auth_outstanding(a), 0);
	/* malformed proofs never match */
	assert_int_equal(auth_challenge(a, "10.0.0.1", 1000, c), 0);
	assert_false(auth_verify(a, "10.0.0.1", STORED, "", 1001));
	assert_false(auth_verify(a, "10.0.0.1", STORED, NULL, 1001));
	assert_false(auth_verify(a, "10.0.0.1", NULL, "x", 1001));
	proof_for(c, p);
	p[31] = p[31] == 'a' ? 'b' : 'a';
	assert_false(auth_verify(a, "10.0.0.1", STORED, p, 1001));
	auth_free(a);
}

static void test_expiry(void **state)
{
	struct auth *a = auth_new();
	char c[AUTH_CHALLENGE_LEN + 1], p[33];
	assert_int_equal(auth_challenge(a, "h", 1000, c), 0);
	proof_for(c, p);
	assert_false(auth_verify(a, "h", STORED, p, 1000 + AUTH_CHALLENGE_TTL_S));
	assert_int_equal(auth_outstanding(a), 0);
	assert_int_equal(auth_challenge(a, "h", 1000, c), 0);
	proof_for(c, p);
	assert_true(auth_verify(a, "h", STORED, p, 1000 + AUTH_CHALLENGE_TTL_S - 1));
	auth_free(a);
}

static void test_bounds(void **state)
{
	struct auth *a = auth_new();
	char first[AUTH_CHALLENGE_LEN + 1], c[AUTH_CHALLENGE_LEN + 1], p[33];
	/* one peer cannot hold more than AUTH_MAX_PER_PEER: its oldest go first */
	assert_int_equal(auth_challenge(a, "greedy", 5, first), 0);
	for (int i = 0; i < AUTH_MAX_PER_PEER + 10; i++)
		assert_int_equal(auth_challenge(a, "greedy", 5, c), 0);
	assert_int_equal(auth_outstanding(a), AUTH_MAX_PER_PEER);
	proof_for(first, p);
	assert_false(auth_verify(a, "greedy", STORED, p, 6));
	proof_for(c, p);
	assert_true(auth_verify(a, "greedy", STORED, p, 6));
	/* many peers: never more than AUTH_MAX_CHALLENGES in total */
	char peer[32];
	for (int i = 0; i < AUTH_MAX_CHALLENGES + 200; i++) {
		snprintf(peer, sizeof(peer), "10.1.%d.%d", i / 256, i % 256);
		assert_int_equal(auth_challenge(a, peer, 7, c), 0);
	}
	assert_int_equal(auth_outstanding(a), AUTH_MAX_CHALLENGES);
	proof_for(c, p); /* the newest is still valid */
	assert_true(auth_verify(a, peer, STORED, p, 8));
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_md5_vectors), cmocka_unit_test(test_challenge_format),
	    cmocka_unit_test(test_single_use),  cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
