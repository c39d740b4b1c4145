/* RTMP chunk stream: reassembles messages from chunks and splits messages
 * into chunks. Pure: bytes in, messages out; messages in, iovecs out. */
#ifndef WEIR_PROTO_RTMP_CHUNK_H
#define WEIR_PROTO_RTMP_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/bytes.h"

enum rtmp_msg_type {
	RTMP_MSG_SET_CHUNK_SIZE = 1,
	RTMP_MSG_ABORT = 2,
	RTMP_MSG_ACK = 3,
	RTMP_MSG_USER_CONTROL = 4,
	RTMP_MSG_WINDOW_ACK_SIZE = 5,
	RTMP_MSG_SET_PEER_BW = 6,
	RTMP_MSG_AUDIO = 8,
	RTMP_MSG_VIDEO = 9,
	RTMP_MSG_DATA_AMF3 = 15,
	RTMP_MSG_SHARED_OBJ_AMF3 = 16,
	RTMP_MSG_COMMAND_AMF3 = 17,
	RTMP_MSG_DATA_AMF0 = 18,
	RTMP_MSG_SHARED_OBJ_AMF0 = 19,
	RTMP_MSG_COMMAND_AMF0 = 20,
	RTMP_MSG_AGGREGATE = 22,
};

enum rtmp_user_control {
	RTMP_UC_STREAM_BEGIN = 0,
	RTMP_UC_STREAM_EOF = 1,
	RTMP_UC_STREAM_DRY = 2,
	RTMP_UC_SET_BUFFER_LENGTH = 3,
	RTMP_UC_STREAM_IS_RECORDED = 4,
	RTMP_UC_PING_REQUEST = 6,
	RTMP_UC_PING_RESPONSE = 7,
};

struct rtmp_msg {
	uint32_t csid;
	uint8_t type;
	uint32_t stream_id;
	uint32_t timestamp; /* absolute, ms, 32-bit (wraps) */
	uint32_t len;
	const uint8_t *payload; /* valid during the callback only */
};

/* Return 0 to continue, negative errno to stop parsing (returned by feed). */
typedef int (*rtmp_msg_cb)(void *ctx, const struct rtmp_msg *m);

#define RTMP_MAX_CSIDS       64          /* distinct chunk streams one peer may use */
#define RTMP_DEFAULT_MAX_MSG (16u << 20) /* largest message accepted */

struct rtmp_chunk_state; /* per chunk stream, private */

struct rtmp_chunk_reader {
	uint32_t chunk_size;  /* incoming chunk size, starts at 128 */
	uint32_t max_msg_len; /* messages longer fail with -EMSGSIZE */
	struct rtmp_chunk_state *cs[RTMP_MAX_CSIDS];
	uint32_t cs_id[RTMP_MAX_CSIDS];
	unsigned ncs;
	uint64_t bytes_in; /* total bytes consumed (for acknowledgements) */
};

void rtmp_chunk_reader_init(struct rtmp_chunk_reader *r);
void rtmp_chunk_reader_free(struct rtmp_chunk_reader *r);
/* Consumes as many whole chunks of p[0..len) as possible, calling cb for
 * every completed message (a SET_CHUNK_SIZE message is applied by the
 * reader itself before cb sees it; ABORT drops the partial message).
 * Returns the bytes consumed (the rest is an incomplete chunk to feed again
 * with more data) or a negative errno: -EPROTO malformed (type 0 missing
 * for a new chunk stream, chunk size 0 or > 0x7FFFFFFF, too many chunk
 * streams), -EMSGSIZE message too long, -ENOMEM, or cb's error. */
int rtmp_chunk_feed(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, rtmp_msg_cb cb,
		    void *ctx);

/* Chunk streams below this id get compact headers; higher ones (the
 * server never uses them) always get type 0. Small: one writer per viewer. */
#define RTMP_WR_CSIDS 16

struct rtmp_chunk_writer {
	uint32_t chunk_size; /* outgoing chunk size, starts at 128 */
	/* last header per csid (< RTMP_WR_CSIDS) to pick compact header types */
	struct {
		bool used;
		uint32_t stream_id, len, timestamp, delta;
		uint8_t type;
	} last[RTMP_WR_CSIDS];
};

void rtmp_chunk_writer_init(struct rtmp_chunk_writer *w);
/* Splits one message into chunks, appending headers and body bytes to out.
 * The body is the concatenation of body[0..nbody). Uses the most compact
 * header type the previous message on this csid (< RTMP_WR_CSIDS) allows; extended
 * timestamps (>= 0xFFFFFF) are repeated on continuation chunks as
 * FFmpeg/librtmp expect. 0, -EINVAL (csid < 2 or > 65599), -ENOMEM. */
int rtmp_chunk_write(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type, uint32_t stream_id,
		     uint32_t timestamp, const struct iovec *body, unsigned nbody,
		     struct bytes *out);

/* Zero-copy variant: chunk headers go to hdr[0..hdr_cap) (*hdr_used set),
 * and iov[0..iov_cap) receives alternating header and body slices (bodies
 * point into the caller's buffers). Returns the number of iovecs used, or
 * -ENOSPC when hdr or iov is too small (the writer state is then unchanged).
 * Header bytes needed: at most 25 (continuation chunks share one header). */
int rtmp_chunk_write_iov(struct rtmp_chunk_writer *w, uint32_t csid, uint8_t type,
			 uint32_t stream_id, uint32_t timestamp, const struct iovec *body,
			 unsigned nbody, uint8_t *hdr, size_t hdr_cap, size_t *hdr_used,
			 struct iovec *iov, unsigned iov_cap);

/* Builders for protocol control messages, appended fully chunked (csid 2,
 * stream 0) to out using w. 0 or -ENOMEM. */
int rtmp_put_set_chunk_size(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size);
int rtmp_put_window_ack_size(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size);
int rtmp_put_set_peer_bw(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t size,
			 uint8_t limit_type);
int rtmp_put_ack(struct rtmp_chunk_writer *w, struct bytes *out, uint32_t seq);
/* User control event with a 4-byte value (stream id, or ping timestamp). */
int rtmp_put_user_control(struct rtmp_chunk_writer *w, struct bytes *out, uint16_t event,
			  uint32_t value);

#endif
