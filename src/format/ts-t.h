/* Constants and helpers shared by the MPEG-TS muxer (ts_mux.c) and
 * demuxer (ts_demux.c, ts_pes.c). Private to the TS module. */
#ifndef WEIR_FORMAT_TS_T_H
#define WEIR_FORMAT_TS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "format/ts.h"
#include "media/track.h"

enum {
	TS_SYNC = 0x47,
	TS_PID_PAT = 0x0000,
	TS_PID_NULL = 0x1fff,
	TS_TABLE_PAT = 0x00,
	TS_TABLE_PMT = 0x02,
	/* stream_type (ISO 13818-1 table 2-34 and later amendments) */
	TS_TYPE_MPEG1_AUDIO = 0x03,
	TS_TYPE_MPEG2_AUDIO = 0x04,
	TS_TYPE_PRIVATE_PES = 0x06,
	TS_TYPE_AAC_ADTS = 0x0f,
	TS_TYPE_AAC_LATM = 0x11,
	TS_TYPE_H264 = 0x1b,
	TS_TYPE_H265 = 0x24,
	/* stream_id of PES packets */
	TS_SID_PRIVATE_1 = 0xbd,
	TS_SID_AUDIO = 0xc0,
	TS_SID_VIDEO = 0xe0,
	/* descriptors */
	TS_DESC_REGISTRATION = 0x05,
	TS_DESC_LANGUAGE = 0x0a,
	TS_DESC_DVB_EXTENSION = 0x7f,
	TS_DVB_EXT_OPUS = 0x80,
};

#define TS_FOURCC_OPUS 0x4f707573u /* "Opus" */
#define TS_CLOCK_HZ    90000
#define TS_PTS_MASK    ((INT64_C(1) << 33) - 1)

/* MPEG-2 CRC-32 (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection,
 * no final XOR) as PSI sections end with; a section including its CRC
 * sums to 0. */
uint32_t ts_crc32(const uint8_t *p, size_t len);

/* Opus in TS (ETSI TS 102 366 registration, DVB extension descriptor
 * 0x80): channel_config_code for an OpusHead (1..8 for the RFC 7845
 * default layouts, 0xFF when the head needs its explicit mapping). */
uint8_t ts_opus_code(const uint8_t *head, size_t len, unsigned channels);
/* Appends the OpusHead a channel_config_code stands for (pre-skip 0,
 * 48 kHz); -EPROTO for reserved codes, or -ENOMEM. Sets *channels. */
int ts_opus_head(uint8_t code, struct bytes *out, unsigned *channels);

/* Microseconds to 90 kHz ticks, rounded to nearest, wrapped to 33 bits. */
static inline uint64_t ts_us_to_90k(int64_t us)
{
	int64_t t = us * 9;
	t = t >= 0 ? (t + 50) / 100 : -((-t + 49) / 100);
	return (uint64_t)t & TS_PTS_MASK;
}

/* 90 kHz ticks (any int64) to microseconds, rounded to nearest; exact
 * inverse of ts_us_to_90k for timestamps that came from ticks. */
static inline int64_t ts_90k_to_us(int64_t ticks)
{
	return ticks >= 0 ? (ticks * 100 + 4) / 9 : -((-ticks * 100 + 4) / 9);
}

/* 5-byte PTS/DTS field with the 4-bit prefix (2 PTS only, 3 PTS followed
 * by DTS, 1 DTS). */
static inline void ts_put_timestamp(uint8_t *p, unsigned prefix, uint64_t t)
{
	p[0] = (uint8_t)(prefix << 4 | ((t >> 29) & 0x0e) | 1);
	p[1] = (uint8_t)(t >> 22);
	p[2] = (uint8_t)(((t >> 14) & 0xfe) | 1);
	p[3] = (uint8_t)(t >> 7);
	p[4] = (uint8_t)(((t << 1) & 0xfe) | 1);
}

static inline uint64_t ts_get_timestamp(const uint8_t *p)
{
	return (uint64_t)(p[0] & 0x0e) << 29 | (uint64_t)p[1] << 22 |
	       (uint64_t)(p[2] & 0xfe) << 14 | (uint64_t)p[3] << 7 | p[4] >> 1;
}

/* ---- demuxer internals shared by ts_demux.c (packets, PSI) and ts_pes.c
 * (elementary stream parsing) ---- */

/* One elementary stream of the program. */
struct ts_es {
	uint16_t pid;
	uint8_t stream_type;
	enum codec codec; /* from the PMT; trk.codec stays NONE until the
			   * config is known (video: SPS/PPS seen) */
	unsigned idx;     /* track index given to the callbacks */
	struct track trk; /* what on_track reports */
	bool dirty;       /* trk changed since the last on_track */
	int cc;           /* last continuity counter, -1 unknown */
	/* PES being assembled (ts_demux.c) */
	struct bytes pes;
	bool in_pes;
	bool damaged;
	size_t pes_total; /* expected bytes from PES_packet_length, 0 = unbounded */
	/* elementary stream state (ts_pes.c) */
	struct bytes carry;     /* audio: start of a frame split across PES */
	int64_t clk_base_us;    /* timestamp of the clock base (video: last DTS) */
	uint64_t clk_samples;   /* audio samples since the base */
	unsigned clk_rate;      /* Hz of clk_samples */
	struct bytes ps[3];     /* video: last VPS/SPS/PPS seen, as Annex B */
	uint8_t opus_code;      /* channel_config_code from the PMT */
	bool latm_ready;        /* LATM: a StreamMuxConfig was understood */
	uint8_t latm_subframes; /* numSubFrames of that config */
	unsigned latm_samples;  /* samples per AU (1024 or 960) */
};

struct ts_demux;

/* Emits f (taking its reference) for es, announcing the track first when
 * it changed, and counts damaged frames. Returns the callbacks' result. */
int ts_demux_emit(struct ts_demux *d, struct ts_es *es, struct frame *f);

/* Sets es up for a PMT entry (stream type and its ES descriptors): a new
 * codec resets the parsing state; the same codec only takes descriptor
 * changes (language, Opus channels). False when the type is not
 * supported (es is left cleared then). */
bool ts_pes_setup(struct ts_es *es, uint8_t stream_type, const uint8_t *desc, size_t desc_len);
/* Parses the ES bytes of one complete PES packet into frames. has_ts is
 * false when the PES had no PTS; dts_us/pts_us are extended timestamps. */
int ts_pes_payload(struct ts_demux *d, struct ts_es *es, const uint8_t *p, size_t len, bool has_ts,
		   int64_t dts_us, int64_t pts_us, bool damaged);
/* Frees the parsing state and track of es (not es itself). */
void ts_pes_clear(struct ts_es *es);

#endif
