/* RTMP handshake, server and client side: the simple form (random bytes,
 * echo) and the digest form Flash Player 9+/librtmp/FMS use (HMAC-SHA256
 * digest at an offset given by schema 0 or 1). Pure apart from randomness. */
#ifndef WEIR_PROTO_RTMP_HANDSHAKE_H
#define WEIR_PROTO_RTMP_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#define RTMP_SIG_SIZE 1536

/* Server: given C0+C1 (1 + 1536 bytes) produces S0+S1+S2 (1 + 2*1536).
 * If C1 carries a valid client digest (either schema), S1 carries a server
 * digest and S2 the digest response the client verifies; otherwise the
 * simple handshake (S2 echoes C1). *digest tells which (may be NULL).
 * 0, or -EPROTO when C0 is not version 3 (or 6/8 encrypted: -ENOTSUP). */
int rtmp_handshake_server(const uint8_t c0c1[1 + RTMP_SIG_SIZE],
			  uint8_t s0s1s2[1 + 2 * RTMP_SIG_SIZE], bool *digest);

/* Client: writes C0+C1; digest = true makes an FP9-style C1 (schema 0). */
void rtmp_handshake_client_c0c1(uint8_t c0c1[1 + RTMP_SIG_SIZE], bool digest);
/* Client: given its own C1 and the server's S0+S1+S2, writes C2.
 * 0 or -EPROTO (bad version; a digest server whose digest does not verify). */
int rtmp_handshake_client_c2(const uint8_t c0c1[1 + RTMP_SIG_SIZE],
			     const uint8_t s0s1s2[1 + 2 * RTMP_SIG_SIZE],
			     uint8_t c2[RTMP_SIG_SIZE]);

#endif
