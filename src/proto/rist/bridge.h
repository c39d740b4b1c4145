/* librist sessions driven from the libuv loop.
 *
 * librist runs its own threads; everything it reports (received data,
 * log lines, connection changes, statistics) is copied into a queue
 * under a mutex and the loop is woken with uv_async_send. Creating,
 * starting and destroying a librist context may block (name resolution,
 * thread joins), so those run on the libuv thread pool. The loop never
 * waits for librist.
 *
 * URLs are librist's own (rist://host:port caller, rist://@[host]:port
 * listener, options such as buffer=, secret=, aes-type=, cname=,
 * bandwidth= passed through to rist_parse_address2); weir adds
 * profile=simple|main (default main) and track selectors (video=,
 * audio=, subtitle=), removed before librist sees the URL. */
#ifndef WEIR_PROTO_RIST_BRIDGE_H
#define WEIR_PROTO_RIST_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct rist_bridge;

struct rist_bridge_stats {
	bool have;
	uint64_t sent, received, retransmitted, lost, recovered;
	uint32_t rtt_ms;
	double quality;
};

struct rist_bridge_cb {
	void *arg;
	/* Received payload bytes (receivers), in order, valid during the call. */
	void (*data)(void *arg, const uint8_t *p, size_t len);
	/* The session is up (rist_start done): senders may write. */
	void (*started)(void *arg);
	/* A peer connected (true) or timed out (false). */
	void (*peer)(void *arg, bool up);
	/* The session could not start: why. The owner should stop. */
	void (*failed)(void *arg, int err, const char *why);
};

/* Splits weir's options off url: *profile (0 simple, 1 main) and the URL
 * librist gets (out, outlen), checked with rist_parse_address2. listener
 * is set for rist://@... URLs. 0 or -EINVAL with a reason in err. */
int rist_bridge_url(const char *url, char *out, size_t outlen, int *profile, bool *listener,
		    char *err, size_t errlen);

/* Starts a receiver (sender = false) or sender session for the URL
 * (already through rist_bridge_url) in the background; log lines carry
 * stream. The callbacks run on the loop. NULL on ENOMEM. */
struct rist_bridge *rist_bridge_new(uv_loop_t *loop, bool sender, const char *url, int profile,
				    const char *stream, const struct rist_bridge_cb *cb);
/* Sends payload bytes (one RTP payload, at most 1316 recommended) on a
 * started sender. 0, or -EAGAIN before start / -EIO. */
int rist_bridge_write(struct rist_bridge *b, const uint8_t *p, size_t len);
/* Latest statistics (updated once a second). */
void rist_bridge_stats(const struct rist_bridge *b, struct rist_bridge_stats *out);
/* Stops and frees in the background; no callback afterwards. NULL ok. */
void rist_bridge_free(struct rist_bridge *b);

#endif
