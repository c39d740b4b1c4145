/* libFuzzer target for the RTMP handshake: the input is used as C0+C1 for
 * the server and as S0+S1+S2 for the client (zero-padded when short). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rtmp/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[1 + 2 * RTMP_SIG_SIZE] = {0};
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));

	uint8_t s[1 + 2 * RTMP_SIG_SIZE];
	bool digest = false;
	int rc = rtmp_handshake_server(in, s, &digest);
	if (rc == 0 && !digest && memcmp(s + 1 + RTMP_SIG_SIZE, in + 1, RTMP_SIG_SIZE))
		abort(); /* the simple form echoes C1 */
	if (rc != 0 && digest)
		abort();

	/* Our own digest C1 against the input as the server's answer. */
	uint8_t c0c1[1 + RTMP_SIG_SIZE], c2[RTMP_SIG_SIZE];
	rtmp_handshake_client_c0c1(c0c1, size & 1);
	rc = rtmp_handshake_client_c2(c0c1, in, c2);
	if (rc != 0 && rc != -EPROTO)
		abort();
	return 0;
}
