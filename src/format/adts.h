/* ADTS (ISO 14496-3 1.A.2.2): the self-synchronising header AAC carries
 * in MPEG-TS and .aac files. Pure; safe on arbitrary bytes. */
#ifndef WEIR_FORMAT_ADTS_H
#define WEIR_FORMAT_ADTS_H

#include <stddef.h>
#include <stdint.h>

#include "media/aac.h"

#define ADTS_HEADER_LEN 7    /* without CRC; 9 with */
#define ADTS_MAX_FRAME  8191 /* aac_frame_length is 13 bits */

struct adts_header {
	unsigned object_type;    /* profile_ObjectType + 1: 1 Main, 2 LC, 3 SSR, 4 LTP */
	unsigned freq_index;     /* 0..12 */
	unsigned sample_rate;    /* Hz, from freq_index */
	unsigned channel_config; /* 0 = a PCE in the payload says */
	unsigned header_len;     /* 7, or 9 when a CRC follows */
	unsigned frame_len;      /* whole frame in bytes, header included */
	unsigned raw_blocks;     /* raw data blocks (AUs) in the frame, 1..4 */
};

/* Parses the header at p. 0, -EAGAIN (fewer than 7 bytes) or -EPROTO (no
 * syncword, reserved values, frame shorter than its header). Does not
 * check that frame_len bytes are present. */
int adts_parse(const uint8_t *p, size_t len, struct adts_header *out);

/* Writes a 7-byte header (no CRC, one raw data block) for a payload of
 * payload_len bytes described by asc. SBR/PS configs are written as their
 * AAC-LC core (implicit signalling). 0, or -EINVAL when the config has no
 * ADTS form (object type > 4, non-standard rate) or the frame exceeds
 * ADTS_MAX_FRAME. */
int adts_write(uint8_t out[ADTS_HEADER_LEN], const struct aac_asc *asc, size_t payload_len);

/* The 2-byte AudioSpecificConfig an ADTS header describes. Returns 2. */
int adts_make_asc(const struct adts_header *h, uint8_t out[2]);

/* Sampling frequency index of rate (0..12), or -EINVAL. */
int adts_freq_index(unsigned rate);

#endif
