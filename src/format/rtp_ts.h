/* RTP (RFC 3550) packets carrying MPEG-TS (RFC 2250, payload type 33),
 * and the PCR field of TS packets that paced senders restamp. Pure: no
 * sockets, no clock. Used by the tsrtp:// push and input and by the
 * ProMPEG FEC code (format/fec.c). */
#ifndef WEIR_FORMAT_RTP_TS_H
#define WEIR_FORMAT_RTP_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN   12 /* fixed header, no CSRC, no extension */
#define RTP_TS_PT     33 /* MP2T (RFC 3551) */
#define RTP_TS_CLOCK  90000
#define RTP_TS_PKTS   7 /* TS packets per datagram: 7 x 188 = 1316 bytes */
#define TS_PCR_CLOCK  27000000ull
#define TS_PCR_WRAP   ((1ull << 33) * 300) /* 27 MHz ticks in one PCR cycle */
#define RTP_MAX_BYTES 1500

/* One parsed RTP packet. payload points into the parsed buffer (after
 * CSRCs and the header extension, padding removed). */
struct rtp_pkt {
	uint8_t pt;
	bool marker, padding, extension;
	uint8_t cc; /* CSRC count */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;
	size_t payload_len;
};

/* Parses an RTP packet of len bytes. 0, or -EPROTO (not version 2, or
 * CSRCs, extension or padding running past the end). */
int rtp_parse(const uint8_t *p, size_t len, struct rtp_pkt *out);

/* Writes a 12-byte RTP header: version 2, no padding/extension/CSRC,
 * marker clear, payload type pt. */
void rtp_write_header(uint8_t out[RTP_HDR_LEN], uint8_t pt, uint16_t seq, uint32_t ts,
		      uint32_t ssrc);

/* Sequence number distance b - a in (-32768, 32768]: positive when b is
 * after a, across the 16-bit wrap. */
static inline int rtp_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(b - a);
}

/* The PCR of one 188-byte TS packet in 27 MHz ticks (base * 300 + ext).
 * True when the packet carries one. */
bool rtp_ts_pcr_read(const uint8_t *pkt, uint64_t *pcr_27m);
/* Overwrites the PCR of a packet that carries one (pcr_27m is taken
 * modulo TS_PCR_WRAP). False, packet untouched, when it has none. */
bool rtp_ts_pcr_write(uint8_t *pkt, uint64_t pcr_27m);

#endif
