/* RFC 6455 WebSocket framing (pure: no I/O, no allocation) and the
 * handshake's Sec-WebSocket-Accept key.
 *
 * Receiving: ws_parse_frame() on the bytes buffered so far; when it returns
 * a length n, the frame is buf[0..n): unmask its payload (ws_frame_unmask,
 * into a separate buffer or in place), check fragmentation with
 * ws_check_sequence(), consume n bytes. Sending: ws_write_header() writes
 * only the 2..14 header bytes, so the payload can follow in the same
 * writev without being copied. */
#ifndef WEIR_PROTO_HTTP_WEBSOCKET_H
#define WEIR_PROTO_HTTP_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

#define WS_MAX_HEADER  14  /* 2 + 8 (64-bit length) + 4 (masking key) bytes */
#define WS_MAX_CONTROL 125 /* payload limit of close/ping/pong, bytes */
#define WS_ACCEPT_LEN  28  /* base64 of a SHA-1, without the NUL */

/* Close status codes (RFC 6455 7.4.1). */
#define WS_CLOSE_NORMAL      1000
#define WS_CLOSE_GOING_AWAY  1001
#define WS_CLOSE_PROTOCOL    1002 /* answer to -EPROTO */
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS   1005 /* reported for an empty close; never sent */
#define WS_CLOSE_BAD_DATA    1007 /* e.g. text that is not UTF-8 */
#define WS_CLOSE_POLICY      1008
#define WS_CLOSE_TOO_BIG     1009 /* answer to -EMSGSIZE */
#define WS_CLOSE_INTERNAL    1011

struct ws_frame {
	bool fin;
	uint8_t opcode;       /* enum ws_opcode */
	bool masked;          /* payload bytes are still XORed with mask */
	uint8_t mask[4];      /* masking key when masked */
	size_t header_len;    /* bytes before the payload, 2..14; 0 = header incomplete */
	uint64_t payload_len; /* bytes */
	/* buf + header_len once the whole frame is in buf, else NULL. */
	const uint8_t *payload;
};

/* Parses one frame at buf[0..len) without modifying buf.
 * from_client: true when we are the server (frames must be masked), false
 * when we are a client (frames must not be masked).
 * Returns the frame's total length (header_len + payload_len) when all of
 * it is in buf; 0 when more bytes are needed (f->header_len and
 * f->payload_len are already set once the header is complete, so a caller
 * can size its buffer); -EMSGSIZE as soon as the announced payload exceeds
 * max_payload bytes (close with 1009); -EPROTO (close with 1002) as soon as
 * the header shows: RSV bits set (no extensions are negotiated), a reserved
 * opcode, a control frame that is fragmented or longer than 125 bytes,
 * wrong masking for the direction, a non-minimal length encoding, or a
 * 64-bit length with the top bit set. */
int64_t ws_parse_frame(const uint8_t *buf, size_t len, uint64_t max_payload, bool from_client,
		       struct ws_frame *f);

/* XORs src[0..len) with mask into dst (dst == src is allowed: in place).
 * offset is src[0]'s position within the payload, so a payload can be
 * (un)masked in pieces. Masking and unmasking are the same operation. */
void ws_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset);

/* Writes f's payload, unmasked, to out (room for payload_len bytes; out
 * may be the payload's own bytes in the caller's buffer, to unmask in
 * place). Afterwards f->payload points to out and f->masked is false.
 * Only for a frame whose parse returned > 0. */
void ws_frame_unmask(struct ws_frame *f, uint8_t *out);

/* Tracks fragmentation on one direction of a connection; *in_message is
 * true between a non-FIN text/binary frame and its FIN continuation.
 * Returns 0, or -EPROTO for a continuation outside a message or a new
 * text/binary frame inside one. Control frames (which may be interleaved)
 * do not change the state. */
int ws_check_sequence(bool *in_message, const struct ws_frame *f);

/* Writes the header of a frame carrying payload_len bytes to out (capacity
 * outlen; WS_MAX_HEADER always suffices) and returns its length, 2..14.
 * mask NULL gives an unmasked (server-to-client) frame; otherwise the
 * 4-byte key is written and the caller masks the payload with ws_mask().
 * -EINVAL for a reserved opcode, a fragmented control frame, a control
 * payload over 125 bytes or a length over 2^63 - 1; -ENOSPC when out is
 * too small. */
int ws_write_header(uint8_t *out, size_t outlen, bool fin, unsigned opcode, uint64_t payload_len,
		    const uint8_t *mask);

/* Reads an unmasked close payload: an empty one gives WS_CLOSE_NO_STATUS
 * and an empty reason. *reason points into payload (not NUL-terminated).
 * -EPROTO for a 1-byte payload, a code that must not be sent (below 1000,
 * 1004-1006, 1015-2999 except 1012-1014, 5000 and up) or a reason that
 * is not UTF-8. */
int ws_parse_close(const uint8_t *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len);

/* Writes a close payload (2-byte code, then reason cut to 123 bytes at a
 * UTF-8 character boundary; reason may be NULL) to out, which holds
 * WS_MAX_CONTROL bytes. Returns its length. */
size_t ws_write_close(uint8_t out[WS_MAX_CONTROL], uint16_t code, const char *reason);

/* Whether p[0..len) is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), as text messages must be. */
bool ws_utf8_valid(const uint8_t *p, size_t len);

/* Computes Sec-WebSocket-Accept for a client's Sec-WebSocket-Key:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), written
 * NUL-terminated to out. Returns 0, -EINVAL when key is not 24 base64
 * characters encoding 16 bytes, -EIO when the hash fails. */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

#endif
