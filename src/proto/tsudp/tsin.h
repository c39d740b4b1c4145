/* MPEG-TS bytes published into a stream: the input half shared by the TS
 * transports (UDP, RTP, RIST). Demuxes with ts_demux and publishes
 * tracks and frames as an internal (pull) input. The stream is claimed
 * at creation and released by tsin_free; a sender that goes quiet and
 * comes back (even restarted, with new timestamps and continuity
 * counters) continues the same stream. Loop-thread only. */
#ifndef WEIR_PROTO_TSUDP_TSIN_H
#define WEIR_PROTO_TSUDP_TSIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/conn.h"

struct hub;
struct tsin;

/* Claims stream `name` (hub_publish_begin with req.internal) for
 * connector ("TSUDP", "TSRTP", "RIST"). on_kick(arg) runs when the hub
 * drops the publisher (stream deleted, shutdown): the owner should end
 * and free the tsin. 0 and *out, or -errno with a reason in err. */
int tsin_new(struct hub *hub, const char *name, const char *connector, void (*on_kick)(void *arg),
	     void *arg, struct tsin **out, char *err, size_t errlen);
/* Feeds TS bytes (any alignment) from host (the sender's address, for
 * the connection list; NULL keeps what tsin_conn's host says). 0, or
 * -EPIPE when the stream is gone, -ENOMEM. */
int tsin_feed(struct tsin *t, const uint8_t *p, size_t len, const char *host);
/* The sender went quiet: emits what the demuxer still holds and starts
 * over with a fresh demuxer for whatever comes next. */
void tsin_pause(struct tsin *t);
/* The connection entry (protocol, peer, bytes in) the owner may update. */
struct conn_info *tsin_conn(struct tsin *t);
/* Releases the stream (grace period) and frees. NULL is fine. */
void tsin_free(struct tsin *t);

#endif
