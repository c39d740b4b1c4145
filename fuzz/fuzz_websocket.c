/* libFuzzer target for the RFC 6455 frame parser.
 * clang -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_websocket.c \
 *       src/proto/http/websocket.c -lcrypto */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http/websocket.h"

/* Parses every frame in buf in turn, as a connection would. */
static void parse_all(uint8_t *buf, size_t size, uint64_t max, bool from_client)
{
	bool in_msg = false;
	size_t off = 0;
	while (off < size) {
		struct ws_frame f;
		int64_t n = ws_parse_frame(buf + off, size - off, max, from_client, &f);
		if (n <= 0)
			return;
		if ((uint64_t)n != f.header_len + f.payload_len || (size_t)n > size - off ||
		    f.payload_len > max || f.masked != from_client)
			abort();
		if ((f.opcode & 8) && (!f.fin || f.payload_len > WS_MAX_CONTROL))
			abort();
		ws_frame_unmask(&f, buf + off + f.header_len); /* in place */
		(void)ws_check_sequence(&in_msg, &f);
		if (f.opcode == WS_OP_CLOSE) {
			uint16_t code;
			const char *reason;
			size_t rl;
			(void)ws_parse_close(f.payload, (size_t)f.payload_len, &code, &reason, &rl);
		} else if (f.opcode == WS_OP_TEXT) {
			(void)ws_utf8_valid(f.payload, (size_t)f.payload_len);
		}
		/* the header we would write parses back to the same length */
		uint8_t h[WS_MAX_HEADER];
		int hl = ws_write_header(h, sizeof(h), f.fin, f.opcode, f.payload_len,
					 from_client ? f.mask : NULL);
		if (hl != (int)f.header_len)
			abort();
		off += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	static const uint64_t limits[] = {1 << 20, 100};
	for (int i = 0; i < 2; i++) {
		for (int from_client = 0; from_client < 2; from_client++) {
			if (size)
				memcpy(buf, data, size);
			parse_all(buf, size, limits[i], from_client);
		}
	}
	/* accept key on the bytes as a string */
	char key[40], out[WS_ACCEPT_LEN + 1];
	size_t kl = size < sizeof(key) - 1 ? size : sizeof(key) - 1;
	memcpy(key, data, kl);
	key[kl] = '\0';
	if (ws_accept_key(key, out) == 0 && strlen(out) != WS_ACCEPT_LEN)
		abort();
	free(buf);
	return 0;
}
