/* SRT: the pure parts, usable without sockets or threads.
 *
 *  - SRTO_* options by their lower-cased names ("latency", "passphrase",
 *    ...), parsed from strings into typed values (a table, no string
 *    dispatch); applying them to a socket is the only libsrt call here.
 *  - srt:// URLs as srt-live-transmit reads them: a host means caller, no
 *    host means listener, ?mode= overrides; every other query key is an
 *    SRT option (an unknown one is an error, never ignored).
 *  - Stream IDs on the single SRT port: a plain stream name, or the
 *    access-control syntax "#!::r=name,m=publish,..." (keys r, m, u, h,
 *    s, t and weir's "pass"). */
#ifndef WEIR_PROTO_SRT_WSRT_H
#define WEIR_PROTO_SRT_WSRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSRT_MAX_OPTS     48
#define WSRT_STREAMID_MAX 512

/* ---- options ---- */

enum wsrt_opt_type {
	WSRT_INT,      /* int: decimal, or 0x... */
	WSRT_INT64,    /* int64_t */
	WSRT_BOOL,     /* 1/0, true/false, yes/no, on/off */
	WSRT_STRING,   /* bytes as given */
	WSRT_TRANS,    /* SRTO_TRANSTYPE: "live" or "file" */
	WSRT_LINGER,   /* SRTO_LINGER: seconds, 0 = off (a struct linger) */
	WSRT_READONLY, /* known, but only readable: an error to set */
	WSRT_MANAGED,  /* set by weir itself (blocking mode): an error to set */
};

struct wsrt_opt_def {
	const char *name; /* lower-cased SRTO_ name without the prefix */
	int opt;          /* SRT_SOCKOPT value */
	enum wsrt_opt_type type;
	int max_len; /* strings: longest accepted value */
};

struct wsrt_optval {
	const struct wsrt_opt_def *def;
	int64_t num; /* int, int64, bool, trans, linger */
	char *str;   /* strings: owned */
};

/* A set of options, in the order given (a later value for the same
 * option replaces the earlier one). Zero-initialise; wsrt_opts_free. */
struct wsrt_opts {
	unsigned n;
	struct wsrt_optval v[WSRT_MAX_OPTS];
};

/* The table entry for a lower-cased option name, or NULL. */
const struct wsrt_opt_def *wsrt_opt_find(const char *name);

/* Parses val for option key and adds it to o. Returns 0; -ENOENT for an
 * unknown option ("unknown SRT option 'xyz'" in err); -EPERM for a
 * read-only option or one weir manages itself (rcvsyn, sndsyn);
 * -EINVAL for a bad value; -ENOSPC when o is full; -ENOMEM. */
int wsrt_opts_set(struct wsrt_opts *o, const char *key, const char *val, char *err, size_t errlen);
/* The value of an option in o, or NULL. */
const struct wsrt_optval *wsrt_opts_get(const struct wsrt_opts *o, int opt);
/* Removes an option from o (no-op when absent). */
void wsrt_opts_del(struct wsrt_opts *o, int opt);
/* Deep copy: 0 or -ENOMEM (dst is left empty on failure). */
int wsrt_opts_copy(struct wsrt_opts *dst, const struct wsrt_opts *src);
void wsrt_opts_free(struct wsrt_opts *o);

/* Sets every option of o on the SRT socket s (before bind/connect).
 * 0, or -EINVAL with libsrt's reason and the option named in err. */
int wsrt_opts_apply(const struct wsrt_opts *o, int s, char *err, size_t errlen);

/* ---- srt:// URLs ---- */

enum wsrt_mode {
	WSRT_CALLER,
	WSRT_LISTENER,
	WSRT_RENDEZVOUS,
};

struct wsrt_url {
	char host[256]; /* "" = any address (listener) */
	int port;
	enum wsrt_mode mode;
	struct wsrt_opts opts;
	char extra[1024]; /* the accepted non-SRT keys, as a raw query string */
};

/* Parses "srt://[host]:port[?k=v&...]". A host means caller, none means
 * listener; ?mode=caller|listener|rendezvous (also client/server)
 * overrides. Keys listed in extra_keys (NULL-terminated, may be NULL)
 * are kept in out->extra instead of being SRT options; any other key
 * must be an SRT option. 0 or a negative errno with the reason in err
 * (caller mode without a host, missing port, unknown option, ...).
 * out must be wsrt_url_free'd either way. */
int wsrt_url_parse(const char *url, const char *const *extra_keys, struct wsrt_url *out, char *err,
		   size_t errlen);
void wsrt_url_free(struct wsrt_url *u);
const char *wsrt_mode_name(enum wsrt_mode m);

/* ---- stream IDs ---- */

enum wsrt_sid_mode {
	WSRT_SID_ANY,     /* not given: decided by the listener (see listener.c) */
	WSRT_SID_PUBLISH, /* m=publish: the caller sends */
	WSRT_SID_REQUEST, /* m=request: the caller receives */
};

struct wsrt_streamid {
	char name[WSRT_STREAMID_MAX + 1]; /* raw resource name (not sanitized) */
	char user[128];
	char pass[128]; /* "pass" key, or ?pass= after a plain name */
	enum wsrt_sid_mode mode;
};

/* Parses a stream ID. Returns 0, or a negative errno with an SRT reject
 * code (SRT_REJX_*) in *reject and the reason in err:
 * -EINVAL 1400 bad syntax or no resource name, -ENOTSUP 1405 for
 * m=bidirectional or an unknown mode, 1415 for a t= other than
 * "stream". Unknown keys are ignored (the spec allows it). */
int wsrt_streamid_parse(const char *sid, struct wsrt_streamid *out, int *reject, char *err,
			size_t errlen);

/* SRT_REJX_* code for a hub_publish_begin error: -ENOENT 1404,
 * -EACCES 1403, -EBUSY 1409, -ESHUTDOWN 1503, others 1500. */
int wsrt_reject_for_errno(int err);
/* Short text for a reject code (libsrt's for codes < 1000, names of the
 * SRT_REJX_ codes otherwise). */
const char *wsrt_reject_str(int code);

#endif
