/* Registry of open connections, for the API's `clients` command and stats.
 * A protocol embeds a struct conn_info in its connection object, fills the
 * fields, calls conn_register() once the peer is known and
 * conn_unregister() before freeing it. Loop-thread only. */
#ifndef WEIR_CORE_CONN_H
#define WEIR_CORE_CONN_H

#include <stdbool.h>
#include <stdint.h>

enum conn_role {
	CONN_OTHER = 0,
	CONN_VIEWER, /* reads a stream */
	CONN_INPUT,  /* publishes a stream */
	CONN_API,
};

struct conn_info {
	uint64_t id;          /* assigned by conn_register */
	char host[64];        /* peer address, no port */
	char stream[128];     /* stream name, empty until known */
	const char *protocol; /* static string: "RTMP", "HTTP", "FLV", ... */
	enum conn_role role;
	int64_t conntime_s;  /* unix seconds at connect */
	uint64_t down_bytes; /* bytes sent to the peer */
	uint64_t up_bytes;   /* bytes received from the peer */
	/* Packet counters of packet-based transports (SRT; 0 elsewhere):
	 * data packets sent (retransmissions included), packets lost in
	 * either direction, packets retransmitted. */
	uint64_t pkt_sent, pkt_lost, pkt_retrans;
	/* Closes the connection (shutdown, API kick). Set by the protocol. */
	void (*kill)(struct conn_info *c);
	struct conn_info *next, *prev;
};

void conn_register(struct conn_info *c);
void conn_unregister(struct conn_info *c);
void conn_foreach(void (*fn)(const struct conn_info *c, void *arg), void *arg);
unsigned conn_count(void);
/* Calls kill on every registered connection (shutdown). */
void conn_kill_all(void);

/* Fills host[] from a sockaddr (IPv4-mapped IPv6 shown as IPv4). */
void conn_set_host(struct conn_info *c, const void *sockaddr);
/* True for 127.0.0.0/8 and ::1 (and ::ffff:127.x). */
bool addr_is_loopback(const char *host);

#endif
