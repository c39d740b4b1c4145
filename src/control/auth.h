/* API authentication: MistServer's challenge/response, with random
 * single-use challenges instead of MistServer's guessable MD5(date+IP).
 *
 * The client proves knowledge of the stored md5hex(password) by sending
 * md5hex(stored + challenge) for a challenge we issued to its address.
 * Each challenge works once, expires after AUTH_CHALLENGE_TTL_S, and at
 * most AUTH_MAX_CHALLENGES are outstanding (AUTH_MAX_PER_PEER per address,
 * so one peer cannot flush everybody else's). Loop-thread only. */
#ifndef WEIR_CONTROL_AUTH_H
#define WEIR_CONTROL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_CHALLENGE_LEN   32 /* hex chars (128 random bits) */
#define AUTH_CHALLENGE_TTL_S 600
#define AUTH_MAX_CHALLENGES  1000
#define AUTH_MAX_PER_PEER    32

struct auth;

struct auth *auth_new(void);
void auth_free(struct auth *a); /* NULL ok */

/* Issues a new challenge for peer (an address), valid from now_s on.
 * Writes AUTH_CHALLENGE_LEN hex chars + NUL to out. The oldest challenge
 * (of this peer when it has AUTH_MAX_PER_PEER, else overall) is dropped
 * when full. 0, or -EIO when the random generator failed. */
int auth_challenge(struct auth *a, const char *peer, int64_t now_s,
		   char out[AUTH_CHALLENGE_LEN + 1]);

/* True when proof == md5hex(stored_md5hex + C) for an unexpired challenge
 * C issued to peer; that challenge is then consumed. Compares in constant
 * time. */
bool auth_verify(struct auth *a, const char *peer, const char *stored_md5hex, const char *proof,
		 int64_t now_s);

/* Outstanding (unexpired or not yet purged) challenges. */
size_t auth_outstanding(const struct auth *a);

/* Lower-case hex MD5 of data[0..len) into out (33 bytes); "" if the
 * digest is unavailable (e.g. a FIPS-only OpenSSL). */
void auth_md5hex(const void *data, size_t len, char out[33]);

#endif
