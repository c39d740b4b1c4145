/* Hub: ring, keyframe start, DVR trimming, timeline continuity, wakes,
 * slow-reader policy and stream lifecycle. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub.h"

static int64_t dvr_ms = 50000;
static int64_t grace_ms = 0;

static int allow_all(void *ctx, const struct hub_publish_req *req, char *name_out, size_t name_len,
		     struct hub_stream_opts *opts, char *why, size_t why_len)
{
	snprintf(name_out, name_len, "%s", req->name);
	opts->dvr_ms = dvr_ms;
	opts->grace_ms = grace_ms;
	return 0;
}

static struct hub *mkhub(uv_loop_t *loop)
{
	struct hub *h = hub_new(loop);
	struct hub_policy p = {.publish_check = allow_all};
	hub_set_policy(h, &p);
	return h;
}

static struct hub_stream *begin(struct hub *h, const char *name)
{
	struct hub_publish_req req = {.name = name, .host = "127.0.0.1", .connector = "TEST"};
	struct hub_stream *s = NULL;
	char why[128];
	assert_int_equal(hub_publish_begin(h, &req, NULL, NULL, &s, why, sizeof(why)), 0);
	struct track v = {.type = TRACK_VIDEO, .codec = CODEC_H264, .width = 640, .height = 360};
	struct track a = {.type = TRACK_AUDIO, .codec = CODEC_AAC, .rate = 44100, .channels = 2};
	assert_int_equal(hub_set_track(s, 0, &v), 0);
	assert_int_equal(hub_set_track(s, 1, &a), 0);
	return s;
}

static void pub(struct hub_stream *s, unsigned track, int64_t ms, bool key)
{
	uint8_t data[8] = {(uint8_t)ms};
	struct frame *f = frame_new(track, ms * 1000, ms * 1000, key ? FRAME_KEY : 0, data, 8);
	assert_int_equal(hub_publish(s, f), 0);
}

static void finish(uv_loop_t *loop, struct hub *h)
{
	hub_free(h);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}

static void test_starts_at_newest_keyframe(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "a");
	pub(s, 1, 0, false); /* before any keyframe: dropped */
	for (int i = 0; i < 90; i++)
		pub(s, 0, i * 33, i % 30 == 0);
	assert_int_equal(hub_stream_state(s), STREAM_READY);
	struct hub_reader *r = hub_reader_new(s, NULL, NULL, NULL);
	struct frame *f;
	assert_int_equal(hub_reader_next(r, &f), 1);
	assert_true(f->flags & FRAME_KEY);
	assert_int_equal(f->dts_us, 60 * 33 * 1000);
	frame_unref(f);
	int n = 1;
	while (hub_reader_next(r, &f) == 1) {
		frame_unref(f);
		n++;
	}
	assert_int_equal(n, 30);
	hub_reader_free(r);
	hub_publish_end(s);
	finish(&loop, h);
}

static void test_track_mask_and_order(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "b");
	struct hub_reader_opts o = {.track_mask = 1u << 1};
	struct hub_reader *r = hub_reader_new(s, &o, NULL, NULL);
	pub(s, 0, 0, true);
	pub(s, 1, 0, false);
	pub(s, 0, 33, false);
	pub(s, 1, 23, false);
	struct frame *f;
	int64_t last = -1;
	int n = 0;
	while (hub_reader_next(r, &f) == 1) {
		assert_int_equal(f->track, 1);
		assert_true(f->dts_us > last);
		last = f->dts_us;
		frame_unref(f);
		n++;
	}
	assert_int_equal(n, 2);
	hub_reader_free(r);
	hub_publish_end(s);
	finish(&loop, h);
}

static void test_dvr_trim_keeps_window(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	dvr_ms = 2000;
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "c");
	for (int i = 0; i < 300; i++) /* 10 s at 30 fps, GOP 1 s */
		pub(s, 0, i * 33, i % 30 == 0);
	int64_t first, last;
	hub_stream_window(s, &first, &last);
	assert_int_equal(last, 299 * 33 * 1000);
	assert_true(last - first >= 2000 * 1000);
	assert_true(last - first < 3100 * 1000);
	dvr_ms = 50000;
	hub_publish_end(s);
	finish(&loop, h);
}

static void test_timeline_jump_and_restart(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	grace_ms = 60000;
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "d");
	struct hub_reader *r = hub_reader_new(s, NULL, NULL, NULL);
	for (int i = 0; i < 30; i++)
		pub(s, 0, 1000 + i * 33, i == 0);
	pub(s, 0, 5, true); /* publisher timestamps jump back */
	hub_publish_end(s); /* publisher leaves, stream kept for the grace time */
	assert_non_null(hub_find(h, "d"));
	s = begin(h, "d"); /* reconnect: starts at 0 again */
	pub(s, 0, 0, true);
	pub(s, 0, 33, false);
	struct frame *f;
	int64_t last = -1;
	int n = 0;
	while (hub_reader_next(r, &f) == 1) {
		assert_true(f->dts_us > last);
		last = f->dts_us;
		frame_unref(f);
		n++;
	}
	assert_int_equal(n, 33);
	assert_true(last < (1000 + 33 * 33 + 200) * 1000);
	hub_reader_free(r);
	grace_ms = 0;
	hub_publish_end(s);
	finish(&loop, h);
}

static void test_second_publisher_refused(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "e");
	struct hub_publish_req req = {.name = "e", .host = "127.0.0.1"};
	struct hub_stream *s2 = NULL;
	char why[128] = "";
	assert_int_equal(hub_publish_begin(h, &req, NULL, NULL, &s2, why, sizeof(why)), -EBUSY);
	assert_null(s2);
	assert_non_null(strstr(why, "already"));
	hub_publish_end(s);
	finish(&loop, h);
}

static int wakes;
static void on_wake(struct hub_reader *r, void *arg)
{
	struct frame *f;
	wakes++;
	while (hub_reader_next(r, &f) == 1)
		frame_unref(f);
}

static void test_readers_are_woken_once_per_iteration(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "f");
	struct hub_reader *r = hub_reader_new(s, NULL, on_wake, NULL);
	struct frame *f;
	assert_int_equal(hub_reader_next(r, &f), 0); /* nothing yet: now waiting */
	wakes = 0;
	pub(s, 0, 0, true);
	pub(s, 1, 0, false);
	pub(s, 0, 33, false);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(wakes, 1);
	hub_publish_end(s); /* grace 0: stream ends, reader gets EPIPE */
	assert_int_equal(hub_reader_next(r, &f), -EPIPE);
	assert_null(hub_find(h, "f"));
	hub_reader_free(r);
	finish(&loop, h);
}

/* A coalescing reader is not woken for audio alone: the audio goes with
 * the next video frame, or when the hold timer (HUB_COALESCE_MS) fires.
 * A plain reader on the same stream is woken at once. */
static void test_coalescing_reader_holds_audio(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "c");
	struct hub_reader_opts o = {.coalesce = true};
	struct hub_reader *rc = hub_reader_new(s, &o, on_wake, NULL);
	struct frame *f;
	pub(s, 0, 0, true);
	uv_run(&loop, UV_RUN_NOWAIT);
	while (hub_reader_next(rc, &f) == 1)
		frame_unref(f);
	struct hub_reader *rp = hub_reader_new(s, NULL, on_wake, NULL);
	while (hub_reader_next(rp, &f) == 1)
		frame_unref(f);
	wakes = 0;
	pub(s, 1, 10, false); /* audio: only the plain reader */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(wakes, 1);
	pub(s, 0, 33, false); /* video: both */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(wakes, 3);
	/* audio, then no video: the hold timer releases it */
	wakes = 0;
	uint64_t t0 = uv_now(&loop);
	pub(s, 1, 40, false);
	while (wakes < 2 && uv_now(&loop) - t0 < 1000)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(wakes, 2);
	assert_true(uv_now(&loop) - t0 >= HUB_COALESCE_MS - 5);
	hub_reader_free(rc);
	hub_reader_free(rp);
	hub_publish_end(s);
	finish(&loop, h);
}

static void test_slow_reader_skips_to_newest_key(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct hub *h = mkhub(&loop);
	struct hub_stream *s = begin(h, "g");
	struct hub_reader_opts o = {.max_lag_ms = 50};
	struct hub_reader *r = hub_reader_new(s, &o, NULL, NULL);
	for (int i = 0; i < 60; i++)
		pub(s, 0, i * 33, i % 30 == 0);
	usleep(100 * 1000); /* the reader now lags by more than 50 ms */
	for (int i = 60; i < 70; i++)
		pub(s, 0, i * 33, i % 30 == 0);
	struct frame *f;
	assert_int_equal(hub_reader_next(r, &f), 1);
	assert_int_equal(f->dts_us, 60 * 33 * 1000); /* jumped to the newest keyframe */
	assert_true(hub_reader_skipped(r) >= 60);
	frame_unref(f);
	hub_reader_free(r);
	hub_publish_end(s);
	finish(&loop, h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_starts_at_newest_keyframe),
	    cmocka_unit_test(test_track_mask_and_order),
	    cmocka_unit_test(test_dvr_trim_keeps_window),
	    cmocka_unit_test(test_timeline_jump_and_restart),
	    cmocka_unit_test(test_second_publisher_refused),
	    cmocka_unit_test(test_readers_are_woken_once_per_iteration),
	    cmocka_unit_test(test_slow_reader_skips_to_newest_key),
	    cmocka_unit_test(test_coalescing_reader_holds_audio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
