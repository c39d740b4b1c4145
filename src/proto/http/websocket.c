/* RFC 6455 WebSocket framing, close payloads, UTF-8 check, accept key. */
#include "proto/http/websocket.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool opcode_known(unsigned op)
{
	return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY || op == WS_OP_CLOSE ||
	       op == WS_OP_PING || op == WS_OP_PONG;
}

static bool opcode_is_control(unsigned op)
{
	return (op & 0x8) != 0;
}

static uint64_t rd_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Decodes the extended length that follows the 7-bit field; returns the
 * number of extra bytes used (0, 2 or 8), 0 with *need set when buf is too
 * short, or -EPROTO for a non-minimal or top-bit-set length. */
static int read_length(const uint8_t *buf, size_t len, uint64_t *plen, bool *need)
{
	uint64_t l7 = buf[1] & 0x7f;
	*need = false;
	if (l7 < 126) {
		*plen = l7;
		return 0;
	}
	size_t n = l7 == 126 ? 2 : 8;
	if (len < 2 + n) {
		*need = true;
		return 0;
	}
	*plen = rd_be(buf + 2, n);
	if (n == 2 && *plen < 126)
		return -EPROTO;
	if (n == 8 && (*plen <= 0xffff || *plen >> 63))
		return -EPROTO;
	return (int)n;
}

int64_t ws_parse_frame(const uint8_t *buf, size_t len, uint64_t max_payload, bool from_client,
		       struct ws_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (len < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	f->masked = buf[1] & 0x80;
	if ((buf[0] & 0x70) || !opcode_known(f->opcode) || f->masked != from_client)
		return -EPROTO;
	if (opcode_is_control(f->opcode) && (!f->fin || (buf[1] & 0x7f) > WS_MAX_CONTROL))
		return -EPROTO;
	uint64_t plen;
	bool need;
	int ext = read_length(buf, len, &plen, &need);
	if (ext < 0 || need)
		return ext;
	if (plen > max_payload || plen > (uint64_t)INT64_MAX - WS_MAX_HEADER)
		return -EMSGSIZE;
	size_t hl = 2 + (size_t)ext;
	if (f->masked) {
		if (len < hl + 4)
			return 0;
		memcpy(f->mask, buf + hl, 4);
		hl += 4;
	}
	f->header_len = hl;
	f->payload_len = plen;
	if (len - hl < plen)
		return 0;
	f->payload = buf + hl;
	return (int64_t)(hl + plen);
}

void ws_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i] ^ mask[(offset + i) & 3];
}

void ws_frame_unmask(struct ws_frame *f, uint8_t *out)
{
	if (!f->payload)
		return;
	size_t n = (size_t)f->payload_len;
	if (f->masked)
		ws_mask(out, f->payload, n, f->mask, 0);
	else if (out != f->payload && n)
		memmove(out, f->payload, n);
	f->payload = out;
	f->masked = false;
}

int ws_check_sequence(bool *in_message, const struct ws_frame *f)
{
	if (opcode_is_control(f->opcode))
		return 0;
	if ((f->opcode == WS_OP_CONT) != *in_message)
		return -EPROTO;
	*in_message = !f->fin;
	return 0;
}

int ws_write_header(uint8_t *out, size_t outlen, bool fin, unsigned opcode, uint64_t payload_len,
		    const uint8_t *mask)
{
	if (!opcode_known(opcode) || payload_len >> 63)
		return -EINVAL;
	if (opcode_is_control(opcode) && (!fin || payload_len > WS_MAX_CONTROL))
		return -EINVAL;
	size_t ext = payload_len < 126 ? 0 : payload_len <= 0xffff ? 2 : 8;
	size_t hl = 2 + ext + (mask ? 4 : 0);
	if (!out || outlen < hl)
		return -ENOSPC;
	out[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	out[1] = (uint8_t)((mask ? 0x80 : 0) | (ext == 0 ? payload_len : ext == 2 ? 126 : 127));
	for (size_t i = 0; i < ext; i++)
		out[2 + i] = (uint8_t)(payload_len >> (8 * (ext - 1 - i)));
	if (mask)
		memcpy(out + 2 + ext, mask, 4);
	return (int)hl;
}

/* Codes an endpoint may put in a close frame (RFC 6455 7.4 + IANA). */
static bool close_code_ok(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

int ws_parse_close(const uint8_t *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len)
{
	*code = WS_CLOSE_NO_STATUS;
	*reason = "";
	*reason_len = 0;
	if (len == 0)
		return 0;
	if (len == 1 || !close_code_ok((unsigned)rd_be(payload, 2)))
		return -EPROTO;
	if (!ws_utf8_valid(payload + 2, len - 2))
		return -EPROTO;
	*code = (uint16_t)rd_be(payload, 2);
	*reason = (const char *)payload + 2;
	*reason_len = len - 2;
	return 0;
}

size_t ws_write_close(uint8_t out[WS_MAX_CONTROL], uint16_t code, const char *reason)
{
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	size_t n = reason ? strlen(reason) : 0;
	if (n > WS_MAX_CONTROL - 2) {
		n = WS_MAX_CONTROL - 2;
		/* back up to the start of a character */
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(out + 2, reason, n);
	return n + 2;
}

/* Length of the UTF-8 sequence at p[0..len), or 0 when invalid. */
static size_t utf8_seq(const uint8_t *p, size_t len)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool ws_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* 16 bytes in base64: 21 full characters, one whose low 4 bits are padding
 * (so it is one of "AQgw"), then "==". */
static bool key_ok(const char *key)
{
	if (strlen(key) != 24 || strcmp(key + 22, "=="))
		return false;
	for (int i = 0; i < 22; i++)
		if (!is_b64(key[i]))
			return false;
	return strchr("AQgw", key[21]) != NULL;
}

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	out[0] = '\0';
	if (!key || !key_ok(key))
		return -EINVAL;
	char in[24 + sizeof(ws_guid)];
	memcpy(in, key, 24);
	memcpy(in + 24, ws_guid, sizeof(ws_guid) - 1);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(in, 24 + sizeof(ws_guid) - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EIO;
	if (EVP_EncodeBlock((unsigned char *)out, md, 20) != WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}
