/* Private types of the RTMP server. */
#ifndef WEIR_PROTO_RTMP_RTMP_T_H
#define WEIR_PROTO_RTMP_RTMP_T_H

#include <stdbool.h>
#include <uv.h>

#include "core/bytes.h"
#include "core/conn.h"
#include "format/amf0.h"
#include "hub/hub.h"
#include "proto/netout.h"
#include "proto/registry.h"
#include "proto/rtmp/chunk.h"
#include "proto/rtmp/handshake.h"

#define RTMP_OUT_CHUNK_SIZE 4096
#define RTMP_WINDOW_ACK     2500000
#define RTMP_OUT_BUDGET     (256 * 1024) /* bytes queued per viewer before we wait */
#define RTMP_IDLE_MS        30000        /* no input from a publisher/handshake */
#define RTMP_STALL_MS       20000        /* viewer not reading */
#define RTMP_PLAY_WAIT_MS   10000        /* how long play waits for a stream */

enum { CSID_CONTROL = 2, CSID_COMMAND = 3, CSID_AUDIO = 4, CSID_DATA = 5, CSID_VIDEO = 6 };

/* Track slots the RTMP publisher uses in its stream. */
enum { RTMP_TRACK_VIDEO = 0, RTMP_TRACK_AUDIO = 1 };

struct rtmp_listener {
	struct server_env env;
	uv_tcp_t tcp;
	int port;
};

enum rtmp_state {
	RS_HANDSHAKE_C0C1,
	RS_HANDSHAKE_C2,
	RS_READY,
	RS_CLOSING,
};

struct rtmp_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	unsigned open_handles;
	struct hub *hub;
	struct conn_info info;
	enum rtmp_state state;
	struct bytes in;
	struct netout out;
	struct rtmp_chunk_reader rd;
	struct rtmp_chunk_writer wr;
	uint64_t last_input_ms;
	uint32_t peer_window_ack; /* peer asked for acks every this many bytes */
	uint64_t acked_bytes;
	uint32_t next_stream_id;
	bool close_after_write;
	char app[128];
	char tcurl[512];

	/* publishing */
	struct hub_stream *pub;
	uint32_t pub_msid;
	uint32_t last_ts[2]; /* per track, for 32-bit wrap extension */
	int64_t ts_high[2];
	struct track ptracks[2];
	bool ptrack_set[2];

	/* playing */
	struct hub_reader *reader;
	uint32_t play_msid;
	char play_name[128];
	uv_timer_t *play_wait; /* waiting for the stream to appear */
	int64_t play_wait_until_ms;
	uint32_t sent_gen[HUB_MAX_TRACKS];
	bool sent_meta;
};

/* server.c */
void rtmp_close(struct rtmp_conn *c, const char *why); /* why NULL: quiet */
/* Queues a fully chunked message built in b (copied). */
int rtmp_send_bytes(struct rtmp_conn *c, struct bytes *b);
/* Sends an AMF0 message (command or data) whose body is in body. */
int rtmp_send_amf(struct rtmp_conn *c, uint8_t type, uint32_t csid, uint32_t msid,
		  const struct bytes *body);

/* commands.c */
int rtmp_on_command(struct rtmp_conn *c, const struct rtmp_msg *m);
int rtmp_send_status(struct rtmp_conn *c, uint32_t msid, const char *level, const char *code,
		     const char *desc);

/* ingest.c */
int rtmp_publish_start(struct rtmp_conn *c, uint32_t msid, const char *name);
int rtmp_on_media(struct rtmp_conn *c, const struct rtmp_msg *m);
void rtmp_publish_stop(struct rtmp_conn *c);

/* play.c */
int rtmp_play_start(struct rtmp_conn *c, uint32_t msid, const char *name);
void rtmp_play_stop(struct rtmp_conn *c);
void rtmp_play_pump(struct rtmp_conn *c);

#endif
