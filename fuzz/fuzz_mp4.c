/* libFuzzer target: ISO BMFF boxes. The input is walked as a box tree
 * (every payload is tried as a list of child boxes, to a depth limit) with
 * mp4_box_read(), searched with mp4_box_find() along the paths players
 * read, and its first bytes are fed to the audio frame-duration parsers.
 * Then the input becomes the codec config of an init segment, which must
 * read back as a well-formed tree with the config unchanged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/fmp4.h"

#define MAX_DEPTH 12

static void check_box(const uint8_t *p, size_t len, const struct mp4_box *b)
{
	if (b->size > len || b->size < b->header || (b->header != 8 && b->header != 16) ||
	    b->payload != p + b->header || b->payload_len != b->size - b->header)
		abort();
}

/* Number of boxes seen; aborts on a box that does not fit its parent. */
static size_t walk(const uint8_t *p, size_t len, int depth)
{
	size_t boxes = 0;
	while (len > 0 && depth < MAX_DEPTH) {
		struct mp4_box b;
		if (mp4_box_read(p, len, &b))
			break;
		check_box(p, len, &b);
		boxes += 1 + walk(b.payload, b.payload_len, depth + 1);
		p += b.size;
		len -= (size_t)b.size;
	}
	return boxes;
}

static void find_paths(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
	    "moov/trak/mdia/minf/stbl/stsd/avc1/avcC",
	    "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC",
	    "moov/trak/mdia/minf/stbl/stsd/mp4a/esds",
	    "moov/trak/mdia/minf/stbl/stsd/Opus/dOps",
	    "moov/trak/mdia/minf/dinf/dref/url ",
	    "moov/meta/hdlr",
	    "moof/traf/trun",
	    "mdat",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct mp4_box b;
		if (mp4_box_find(data, size, paths[i], &b) == 0 &&
		    (b.payload < data || b.payload + b.payload_len > data + size ||
		     b.type != rd_be32((const uint8_t *)paths[i] + strlen(paths[i]) - 4)))
			abort();
	}
}

static void frame_durations(const uint8_t *data, size_t size)
{
	struct frame *f = frame_new(0, 0, 0, 0, data, size < 64 ? size : 64);
	if (!f)
		return;
	struct track t = {.type = TRACK_AUDIO, .codec = CODEC_OPUS};
	if (fmp4_audio_frame_samples(&t, f) > 5760)
		abort();
	t.codec = CODEC_MP3;
	fmp4_audio_frame_samples(&t, f);
	frame_unref(f);
}

/* The input as the config of a track whose codec the first byte picks. */
static void init_roundtrip(const uint8_t *data, size_t size)
{
	static const char *const cfg_path[CODEC_COUNT] = {
	    [CODEC_H264] = "moov/trak/mdia/minf/stbl/stsd/avc1/avcC",
	    [CODEC_H265] = "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC",
	    [CODEC_AV1] = "moov/trak/mdia/minf/stbl/stsd/av01/av1C",
	};
	if (size < 1)
		return;
	enum codec c = (enum codec)(data[0] % CODEC_COUNT);
	struct track t = {.type = codec_type(c), .codec = c, .rate = 48000, .channels = 2};
	t.config = size > 1 ? wbuf_from(data + 1, size - 1) : NULL;
	const struct track *tp = &t;
	struct bytes out = {0};
	if (fmp4_init(&tp, 1, &out) == 0) {
		size_t boxes = walk(out.data, out.len, 0);
		struct mp4_box b;
		if (boxes < 20 || mp4_box_find(out.data, out.len, "moov/mvex/trex", &b))
			abort();
		if (cfg_path[c] && t.config &&
		    (mp4_box_find(out.data, out.len, cfg_path[c], &b) ||
		     b.payload_len != t.config->len ||
		     memcmp(b.payload, t.config->data, b.payload_len)))
			abort();
	}
	bytes_free(&out);
	track_clear(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size, 0);
	find_paths(data, size);
	frame_durations(data, size);
	init_roundtrip(data, size);
	return 0;
}
