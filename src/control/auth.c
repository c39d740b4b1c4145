/* Challenge store for API logins. Challenges are kept oldest first in a
 * small array: at most AUTH_MAX_CHALLENGES entries, so linear scans are
 * cheap and memory is bounded whatever a client sends. */
#include "control/auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_MAX 64

struct challenge {
	char value[AUTH_CHALLENGE_LEN + 1];
	char peer[PEER_MAX];
	int64_t issued_s;
};

struct auth {
	struct challenge items[AUTH_MAX_CHALLENGES]; /* oldest first */
	size_t n;
};

struct auth *auth_new(void)
{
	return calloc(1, sizeof(struct auth));
}

void auth_free(struct auth *a)
{
	free(a);
}

size_t auth_outstanding(const struct auth *a)
{
	return a->n;
}

void auth_md5hex(const void *data, size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16) {
		memset(out, 0, 33); /* "": never equals a proof (see auth_verify) */
		return;
	}
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

static void remove_at(struct auth *a, size_t i)
{
	memmove(&a->items[i], &a->items[i + 1], (a->n - i - 1) * sizeof(a->items[0]));
	a->n--;
}

/* Drops expired challenges (and ones from a clock that jumped back). */
static void purge(struct auth *a, int64_t now_s)
{
	size_t keep = 0;
	for (size_t i = 0; i < a->n; i++) {
		int64_t age = now_s - a->items[i].issued_s;
		if (age < 0 || age >= AUTH_CHALLENGE_TTL_S)
			continue;
		if (keep != i)
			a->items[keep] = a->items[i];
		keep++;
	}
	a->n = keep;
}

/* Same truncation as the stored copy, so long addresses still compare. */
static void peer_key(const char *peer, char out[PEER_MAX])
{
	snprintf(out, PEER_MAX, "%s", peer ? peer : "");
}

/* Makes room for one more challenge of peer. */
static void make_room(struct auth *a, const char *peer)
{
	size_t mine = 0, oldest_mine = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->items[i].peer, peer) != 0)
			continue;
		if (mine++ == 0)
			oldest_mine = i;
	}
	if (mine >= AUTH_MAX_PER_PEER)
		remove_at(a, oldest_mine);
	else if (a->n >= AUTH_MAX_CHALLENGES)
		remove_at(a, 0);
}

int auth_challenge(struct auth *a, const char *peer, int64_t now_s,
		   char out[AUTH_CHALLENGE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[AUTH_CHALLENGE_LEN / 2];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[AUTH_CHALLENGE_LEN] = '\0';

	char key[PEER_MAX];
	peer_key(peer, key);
	purge(a, now_s);
	make_room(a, key);
	struct challenge *c = &a->items[a->n++];
	memcpy(c->value, out, sizeof(c->value));
	memcpy(c->peer, key, sizeof(c->peer));
	c->issued_s = now_s;
	return 0;
}

/* md5hex(stored + challenge) into out. */
static void expected_proof(const char *stored, const char *challenge, char out[33])
{
	size_t sl = strlen(stored);
	char *buf = malloc(sl + AUTH_CHALLENGE_LEN + 1);
	if (!buf) {
		memset(out, 0, 33); /* cannot equal a 32-char proof */
		return;
	}
	memcpy(buf, stored, sl);
	memcpy(buf + sl, challenge, AUTH_CHALLENGE_LEN);
	auth_md5hex(buf, sl + AUTH_CHALLENGE_LEN, out);
	free(buf);
}

bool auth_verify(struct auth *a, const char *peer, const char *stored_md5hex, const char *proof,
		 int64_t now_s)
{
	if (!stored_md5hex || !proof || strlen(proof) != 32)
		return false;
	char key[PEER_MAX];
	peer_key(peer, key);
	purge(a, now_s);
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->items[i].peer, key) != 0)
			continue;
		char want[33];
		expected_proof(stored_md5hex, a->items[i].value, want);
		if (want[0] && CRYPTO_memcmp(want, proof, 32) == 0) {
			remove_at(a, i);
			return true;
		}
	}
	return false;
}
