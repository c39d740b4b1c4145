/* Private types of the SRT drivers: one session per SRT connection, on
 * the loop. A session either publishes (MPEG-TS in, demuxed into the
 * hub), plays (a hub reader muxed to MPEG-TS out), or, on the single
 * port without m=, waits up to WSRT_UNDECIDED_MS for data to decide. */
#ifndef WEIR_PROTO_SRT_SRT_T_H
#define WEIR_PROTO_SRT_SRT_T_H

#include <stdbool.h>
#include <jansson.h>
#include <uv.h>

#include "core/bytes.h"
#include "core/conn.h"
#include "format/ts.h"
#include "hub/hub.h"
#include "proto/registry.h"
#include "proto/srt/srtio.h"
#include "proto/srt/wsrt.h"

struct tsgate;

#define WSRT_UNDECIDED_MS 3000       /* "both": listen this long, then send */
#define WSRT_PLAY_WAIT_MS 10000      /* a viewer waits this long for the stream */
#define WSRT_PUB_IDLE_MS  30000      /* a connected publisher that sends nothing */
#define WSRT_OUT_BUDGET   (1u << 20) /* TS bytes queued per viewer before waiting */
#define WSRT_TICK_MS      250

enum wsrt_role {
	WSRT_ROLE_NONE,      /* connecting, nothing decided */
	WSRT_ROLE_UNDECIDED, /* holds the publisher, waits for data */
	WSRT_ROLE_PUBLISH,
	WSRT_ROLE_PLAY,
};

struct wsrt_session;

/* The session ended by itself (peer left, stream ended, error): called
 * once, then the session frees itself. err is 0 or a negative errno. */
typedef void (*wsrt_end_fn)(struct wsrt_session *s, int err, const char *why, void *arg);

/* How a lazily publishing session (inputs) publishes at its first data. */
struct wsrt_pub_spec {
	char name[128];
	char password[128];
	bool internal;
};

struct wsrt_session {
	struct conn_info info;
	uv_loop_t *loop;
	struct hub *hub;
	struct srtio_sock *sock;
	uv_timer_t timer;
	bool closing, connected;
	enum wsrt_role role;
	wsrt_end_fn on_end;
	/* Optional: the connection is up (callers). May start playing. */
	void (*on_connected)(struct wsrt_session *s, void *arg);
	void *arg;
	int64_t deadline_ms;  /* undecided / play wait / publisher idle; 0 = none */
	int64_t last_data_ms; /* loop time of the last bytes received */
	struct bytes in;      /* received bytes being processed */
	uint64_t in_dropped;  /* reported by the I/O thread */
	/* publishing */
	struct hub_stream *pub;
	struct ts_demux *demux;
	struct tsgate *gate; /* tracks announced together (tsudp/tsgate.h) */
	bool lazy_publish;   /* publish at the first data, as spec says */
	struct wsrt_pub_spec spec;
	/* playing */
	char play_name[128];
	char selector[256]; /* raw video=/audio= query for the track mask */
	struct hub_reader *reader;
	struct ts_mux *mux;
	uint64_t mux_set; /* track indices given to the muxer */
	uint32_t mux_gen[HUB_MAX_TRACKS];
	struct bytes obuf;
};

/* session.c */

/* A session on an SRT socket (connected or about to be). Registers the
 * connection (protocol "SRT") and takes over the socket's events. host is
 * filled from the socket's peer. NULL on ENOMEM (the socket untouched). */
struct wsrt_session *wsrt_session_new(uv_loop_t *loop, struct hub *hub, struct srtio_sock *sock,
				      wsrt_end_fn on_end, void *arg);
/* Closes the socket and frees the session (later, on the loop); on_end
 * is not called. why (may be NULL) is logged. */
void wsrt_session_close(struct wsrt_session *s, const char *why);
/* Publishes now: hub_publish_begin with req (connector "SRT"). 0, or the
 * hub's negative errno with its reason in why. */
int wsrt_session_publish(struct wsrt_session *s, const struct hub_publish_req *req, char *why,
			 size_t why_len);
/* Publishes at the first received bytes, as spec says. */
void wsrt_session_publish_lazily(struct wsrt_session *s, const struct wsrt_pub_spec *spec);
/* Plays stream name (sanitized) from its newest keyframe, waiting up to
 * WSRT_PLAY_WAIT_MS for it to be live. selector: a raw query with
 * video=/audio=/subtitle= or NULL for every track. 0 or -ENOMEM. */
int wsrt_session_play(struct wsrt_session *s, const char *name, const char *selector);
/* Single port without m=: s already publishes (wsrt_session_publish
 * succeeded); data within WSRT_UNDECIDED_MS keeps it a publisher,
 * silence makes it a viewer of name. */
void wsrt_session_undecided(struct wsrt_session *s, const char *name);

/* session_play.c (used by session.c) */
int wsrt_play_attach(struct wsrt_session *s);
void wsrt_play_pump(struct wsrt_session *s);
void wsrt_play_stop(struct wsrt_session *s);

/* session.c, for session_play.c */
void wsrt_session_end(struct wsrt_session *s, int err, const char *why);

/* listener.c: "acceptable" and the SRT options of a config.protocols
 * entry (unknown keys are errors). 0 or -errno with the reason in err. */
int wsrt_listener_config(const json_t *cfg, struct wsrt_opts *o, int *acceptable, char *err,
			 size_t errlen);

/* addr.c */

/* A numeric address: 0 or -EINVAL. host "" = any (IPv6 "::", which
 * also takes IPv4). */
int wsrt_sockaddr(const char *host, int port, struct sockaddr_storage *out);

/* Resolves host (a name: DNS on libuv's thread pool) to an address with
 * port. cb runs once on the loop (status 0 or a negative libuv error)
 * unless cancelled first. */
struct wsrt_resolve;
typedef void (*wsrt_resolved_fn)(void *arg, int status, const struct sockaddr *sa);
int wsrt_resolve_start(uv_loop_t *loop, const char *host, int port, wsrt_resolved_fn cb, void *arg,
		       struct wsrt_resolve **out);
void wsrt_resolve_cancel(struct wsrt_resolve *r); /* NULL ok */

/* The target's address for a caller: numeric at once (*now true), else
 * through wsrt_resolve_start (cb later). 0 or a negative errno. */
int wsrt_target(uv_loop_t *loop, const struct wsrt_url *u, struct sockaddr_storage *ss, bool *now,
		wsrt_resolved_fn cb, void *arg, struct wsrt_resolve **out);

#endif
