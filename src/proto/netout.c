#include "proto/netout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "media/frame.h"

struct netout_req {
	uv_write_t req;
	struct netout *o;
	size_t bytes;
	void *owned, *owned2;
	struct wbuf *wb;
	unsigned nrefs;
	struct frame *refs[];
};

static void release(struct frame **refs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		frame_unref(refs[i]);
}

void netout_init(struct netout *o, uv_stream_t *s, void (*done)(struct netout *o, int status),
		 void *arg)
{
	memset(o, 0, sizeof(*o));
	o->stream = s;
	o->done = done;
	o->arg = arg;
	o->last_progress_ms = uv_now(s->loop);
}

static void write_cb(uv_write_t *w, int status)
{
	struct netout_req *r = (struct netout_req *)w;
	struct netout *o = r->o;
	release(r->refs, r->nrefs);
	free(r->owned);
	free(r->owned2);
	wbuf_unref(r->wb);
	o->queued -= r->bytes;
	o->inflight--;
	o->last_progress_ms = uv_now(w->handle->loop);
	free(r);
	if (o->done)
		o->done(o, status);
}

int netout_write(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		 unsigned nrefs, void *owned)
{
	return netout_write2(o, bufs, nbufs, refs, nrefs, owned, NULL);
}

int netout_write2(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		  unsigned nrefs, void *owned, void *owned2)
{
	return netout_write_ex(o, bufs, nbufs, refs, nrefs, owned, owned2, NULL);
}

int netout_write_ex(struct netout *o, const uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		    unsigned nrefs, void *owned, void *owned2, struct wbuf *wb)
{
	struct netout_req *r = NULL;
	if (!o->stream || !nbufs)
		goto fail;
	r = malloc(sizeof(*r) + nrefs * sizeof(*refs));
	if (!r)
		goto fail;
	r->o = o;
	r->owned = owned;
	r->owned2 = owned2;
	r->wb = wb;
	r->nrefs = nrefs;
	r->bytes = 0;
	for (unsigned i = 0; i < nbufs; i++)
		r->bytes += bufs[i].len;
	if (nrefs)
		memcpy(r->refs, refs, nrefs * sizeof(*refs));
	if (!o->queued)
		o->last_progress_ms = uv_now(o->stream->loop);
	if (uv_write(&r->req, o->stream, bufs, nbufs, write_cb)) {
		free(r);
		goto fail;
	}
	o->queued += r->bytes;
	o->total += r->bytes;
	o->inflight++;
	return 0;
fail:
	release(refs, nrefs);
	free(owned);
	free(owned2);
	wbuf_unref(wb);
	return nbufs ? -EPIPE : 0;
}

int netout_write_now(struct netout *o, uv_buf_t *bufs, unsigned nbufs, struct frame **refs,
		     unsigned nrefs, void *owned, void *owned2)
{
	if (!o->stream || !nbufs || o->queued)
		return netout_write2(o, bufs, nbufs, refs, nrefs, owned, owned2);
	size_t total = 0;
	for (unsigned i = 0; i < nbufs; i++)
		total += bufs[i].len;
	int n = uv_try_write(o->stream, bufs, nbufs);
	size_t done = n > 0 ? (size_t)n : 0;
	o->total += done;
	if (done)
		o->last_progress_ms = uv_now(o->stream->loop);
	if ((n < 0 && n != UV_EAGAIN) || done == total) {
		release(refs, nrefs);
		free(owned);
		free(owned2);
		return done == total ? 0 : -EPIPE;
	}
	unsigned i = 0;
	while (done >= bufs[i].len)
		done -= bufs[i++].len;
	bufs[i].base += done;
	bufs[i].len -= done;
	return netout_write2(o, bufs + i, nbufs - i, refs, nrefs, owned, owned2);
}

int netout_write_copy(struct netout *o, const void *data, size_t len)
{
	if (!len)
		return 0;
	char *p = malloc(len);
	if (!p)
		return -ENOMEM;
	memcpy(p, data, len);
	uv_buf_t b = uv_buf_init(p, (unsigned)len);
	return netout_write(o, &b, 1, NULL, 0, p);
}

void netout_detach(struct netout *o)
{
	o->done = NULL;
	o->stream = NULL;
}
