/* The "push://" input: a stream fed by whoever publishes to it (RTMP
 * publish now; SRT, RTSP ANNOUNCE, WHIP, TS later). Listed for the
 * capabilities answer; the publishing protocols do the work. */
#include "proto/registry.h"

static const char *const push_patterns[] = {"push://*", NULL};
static const char *const push_codecs[] = {"H264", "HEVC", "AV1", "VP9", "AAC", "MP3", NULL};

const struct driver push_input_driver = {
    .name = "Buffer",
    .desc = "Live stream fed by an incoming push (RTMP publish)",
    .kind = DRIVER_INPUT,
    .patterns = push_patterns,
    .codecs = push_codecs,
    .priority = 9,
};
