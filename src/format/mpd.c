/* MPEG-DASH MPD writer (ISO 23009-1, DASH-IF IOP live profile): one Period,
 * one AdaptationSet per Representation, SegmentTemplate + SegmentTimeline.
 *
 * Formats (pinned by the golden tests):
 *  - xs:duration is seconds only, with the millisecond fraction and its
 *    trailing zeros dropped: 50000 ms -> "PT50S", 500 -> "PT0.5S",
 *    1900 -> "PT1.9S", 1234 -> "PT1.234S", 3600000 -> "PT3600S";
 *  - xs:dateTime is UTC with 3 decimals: "2026-11-28T23:10:00.123Z";
 *  - frameRate (a FrameRateType: integer or ratio, never a decimal) is
 *    "25" for whole rates, "30000/1001" for the NTSC family (fps_milli
 *    29970, 59940, 23976, ...) and the reduced fps_milli/1000 otherwise;
 *  - S@t is written on the first entry and after a gap; S@r when > 0.
 * Two-space indentation; attribute values are XML-escaped and control
 * characters (not representable in XML 1.0) are refused with -EINVAL. */
#include "format/mpd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_S 1000

static const char xml_head[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
static const char mpd_ns[] = "urn:mpeg:dash:schema:mpd:2011";
static const char profile_live[] = "urn:mpeg:dash:profile:isoff-live:2011";
static const char scheme_channels[] = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
static const char scheme_xsdate[] = "urn:mpeg:dash:utc:http-xsdate:2014";

static void rollback(struct bytes *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = 0;
}

/* 1 when s is non-NULL and holds no control characters. */
static bool text_ok(const char *s)
{
	if (!s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Appends ` name="value"` with value XML-escaped. */
static int put_attr(struct bytes *out, const char *name, const char *value)
{
	int rc = bytes_printf(out, " %s=\"", name);
	for (const char *p = value; *p && !rc; p++) {
		switch (*p) {
		case '&':
			rc = bytes_printf(out, "&amp;");
			break;
		case '<':
			rc = bytes_printf(out, "&lt;");
			break;
		case '>':
			rc = bytes_printf(out, "&gt;");
			break;
		case '"':
			rc = bytes_printf(out, "&quot;");
			break;
		case '\'':
			rc = bytes_printf(out, "&apos;");
			break;
		default:
			rc = bytes_append(out, p, 1);
		}
	}
	return rc ? rc : bytes_printf(out, "\"");
}

/* Appends ` name="PT...S"` for a non-negative duration in ms. */
static int put_duration(struct bytes *out, const char *name, int64_t ms)
{
	int64_t frac = ms % MS_PER_S;
	if (!frac)
		return bytes_printf(out, " %s=\"PT%" PRId64 "S\"", name, ms / MS_PER_S);
	char digits[8];
	snprintf(digits, sizeof(digits), "%03d", (int)frac);
	for (int i = 2; i > 0 && digits[i] == '0'; i--)
		digits[i] = 0;
	return bytes_printf(out, " %s=\"PT%" PRId64 ".%sS\"", name, ms / MS_PER_S, digits);
}

/* Appends ` name="2026-11-28T23:10:00.123Z"` for a unix time in ms >= 0. */
static int put_datetime(struct bytes *out, const char *name, int64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / MS_PER_S);
	struct tm tm;
	if (!gmtime_r(&secs, &tm))
		return -EINVAL;
	return bytes_printf(out, " %s=\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", name,
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			    tm.tm_sec, (int)(unix_ms % MS_PER_S));
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Appends ` frameRate="..."` (see the file comment). */
static int put_frame_rate(struct bytes *out, uint32_t fps_milli)
{
	if (fps_milli % 1000 == 0)
		return bytes_printf(out, " frameRate=\"%" PRIu32 "\"", fps_milli / 1000);
	uint64_t ntsc = ((uint64_t)fps_milli * 1001 + 500) / 1000;
	if (ntsc % 1000 == 0)
		return bytes_printf(out, " frameRate=\"%" PRIu64 "/1001\"", ntsc);
	uint32_t g = gcd32(fps_milli, 1000);
	return bytes_printf(out, " frameRate=\"%" PRIu32 "/%" PRIu32 "\"", fps_milli / g, 1000 / g);
}

static uint64_t entry_end(const struct mpd_timeline_entry *e)
{
	return e->t + e->d * ((uint64_t)e->r + 1);
}

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* xs:language: 1-8 letters, then "-" and 1-8 alphanumerics, repeated. */
static bool language_ok(const char *s)
{
	size_t run = 0;
	bool first = true;
	for (; *s; s++) {
		if (*s == '-') {
			if (!run)
				return false;
			run = 0;
			first = false;
		} else if (ascii_alpha(*s) || (!first && *s >= '0' && *s <= '9')) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
	return run > 0;
}

static int check_timeline(const struct mpd_representation *r)
{
	if (r->ntimeline && !r->timeline)
		return -EINVAL;
	for (unsigned i = 0; i < r->ntimeline; i++) {
		if (!r->timeline[i].d)
			return -EINVAL;
		/* segments may leave gaps but never overlap */
		if (i && r->timeline[i].t < entry_end(&r->timeline[i - 1]))
			return -EINVAL;
	}
	return 0;
}

static int check_rep(const struct mpd_representation *r)
{
	/* Representation@id is a StringNoWhitespaceType */
	if (!text_ok(r->id) || !*r->id || strchr(r->id, ' '))
		return -EINVAL;
	if (!text_ok(r->mime) || !strchr(r->mime, '/'))
		return -EINVAL;
	if (!text_ok(r->media_template) || !r->timescale || r->start_number > UINT32_MAX)
		return -EINVAL; /* startNumber is an xs:unsignedInt */
	if ((r->codecs && !text_ok(r->codecs)) || (r->lang && *r->lang && !language_ok(r->lang)))
		return -EINVAL;
	if ((r->init_template && !text_ok(r->init_template)) || r->presentation_time_offset < 0)
		return -EINVAL;
	return check_timeline(r);
}

static int check_mpd(const struct mpd *m)
{
	if (m->availability_start_ms < 0 || m->publish_time_ms < 0 || m->min_update_period_ms < 0)
		return -EINVAL;
	if (m->time_shift_depth_ms < 0 || m->min_buffer_ms < 0 || m->suggested_delay_ms < 0)
		return -EINVAL;
	if (m->max_segment_ms < 0 || m->duration_ms < 0)
		return -EINVAL;
	if ((m->nreps && !m->reps) || (m->utc_timing_uri && !text_ok(m->utc_timing_uri)))
		return -EINVAL;
	for (unsigned i = 0; i < m->nreps; i++) {
		int rc = check_rep(&m->reps[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* <MPD ...> with the attributes that apply to the presentation type. */
static int put_mpd_open(const struct mpd *m, struct bytes *out)
{
	int rc = bytes_printf(out, "%s<MPD", xml_head);
	rc = rc ? rc : put_attr(out, "xmlns", mpd_ns);
	rc = rc ? rc : put_attr(out, "profiles", profile_live);
	rc = rc ? rc : put_attr(out, "type", m->dynamic ? "dynamic" : "static");
	if (m->dynamic) {
		rc = rc ? rc : put_datetime(out, "availabilityStartTime", m->availability_start_ms);
		rc = rc ? rc : put_datetime(out, "publishTime", m->publish_time_ms);
		if (!rc && m->min_update_period_ms)
			rc = put_duration(out, "minimumUpdatePeriod", m->min_update_period_ms);
		if (!rc && m->time_shift_depth_ms)
			rc = put_duration(out, "timeShiftBufferDepth", m->time_shift_depth_ms);
	} else {
		if (!rc && m->publish_time_ms)
			rc = put_datetime(out, "publishTime", m->publish_time_ms);
		rc = rc ? rc : put_duration(out, "mediaPresentationDuration", m->duration_ms);
	}
	rc = rc ? rc : put_duration(out, "minBufferTime", m->min_buffer_ms);
	if (!rc && m->dynamic && m->suggested_delay_ms)
		rc = put_duration(out, "suggestedPresentationDelay", m->suggested_delay_ms);
	if (!rc && m->max_segment_ms)
		rc = put_duration(out, "maxSegmentDuration", m->max_segment_ms);
	return rc ? rc : bytes_printf(out, ">\n");
}

/* AdaptationSet@contentType: the MIME top-level type, when the schema's
 * RFC6838ContentTypeType allows it. */
static const char *content_type(const char *mime)
{
	static const char *const types[] = {"video",       "audio", "text",
					    "application", "image", "font"};
	size_t n = (size_t)(strchr(mime, '/') - mime);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i]) == n && !strncmp(mime, types[i], n))
			return types[i];
	return NULL;
}

static int put_adaptation_open(const struct mpd_representation *r, unsigned idx, struct bytes *out)
{
	const char *type = content_type(r->mime);
	int rc = bytes_printf(out, "    <AdaptationSet id=\"%u\"", idx);
	if (!rc && type)
		rc = put_attr(out, "contentType", type);
	rc = rc ? rc : put_attr(out, "mimeType", r->mime);
	rc = rc ? rc : bytes_printf(out, " segmentAlignment=\"true\" startWithSAP=\"1\"");
	if (!rc && r->lang && *r->lang)
		rc = put_attr(out, "lang", r->lang);
	return rc ? rc : bytes_printf(out, ">\n");
}

static int put_representation_open(const struct mpd_representation *r, struct bytes *out)
{
	int rc = bytes_printf(out, "      <Representation");
	rc = rc ? rc : put_attr(out, "id", r->id);
	if (!rc && r->codecs)
		rc = put_attr(out, "codecs", r->codecs);
	rc = rc ? rc : bytes_printf(out, " bandwidth=\"%" PRIu32 "\"", r->bandwidth_bps);
	if (!rc && r->width && r->height)
		rc = bytes_printf(out, " width=\"%u\" height=\"%u\"", r->width, r->height);
	if (!rc && r->fps_milli)
		rc = put_frame_rate(out, r->fps_milli);
	if (!rc && r->sample_rate)
		rc = bytes_printf(out, " audioSamplingRate=\"%" PRIu32 "\"", r->sample_rate);
	rc = rc ? rc : bytes_printf(out, ">\n");
	if (!rc && r->channels) {
		rc = bytes_printf(out, "        <AudioChannelConfiguration");
		rc = rc ? rc : put_attr(out, "schemeIdUri", scheme_channels);
		rc = rc ? rc : bytes_printf(out, " value=\"%u\"/>\n", r->channels);
	}
	return rc;
}

static int put_timeline(const struct mpd_representation *r, struct bytes *out)
{
	int rc = bytes_printf(out, "          <SegmentTimeline>\n");
	for (unsigned i = 0; i < r->ntimeline && !rc; i++) {
		const struct mpd_timeline_entry *e = &r->timeline[i];
		rc = bytes_printf(out, "            <S");
		if (!rc && (!i || e->t != entry_end(e - 1)))
			rc = bytes_printf(out, " t=\"%" PRIu64 "\"", e->t);
		rc = rc ? rc : bytes_printf(out, " d=\"%" PRIu64 "\"", e->d);
		if (!rc && e->r)
			rc = bytes_printf(out, " r=\"%" PRIu32 "\"", e->r);
		rc = rc ? rc : bytes_printf(out, "/>\n");
	}
	return rc ? rc : bytes_printf(out, "          </SegmentTimeline>\n");
}

/* SegmentTemplate; without timeline entries (nothing published yet) it is
 * written empty, and a player retries after minimumUpdatePeriod. */
static int put_template(const struct mpd_representation *r, struct bytes *out)
{
	int rc =
	    bytes_printf(out, "        <SegmentTemplate timescale=\"%" PRIu32 "\"", r->timescale);
	if (!rc && r->presentation_time_offset)
		rc = bytes_printf(out, " presentationTimeOffset=\"%" PRId64 "\"",
				  r->presentation_time_offset);
	rc = rc ? rc : bytes_printf(out, " startNumber=\"%" PRIu64 "\"", r->start_number);
	if (!rc && r->init_template)
		rc = put_attr(out, "initialization", r->init_template);
	rc = rc ? rc : put_attr(out, "media", r->media_template);
	if (rc || !r->ntimeline)
		return rc ? rc : bytes_printf(out, "/>\n");
	rc = bytes_printf(out, ">\n");
	rc = rc ? rc : put_timeline(r, out);
	return rc ? rc : bytes_printf(out, "        </SegmentTemplate>\n");
}

static int put_rep(const struct mpd_representation *r, unsigned idx, struct bytes *out)
{
	int rc = put_adaptation_open(r, idx, out);
	rc = rc ? rc : put_representation_open(r, out);
	rc = rc ? rc : put_template(r, out);
	return rc ? rc : bytes_printf(out, "      </Representation>\n    </AdaptationSet>\n");
}

int mpd_write(const struct mpd *m, struct bytes *out)
{
	if (!m || !out)
		return -EINVAL;
	int rc = check_mpd(m);
	if (rc)
		return rc;
	size_t start = out->len;
	rc = put_mpd_open(m, out);
	rc = rc ? rc : bytes_printf(out, "  <Period id=\"0\" start=\"PT0S\">\n");
	for (unsigned i = 0; i < m->nreps && !rc; i++)
		rc = put_rep(&m->reps[i], i, out);
	rc = rc ? rc : bytes_printf(out, "  </Period>\n");
	if (!rc && m->utc_timing_uri) {
		rc = bytes_printf(out, "  <UTCTiming");
		rc = rc ? rc : put_attr(out, "schemeIdUri", scheme_xsdate);
		rc = rc ? rc : put_attr(out, "value", m->utc_timing_uri);
		rc = rc ? rc : bytes_printf(out, "/>\n");
	}
	rc = rc ? rc : bytes_printf(out, "</MPD>\n");
	if (rc)
		rollback(out, start);
	return rc;
}

int mpd_compact_timeline(const uint64_t *starts, const uint64_t *durs, unsigned n,
			 struct mpd_timeline_entry *out, unsigned cap)
{
	if ((n && (!starts || !durs)) || (cap && !out))
		return -EINVAL;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mpd_timeline_entry *last = k ? &out[k - 1] : NULL;
		/* same duration and no gap: one more repeat of the last entry */
		if (last && last->d == durs[i] && entry_end(last) == starts[i] &&
		    last->r < UINT32_MAX) {
			last->r++;
			continue;
		}
		if (k == cap)
			return -ENOSPC;
		out[k++] = (struct mpd_timeline_entry){.t = starts[i], .d = durs[i], .r = 0};
	}
	return (int)k;
}
