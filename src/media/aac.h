/* AAC AudioSpecificConfig and MPEG audio (MP3) frame headers. */
#ifndef WEIR_MEDIA_AAC_H
#define WEIR_MEDIA_AAC_H

#include <stddef.h>
#include <stdint.h>

struct aac_asc {
	unsigned object_type; /* 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS */
	unsigned freq_index;
	unsigned sample_rate;     /* Hz, the core rate (before SBR) */
	unsigned ext_sample_rate; /* SBR output rate; 0 when not signalled */
	unsigned channel_config;
	unsigned channels;
	unsigned frame_samples; /* 1024 (or 960) */
};

/* Parses an AudioSpecificConfig (ISO 14496-3). 0 or -EPROTO. */
int aac_parse_asc(const uint8_t *p, size_t len, struct aac_asc *out);
/* Writes a 2-byte AAC-LC style ASC. Returns its length or -EINVAL. */
int aac_make_asc(unsigned object_type, unsigned sample_rate, unsigned channels, uint8_t out[2]);

struct mp3_header {
	unsigned version; /* 1, 2, or 25 for MPEG-2.5 */
	unsigned layer;   /* 1..3 */
	unsigned bitrate_kbps, sample_rate, channels;
	unsigned frame_len;     /* bytes, including header */
	unsigned frame_samples; /* 1152 or 576 (or 384 for layer 1) */
};

/* Parses a 4-byte MPEG audio frame header. 0 or -EPROTO. */
int mp3_parse_header(const uint8_t *p, size_t len, struct mp3_header *out);

#endif
