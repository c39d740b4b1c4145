/* Pro-MPEG Code of Practice #3 / SMPTE 2022-1 forward error correction
 * for RTP: XOR parity over an L x D matrix of media packets.
 *
 * Media packets are numbered by RTP sequence number and laid out row by
 * row, L per row, D rows per matrix. A column FEC packet protects the D
 * packets SNBase, SNBase+L, ... (offset L, NA D) and travels on the media
 * port + 2; a row FEC packet protects L consecutive packets (offset 1,
 * NA L) on port + 4. Each FEC packet is an RTP packet (PT 96, its own
 * sequence numbers) whose payload starts with the 16-byte FEC header:
 *
 *   0..1  SNBase low bits      2..3  length recovery (XOR of lengths)
 *   4     E=1 | PT recovery    5..7  mask (0)
 *   8..11 TS recovery          12    N=0 | D (0 column, 1 row) | type 0 | index 0
 *   13    offset               14    NA              15  SNBase ext (0)
 *
 * followed by the XOR of the protected packets' bytes after their 12-byte
 * RTP header (zero-padded to the longest). The FEC packet's own P, X, CC
 * and M bits are the XOR of the protected ones (RFC 2733).
 *
 * Pure: no sockets, no clock (the decoder is given the time). */
#ifndef WEIR_FORMAT_FEC_H
#define WEIR_FORMAT_FEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEC_HDR_LEN  16
#define FEC_RTP_PT   96
#define FEC_MAX_L    20
#define FEC_MAX_D    20
#define FEC_MAX_LxD  100
#define FEC_PORT_COL 2 /* added to the media port */
#define FEC_PORT_ROW 4

enum fec_kind {
	FEC_COL = 0,
	FEC_ROW = 1,
};

/* Parsed FEC header of one FEC RTP packet. */
struct fec_hdr {
	uint16_t snbase;
	uint16_t len_rec;
	uint8_t pt_rec;
	uint32_t ts_rec;
	enum fec_kind kind; /* from the D bit */
	uint8_t offset, na;
	const uint8_t *payload; /* parity bytes */
	size_t payload_len;
};

/* Parses the FEC header in the payload of an FEC RTP packet (the whole
 * packet, RTP header included). 0, or -EPROTO for a short packet, E=0, a
 * mask, a non-XOR type, offset or NA of 0. */
int fec_parse(const uint8_t *rtp, size_t len, struct fec_hdr *out);

/* True when 1 <= l <= FEC_MAX_L, 1 <= d <= FEC_MAX_D, l * d <= FEC_MAX_LxD. */
bool fec_dims_valid(unsigned l, unsigned d);

/* ---------------- encoder ---------------- */

struct fec_enc;

/* Called for every FEC packet the encoder produces; pkt (RTP header +
 * FEC header + parity) is valid during the call. A negative return stops
 * fec_enc_feed, which returns it. */
typedef int (*fec_emit_fn)(void *arg, enum fec_kind kind, const uint8_t *pkt, size_t len);

/* Encoder for an L x D matrix; the FEC streams' RTP sequence numbers
 * start at col_seq / row_seq. NULL on ENOMEM or invalid dimensions. */
struct fec_enc *fec_enc_new(unsigned l, unsigned d, uint16_t col_seq, uint16_t row_seq);
void fec_enc_free(struct fec_enc *e);

/* Feeds the next media RTP packet (whole packet, in sequence order, at
 * most RTP_MAX_BYTES). A row's FEC packet is emitted right after the
 * row's last packet; the L column FEC packets of a finished matrix are
 * spread over the next one (column c after its packet c * D), so that a
 * burst of FEC never follows a burst of media. 0, -EINVAL for a packet
 * that is not RTP or too long, or emit's negative value. */
int fec_enc_feed(struct fec_enc *e, const uint8_t *rtp, size_t len, fec_emit_fn emit, void *arg);

/* Media packets still needed to complete the current matrix (0 at a
 * matrix boundary). A sender that stops pads with that many packets
 * (e.g. null TS packets) and then calls fec_enc_flush, so that its last
 * media packets are protected too. */
unsigned fec_enc_fill(const struct fec_enc *e);

/* Emits at once the column FEC packets of the last finished matrix that
 * are still held back for spreading. 0 or emit's negative value. */
int fec_enc_flush(struct fec_enc *e, fec_emit_fn emit, void *arg);
/* Column FEC packets held back (what fec_enc_flush would emit). */
unsigned fec_enc_pending(const struct fec_enc *e);

/* ---------------- decoder ---------------- */

struct fec_dec;

/* Receives the media packets in sequence order, whole RTP packets that
 * parse (recovered ones rebuilt with their header; the SSRC, which FEC
 * does not protect, is the stream's). A negative return stops the
 * decoder call, which returns it. */
typedef int (*fec_out_fn)(void *arg, const uint8_t *rtp, size_t len, bool recovered);

struct fec_dec_stats {
	uint64_t media;      /* media packets received */
	uint64_t fec[2];     /* FEC packets received, by enum fec_kind */
	uint64_t recovered;  /* media packets rebuilt from FEC */
	uint64_t lost;       /* media packets given up (unrecoverable) */
	uint64_t duplicates; /* media packets received twice */
	uint64_t late;       /* media packets arriving after their turn */
	uint64_t bad;        /* packets that did not parse, rebuilds that did not */
	uint64_t resets;     /* sequence jumps (sender restarted) */
	unsigned l, d;       /* matrix learned from the FEC headers, 0 unknown */
};

/* A decoder that reorders media packets and rebuilds lost ones, handing
 * them to out(arg, ...) in order. The first media packet starts the
 * sequence (earlier ones are late). A rebuilt length of 0 is taken as the
 * parity's length: ffmpeg writes the packet length itself, not the XOR
 * of lengths, so an even NA would otherwise give 0 (an empty payload
 * cannot be rebuilt, which TS never needs). A gap is given up (counted lost) when
 * the packets after it span the reorder window (twice the FEC matrix, at
 * least 32 packets) or when the packet after it has waited max_wait_ms.
 * NULL on ENOMEM. */
struct fec_dec *fec_dec_new(fec_out_fn out, void *arg, int64_t max_wait_ms);
void fec_dec_free(struct fec_dec *d);

/* A media packet / an FEC packet (of either kind) arrived at now_ms.
 * Recovers what it can and emits what is ready. 0, or out's negative
 * value / -ENOMEM. Packets that do not parse are counted, not errors. */
int fec_dec_media(struct fec_dec *d, const uint8_t *rtp, size_t len, int64_t now_ms);
int fec_dec_fec(struct fec_dec *d, const uint8_t *rtp, size_t len, int64_t now_ms);
/* Gives up gaps that waited too long and emits what follows them. */
int fec_dec_tick(struct fec_dec *d, int64_t now_ms);
/* Emits everything held, giving up every gap (end of input). */
int fec_dec_flush(struct fec_dec *d);
void fec_dec_get_stats(const struct fec_dec *d, struct fec_dec_stats *out);

#endif
