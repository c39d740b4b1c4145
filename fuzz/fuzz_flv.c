/* libFuzzer target: FLV audio/video tag bodies as RTMP and FLV files carry
 * them, and the track configuration a sequence header produces. The first
 * byte picks audio or video. */
#include <stdint.h>
#include <stdlib.h>

#include "format/flv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct flv_body b;
	int rc = (data[0] & 1) ? flv_parse_video(data + 1, size - 1, &b)
			       : flv_parse_audio(data + 1, size - 1, &b);
	if (rc < 0)
		return 0;
	if (b.len > size || (b.len && (b.data < data || b.data + b.len > data + size)))
		abort();
	if (b.kind == FLV_BODY_CONFIG || (b.kind == FLV_BODY_FRAME && b.codec == CODEC_MP3)) {
		struct track t = {.type = b.type, .codec = b.codec};
		if (flv_track_from_config(&t, b.codec, b.data, b.len) == 0) {
			struct bytes out = {0};
			flv_config_body(&t, &out);
			bytes_free(&out);
		}
		track_clear(&t);
	}
	return 0;
}
