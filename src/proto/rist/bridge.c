/* librist sessions handed to the loop (see bridge.h). */
#include "proto/rist/bridge.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librist/librist.h>

#include "core/bytes.h"
#include "core/log.h"

#define QUEUE_MAX_BYTES (16 * 1024 * 1024) /* received data waiting for the loop */
#define LOG_SLOTS       32
#define LOG_LEN         256
#define STATS_MS        1000

enum bridge_state {
	BR_STARTING,
	BR_RUNNING,
	BR_FAILED,
};

/* What librist's threads leave for the loop (under mu). */
struct bridge_queue {
	pthread_mutex_t mu;
	struct bytes data;
	uint64_t overflow_bytes;
	char logs[LOG_SLOTS][LOG_LEN];
	int log_level[LOG_SLOTS];
	unsigned nlogs, lost_logs;
	int peer_events[8]; /* +1 up, -1 down */
	unsigned npeer;
	struct rist_bridge_stats stats;
};

struct rist_bridge {
	uv_loop_t *loop;
	bool sender;
	int profile;
	char url[1024];
	char stream[128];
	struct rist_bridge_cb cb;
	uv_async_t async;
	uv_work_t work;
	struct rist_ctx *ctx;
	struct rist_logging_settings logset;
	enum bridge_state state;
	bool freeing;
	int start_err;
	char why[256];
	struct bridge_queue q;
	struct rist_bridge_stats stats; /* loop's copy */
};

/* librist's process-wide log settings (used by its socket helpers and
 * URL parser) print to stderr unless set: silence them once. */
static void quiet_global_log(void)
{
	static bool done;
	static struct rist_logging_settings g = LOGGING_SETTINGS_INITIALIZER;
	if (done)
		return;
	done = true;
	rist_logging_set_global(&g);
}

/* Track selectors and pacing belong to weir, not librist. */
static bool weir_option(const char *p, size_t n)
{
	static const char *const keys[] = {"video=", "audio=", "subtitle=", "smooth="};
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (n >= strlen(keys[i]) && !strncmp(p, keys[i], strlen(keys[i])))
			return true;
	return false;
}

int rist_bridge_url(const char *url, char *out, size_t outlen, int *profile, bool *listener,
		    char *err, size_t errlen)
{
	*profile = RIST_PROFILE_MAIN;
	const char *q = strchr(url, '?');
	size_t base = q ? (size_t)(q - url) : strlen(url);
	if (strncmp(url, "rist://", 7) || base + 1 > outlen) {
		snprintf(err, errlen, "bad RIST URL");
		return -EINVAL;
	}
	memcpy(out, url, base);
	out[base] = 0;
	*listener = url[7] == '@';
	size_t len = base;
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n > 8 && !strncmp(p, "profile=", 8)) {
			const char *v = p + 8;
			if (!strncmp(v, "simple", n - 8) || !strncmp(v, "0", n - 8))
				*profile = RIST_PROFILE_SIMPLE;
			else if (!strncmp(v, "main", n - 8) || !strncmp(v, "1", n - 8))
				*profile = RIST_PROFILE_MAIN;
			else {
				snprintf(err, errlen, "profile must be simple or main");
				return -EINVAL;
			}
		} else if (n && !weir_option(p, n)) {
			if (len + n + 2 > outlen) {
				snprintf(err, errlen, "RIST URL too long");
				return -EINVAL;
			}
			out[len] = len == base ? '?' : '&';
			len++;
			memcpy(out + len, p, n);
			len += n;
			out[len] = 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	quiet_global_log();
	struct rist_peer_config *cfg = NULL;
	int rc = rist_parse_address2(out, &cfg);
	rist_peer_config_free2(&cfg);
	if (rc) {
		snprintf(err, errlen, "bad RIST URL or option in %s", url);
		return -EINVAL;
	}
	return 0;
}

/* ---------------- librist threads ---------------- */

static int log_cb(void *arg, enum rist_log_level level, const char *msg)
{
	struct rist_bridge *b = arg;
	pthread_mutex_lock(&b->q.mu);
	if (b->q.nlogs < LOG_SLOTS) {
		snprintf(b->q.logs[b->q.nlogs], LOG_LEN, "%s", msg);
		b->q.log_level[b->q.nlogs++] = level;
	} else {
		b->q.lost_logs++;
	}
	pthread_mutex_unlock(&b->q.mu);
	uv_async_send(&b->async);
	return 0;
}

static int data_cb(void *arg, struct rist_data_block *block)
{
	struct rist_bridge *b = arg;
	pthread_mutex_lock(&b->q.mu);
	if (b->q.data.len + block->payload_len > QUEUE_MAX_BYTES ||
	    bytes_append(&b->q.data, block->payload, block->payload_len))
		b->q.overflow_bytes += block->payload_len;
	pthread_mutex_unlock(&b->q.mu);
	rist_receiver_data_block_free2(&block);
	uv_async_send(&b->async);
	return 0;
}

static void status_cb(void *arg, struct rist_peer *peer, enum rist_connection_status st)
{
	struct rist_bridge *b = arg;
	int ev = st == RIST_CONNECTION_ESTABLISHED || st == RIST_CLIENT_CONNECTED ? 1 : -1;
	pthread_mutex_lock(&b->q.mu);
	if (b->q.npeer < sizeof(b->q.peer_events) / sizeof(*b->q.peer_events))
		b->q.peer_events[b->q.npeer++] = ev;
	pthread_mutex_unlock(&b->q.mu);
	uv_async_send(&b->async);
}

static int stats_cb(void *arg, const struct rist_stats *s)
{
	struct rist_bridge *b = arg;
	struct rist_bridge_stats st = {.have = true};
	if (s->stats_type == RIST_STATS_SENDER_PEER) {
		const struct rist_stats_sender_peer *p = &s->stats.sender_peer;
		st.sent = p->sent;
		st.received = p->received;
		st.retransmitted = p->retransmitted;
		st.rtt_ms = p->rtt;
		st.quality = p->quality;
	} else {
		const struct rist_stats_receiver_flow *f = &s->stats.receiver_flow;
		st.sent = f->sent;
		st.received = f->received;
		st.lost = f->lost;
		st.recovered = f->recovered;
		st.rtt_ms = f->rtt;
		st.quality = f->quality;
	}
	pthread_mutex_lock(&b->q.mu);
	/* librist's counters may restart with a new flow: keep totals growing */
	b->q.stats = st;
	pthread_mutex_unlock(&b->q.mu);
	rist_stats_free(s);
	return 0;
}

/* Thread pool: create and start the session. */
static void start_work(uv_work_t *w)
{
	struct rist_bridge *b = w->data;
	struct rist_peer_config *cfg = NULL;
	struct rist_peer *peer;
	int rc = b->sender ? rist_sender_create(&b->ctx, b->profile, 0, &b->logset)
			   : rist_receiver_create(&b->ctx, b->profile, &b->logset);
	if (rc) {
		b->ctx = NULL;
		snprintf(b->why, sizeof(b->why), "cannot create the RIST %s",
			 b->sender ? "sender" : "receiver");
		b->start_err = -ENOMEM;
		return;
	}
	rc = rist_parse_address2(b->url, &cfg);
	if (!rc)
		rc = rist_peer_create(b->ctx, &peer, cfg);
	rist_peer_config_free2(&cfg);
	if (!rc && !b->sender)
		rc = rist_receiver_data_callback_set2(b->ctx, data_cb, b);
	if (!rc)
		rc = rist_connection_status_callback_set(b->ctx, status_cb, b);
	if (!rc)
		rc = rist_stats_callback_set(b->ctx, STATS_MS, stats_cb, b);
	if (!rc)
		rc = rist_start(b->ctx);
	if (rc) {
		snprintf(b->why, sizeof(b->why), "cannot set up RIST peer %.200s", b->url);
		b->start_err = -EIO;
		rist_destroy(b->ctx);
		b->ctx = NULL;
	}
}

/* ---------------- loop side ---------------- */

static int weir_level(int rist_level)
{
	if (rist_level <= RIST_LOG_ERROR)
		return LOG_WARN; /* librist "errors" are mostly peers coming and going */
	if (rist_level == RIST_LOG_WARN)
		return LOG_MEDIUM;
	return rist_level <= RIST_LOG_INFO ? LOG_HIGH : LOG_VERYHIGH;
}

static int rist_level_for(int threshold)
{
	if (threshold >= LOG_VERYHIGH)
		return RIST_LOG_DEBUG;
	if (threshold >= LOG_HIGH)
		return RIST_LOG_INFO;
	return threshold >= LOG_MEDIUM ? RIST_LOG_WARN : RIST_LOG_ERROR;
}

static void trim_newline(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
}

static void async_cb(uv_async_t *h)
{
	struct rist_bridge *b = h->data;
	static __thread struct bridge_queue snap; /* large: not on the stack */
	pthread_mutex_lock(&b->q.mu);
	struct bytes data = b->q.data;
	memset(&b->q.data, 0, sizeof(b->q.data));
	uint64_t overflow = b->q.overflow_bytes;
	b->q.overflow_bytes = 0;
	snap.nlogs = b->q.nlogs;
	snap.lost_logs = b->q.lost_logs;
	memcpy(snap.logs, b->q.logs, sizeof(snap.logs[0]) * snap.nlogs);
	memcpy(snap.log_level, b->q.log_level, sizeof(snap.log_level[0]) * snap.nlogs);
	snap.npeer = b->q.npeer;
	memcpy(snap.peer_events, b->q.peer_events, sizeof(snap.peer_events));
	b->q.nlogs = b->q.lost_logs = b->q.npeer = 0;
	if (b->q.stats.have)
		b->stats = b->q.stats;
	pthread_mutex_unlock(&b->q.mu);

	for (unsigned i = 0; i < snap.nlogs; i++) {
		trim_newline(snap.logs[i]);
		LOGF(weir_level(snap.log_level[i]), b->stream, "RIST: %s", snap.logs[i]);
	}
	if (snap.lost_logs)
		LOGF(LOG_HIGH, b->stream, "RIST: %u log lines dropped", snap.lost_logs);
	if (overflow)
		LOGF(LOG_WARN, b->stream, "RIST: %llu bytes dropped (loop behind)",
		     (unsigned long long)overflow);
	for (unsigned i = 0; i < snap.npeer && !b->freeing; i++)
		if (b->cb.peer)
			b->cb.peer(b->cb.arg, snap.peer_events[i] > 0);
	if (data.len && !b->freeing && b->cb.data)
		b->cb.data(b->cb.arg, data.data, data.len);
	bytes_free(&data);
}

static void closed(uv_handle_t *h)
{
	struct rist_bridge *b = h->data;
	pthread_mutex_destroy(&b->q.mu);
	bytes_free(&b->q.data);
	free(b);
}

static void destroy_work(uv_work_t *w)
{
	struct rist_bridge *b = w->data;
	if (b->ctx)
		rist_destroy(b->ctx); /* joins librist's threads */
	b->ctx = NULL;
}

static void after_destroy(uv_work_t *w, int status)
{
	struct rist_bridge *b = w->data;
	uv_close((uv_handle_t *)&b->async, closed);
}

static void queue_destroy(struct rist_bridge *b)
{
	if (uv_queue_work(b->loop, &b->work, destroy_work, after_destroy)) {
		destroy_work(&b->work); /* cannot happen with a valid loop */
		after_destroy(&b->work, 0);
	}
}

static void after_start(uv_work_t *w, int status)
{
	struct rist_bridge *b = w->data;
	if (b->freeing) {
		queue_destroy(b);
		return;
	}
	if (b->start_err) {
		b->state = BR_FAILED;
		b->cb.failed(b->cb.arg, b->start_err, b->why);
		return;
	}
	b->state = BR_RUNNING;
	if (b->cb.started)
		b->cb.started(b->cb.arg);
}

struct rist_bridge *rist_bridge_new(uv_loop_t *loop, bool sender, const char *url, int profile,
				    const char *stream, const struct rist_bridge_cb *cb)
{
	struct rist_bridge *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->loop = loop;
	b->sender = sender;
	b->profile = profile;
	b->cb = *cb;
	snprintf(b->url, sizeof(b->url), "%s", url);
	snprintf(b->stream, sizeof(b->stream), "%s", stream);
	b->logset = (struct rist_logging_settings)LOGGING_SETTINGS_INITIALIZER;
	b->logset.log_level = rist_level_for(log_threshold);
	b->logset.log_cb = log_cb;
	b->logset.log_cb_arg = b;
	pthread_mutex_init(&b->q.mu, NULL);
	quiet_global_log();
	uv_async_init(loop, &b->async, async_cb);
	b->async.data = b->work.data = b;
	if (uv_queue_work(loop, &b->work, start_work, after_start)) {
		uv_close((uv_handle_t *)&b->async, closed);
		return NULL;
	}
	return b;
}

int rist_bridge_write(struct rist_bridge *b, const uint8_t *p, size_t len)
{
	if (b->state != BR_RUNNING || !b->ctx)
		return -EAGAIN;
	struct rist_data_block blk = {.payload = p, .payload_len = len};
	return rist_sender_data_write(b->ctx, &blk) < 0 ? -EIO : 0;
}

void rist_bridge_stats(const struct rist_bridge *b, struct rist_bridge_stats *out)
{
	*out = b->stats;
}

void rist_bridge_free(struct rist_bridge *b)
{
	if (!b)
		return;
	b->freeing = true;
	if (b->state != BR_STARTING)
		queue_destroy(b);
	/* else after_start sees freeing and destroys */
}
