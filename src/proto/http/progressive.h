/* Private to the progressive HTTP outputs (progressive*.c) and MP4 over
 * WebSocket (ws_mp4.c): gathered output with shared frame references,
 * request checks and track selection, and the viewer loop.
 *
 * A viewer reads its stream through a hub reader (selected tracks only,
 * from the newest keyframe) and writes while the bytes queued in the
 * socket plus those batched stay under PROG_BUDGET; the socket's drain
 * resumes it. Slow-viewer policy: the hub reader's lag limit (-ENOBUFS)
 * ends the response, and the HTTP server closes a connection whose queued
 * output makes no progress for its stall timeout. */
#ifndef WEIR_PROTO_HTTP_PROGRESSIVE_H
#define WEIR_PROTO_HTTP_PROGRESSIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "hub/hub.h"
#include "proto/http/http.h"
#include "proto/http/mp4_live.h"
#include "proto/registry.h"

#define PROG_BUDGET     (256 * 1024) /* bytes queued + batched per viewer */
#define PROG_MAX_PIECES 512
#define PROG_MAX_REFS   160

/* ---- gathered output ---- */

/* One run of output bytes: in a frame's payload (ext) or in the arena
 * (ext NULL, at offset off: the arena may move while it grows). */
struct prog_piece {
	const uint8_t *ext;
	size_t off, len;
};

/* What one viewer sends next, written with one http_stream_write. */
struct prog_out {
	struct http_conn *c;
	struct bytes arena; /* copied bytes (headers, muxed data) */
	struct prog_piece pieces[PROG_MAX_PIECES];
	unsigned npieces;
	struct frame *refs[PROG_MAX_REFS];
	unsigned nrefs;
	size_t bytes; /* sum of the pieces */
};

/* Appends a copy of p[0..n). 0 or -errno. */
int prog_out_copy(struct prog_out *o, const void *p, size_t n);
/* The caller appended arena[from..arena.len) itself (a muxer writing into
 * the arena): sends it next. 0 or -errno. */
int prog_out_commit(struct prog_out *o, size_t from);
/* Sends f->data[off..off+len) by reference (takes a new reference). */
int prog_out_frame(struct prog_out *o, struct frame *f, size_t off, size_t len);
/* Writes everything batched (also when empty: then nothing happens).
 * 0 or -errno; the batch is empty afterwards either way. */
int prog_out_flush(struct prog_out *o);
/* Drops the batch without writing. */
void prog_out_discard(struct prog_out *o);
/* Bytes queued in the socket plus batched: compare with PROG_BUDGET. */
size_t prog_out_pending(const struct prog_out *o);
/* A sink for mp4_live appending plain fragments to o. */
void prog_out_mp4_sink(struct prog_out *o, struct mp4_live_sink *sink);

/* ---- requests ---- */

/* A checked request for a stream output. */
struct prog_req {
	char name[128];
	struct hub_stream *s; /* READY; valid during the handler */
	uint64_t mask;        /* selected tracks */
};

/* Narrows a selection to what a container carries; returns 0, or an
 * HTTP status (400, 404) with *why set when nothing playable is left. */
typedef int (*prog_select_fn)(struct hub_stream *s, const char *query, uint64_t *mask,
			      const char **why);

/* Checks method (GET/HEAD, else 405), stream name from "/<name><suffix>"
 * (400), liveness (404 "Stream is offline") and the ?video=&audio=
 * selection (400 with the reason; then select narrows it). Returns 0 when
 * the request may be served, 1 when it was answered with an error, or a
 * negative errno. */
int prog_check(struct http_conn *c, struct http_request *req, const struct server_env *env,
	       const char *suffix, prog_select_fn select, struct prog_req *out);

/* Keeps in *mask only tracks whose codec is one of codecs[0..n). */
void prog_keep_codecs(struct hub_stream *s, uint64_t *mask, const enum codec *codecs, unsigned n);
/* Selection for fragmented MP4 (shared with ws_mp4.c). */
int prog_select_mp4(struct hub_stream *s, const char *query, uint64_t *mask, const char **why);
/* A fragmenter for the tracks of s selected by mask (track_IDs 1..n in
 * index order); gens[0..n) receives their generations. 0 or -errno. */
int prog_mp4_new(struct hub_stream *s, uint64_t mask, bool from_zero, struct mp4_live **out,
		 uint32_t gens[MP4_LIVE_MAX_TRACKS]);
/* Checks the fragmenter's tracks against the stream's: when a config
 * changed, flushes what is pending into sink, takes the new descriptions
 * and returns 1 (a new init segment is due); 0 when unchanged; -errno. */
int prog_mp4_retrack(struct hub_stream *s, struct mp4_live *ml, uint32_t gens[MP4_LIVE_MAX_TRACKS],
		     const struct mp4_live_sink *sink);

/* "0,1" style list of the set bits of mask into buf. */
const char *prog_mask_str(uint64_t mask, char *buf, size_t len);

/* ---- progressive formats ---- */

struct prog_viewer;

/* One progressive container (table entry); see progressive_*.c. */
struct prog_format {
	const char *name;   /* log and connection protocol name: "MP4", "TS", ... */
	const char *suffix; /* ".mp4" */
	const char *ctype;  /* Content-Type */
	prog_select_fn select;
	size_t priv_size; /* zeroed state at v->priv */
	/* Called once before the first frame (headers, init). 0 or -errno. */
	int (*open)(struct prog_viewer *v);
	/* Appends frame f (of a selected track) to v->out. 0 or -errno. */
	int (*put)(struct prog_viewer *v, struct frame *f);
	/* The reader skipped frames (slow viewer) or the stream ends: emit
	 * what is held back. May be NULL. */
	int (*flush)(struct prog_viewer *v);
	/* Frees what open allocated; always called (also after a failed or
	 * missing open). May be NULL. */
	void (*close)(struct prog_viewer *v);
};

struct prog_viewer {
	struct prog_out out;
	struct hub_reader *r;
	const struct prog_format *fmt;
	uint64_t mask;
	uint64_t skipped; /* hub_reader_skipped() at the last frame */
	bool opened;
	unsigned busy; /* inside pump: on_close defers the free */
	bool gone;     /* the connection closed while busy */
	void *priv;
};

/* Serves a progressive request with fmt: checks, 200 head, viewer. */
int prog_serve(const struct prog_format *fmt, struct http_conn *c, struct http_request *req,
	       const struct server_env *env);

extern const struct prog_format prog_fmt_mp4, prog_fmt_fmp4, prog_fmt_ts, prog_fmt_aac,
    prog_fmt_mp3;

/* MP4 over WebSocket: called by the .mp4 handler for an upgrade request. */
int ws_mp4_serve(struct http_conn *c, struct http_request *req, const struct server_env *env);

#endif
