/* RTP header parsing/writing and TS PCR access (see rtp_ts.h). */
#include "format/rtp_ts.h"

#include <errno.h>

#include "core/bytes.h"

int rtp_parse(const uint8_t *p, size_t len, struct rtp_pkt *out)
{
	if (len < RTP_HDR_LEN || (p[0] >> 6) != 2)
		return -EPROTO;
	out->padding = p[0] & 0x20;
	out->extension = p[0] & 0x10;
	out->cc = p[0] & 0x0f;
	out->marker = p[1] & 0x80;
	out->pt = p[1] & 0x7f;
	out->seq = rd_be16(p + 2);
	out->ts = rd_be32(p + 4);
	out->ssrc = rd_be32(p + 8);
	size_t off = RTP_HDR_LEN + 4u * out->cc;
	if (off > len)
		return -EPROTO;
	if (out->extension) {
		if (off + 4 > len)
			return -EPROTO;
		off += 4 + 4u * rd_be16(p + off + 2);
		if (off > len)
			return -EPROTO;
	}
	size_t end = len;
	if (out->padding) {
		uint8_t pad = p[len - 1];
		if (!pad || pad > len - off)
			return -EPROTO;
		end -= pad;
	}
	out->payload = p + off;
	out->payload_len = end - off;
	return 0;
}

void rtp_write_header(uint8_t out[RTP_HDR_LEN], uint8_t pt, uint16_t seq, uint32_t ts,
		      uint32_t ssrc)
{
	out[0] = 0x80;
	out[1] = pt & 0x7f;
	wr_be16(out + 2, seq);
	wr_be32(out + 4, ts);
	wr_be32(out + 8, ssrc);
}

/* Offset of the 6-byte PCR field in pkt, or 0 when there is none. */
static size_t pcr_offset(const uint8_t *pkt)
{
	if (pkt[0] != 0x47 || !(pkt[3] & 0x20)) /* no adaptation field */
		return 0;
	if (pkt[4] < 7 || !(pkt[5] & 0x10)) /* too short, or PCR_flag clear */
		return 0;
	return 6;
}

bool rtp_ts_pcr_read(const uint8_t *pkt, uint64_t *pcr_27m)
{
	size_t o = pcr_offset(pkt);
	if (!o)
		return false;
	const uint8_t *f = pkt + o;
	uint64_t base = (uint64_t)f[0] << 25 | (uint64_t)f[1] << 17 | (uint64_t)f[2] << 9 |
			(uint64_t)f[3] << 1 | f[4] >> 7;
	unsigned ext = (unsigned)(f[4] & 1) << 8 | f[5];
	*pcr_27m = base * 300 + ext;
	return true;
}

bool rtp_ts_pcr_write(uint8_t *pkt, uint64_t pcr_27m)
{
	size_t o = pcr_offset(pkt);
	if (!o)
		return false;
	pcr_27m %= TS_PCR_WRAP;
	uint64_t base = pcr_27m / 300;
	unsigned ext = (unsigned)(pcr_27m % 300);
	uint8_t *f = pkt + o;
	f[0] = (uint8_t)(base >> 25);
	f[1] = (uint8_t)(base >> 17);
	f[2] = (uint8_t)(base >> 9);
	f[3] = (uint8_t)(base >> 1);
	f[4] = (uint8_t)((base & 1) << 7 | 0x7e | ext >> 8);
	f[5] = (uint8_t)ext;
	return true;
}
