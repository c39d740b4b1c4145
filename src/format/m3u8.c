/* HLS playlist writers: RFC 8216 plus the Low-Latency HLS tags of its
 * second edition (draft-pantos-hls-rfc8216bis): EXT-X-PART, -PART-INF,
 * -SERVER-CONTROL, -PRELOAD-HINT, -RENDITION-REPORT, -SKIP.
 *
 * Number formats (chosen once, pinned by the golden tests):
 *  - every decimal duration (EXTINF, PART DURATION, PART-TARGET, the
 *    SERVER-CONTROL hold backs) has exactly 3 decimals, rounded to the
 *    nearest millisecond: 1899999 us -> "1.900";
 *  - EXT-X-TARGETDURATION is an integer: the larger of ceil(target_us) and
 *    every listed segment's EXTINF rounded to the nearest second (the RFC's
 *    MUST), computed from the millisecond value actually written;
 *  - EXT-X-PROGRAM-DATE-TIME is "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC); a segment
 *    with pdt_ms <= 0 gets none (no wall clock known).
 *
 * Quoted strings may not hold '"', CR or LF and URI lines no CR or LF (the
 * format has no escaping), so such input is refused with -EINVAL. */
#include "format/m3u8.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#define US_PER_MS 1000
#define MS_PER_S  1000

/* Duration (us, >= 0) rounded to whole milliseconds. */
static int64_t us_to_ms(int64_t us)
{
	return (us + US_PER_MS / 2) / US_PER_MS;
}

/* Appends "s.mmm" for a non-negative duration in us. */
static int put_dur(struct bytes *out, int64_t us)
{
	int64_t ms = us_to_ms(us);
	return bytes_printf(out, "%" PRId64 ".%03d", ms / MS_PER_S, (int)(ms % MS_PER_S));
}

/* 1 when s can be written inside a quoted-string (RFC 8216 4.2). */
static bool quotable(const char *s)
{
	return s && !strpbrk(s, "\"\r\n");
}

/* 1 when s can be written as a URI line. */
static bool line_ok(const char *s)
{
	return s && *s && !strpbrk(s, "\r\n");
}

/* Appends "2026-11-28T23:10:00.123Z" for a unix time in ms. */
static int put_pdt(struct bytes *out, int64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / MS_PER_S);
	struct tm tm;
	if (!gmtime_r(&secs, &tm))
		return -EINVAL;
	return bytes_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\n",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			    tm.tm_sec, (int)(unix_ms % MS_PER_S));
}

/* Undoes a partial write so that a failed call leaves out as it was. */
static void rollback(struct bytes *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = 0;
}

static bool low_latency(const struct m3u8_media *m)
{
	return m->part_target_us > 0;
}

static int check_parts(const struct m3u8_media *m, const struct m3u8_segment *s)
{
	if (!s->nparts)
		return 0;
	if (!low_latency(m) || !s->parts)
		return -EINVAL;
	for (unsigned i = 0; i < s->nparts; i++)
		if (s->parts[i].dur_us < 0 || !quotable(s->parts[i].uri))
			return -EINVAL;
	return 0;
}

/* One segment's consistency: its MSN, its strings, and that only the last
 * listed (not skipped) segment of a live LL playlist may be in progress. */
static int check_segment(const struct m3u8_media *m, unsigned i)
{
	const struct m3u8_segment *s = &m->segs[i];
	if (s->msn != m->first_msn + i || s->dur_us < 0)
		return -EINVAL;
	if (s->map_uri && !quotable(s->map_uri))
		return -EINVAL;
	if (!s->uri) {
		bool last = i + 1 == m->nsegs;
		if (!last || i < m->skip_segments || m->ended || !s->nparts)
			return -EINVAL;
	} else if (!line_ok(s->uri)) {
		return -EINVAL;
	}
	return check_parts(m, s);
}

static int check_media(const struct m3u8_media *m)
{
	if (m->target_us <= 0 || (m->nsegs && !m->segs) || m->skip_segments > m->nsegs)
		return -EINVAL;
	if (m->hold_back_us < 0 || m->can_skip_until_us < 0 || m->part_target_us < 0)
		return -EINVAL;
	/* A delta update is only allowed once CAN-SKIP-UNTIL was advertised. */
	if (m->skip_segments && !m->can_skip_until_us)
		return -EINVAL;
	/* PART-HOLD-BACK is required with PART-INF and MUST be >= 2 targets. */
	if (low_latency(m) && m->part_hold_back_us < 2 * m->part_target_us)
		return -EINVAL;
	if (m->preload_hint_uri && (!low_latency(m) || !quotable(m->preload_hint_uri)))
		return -EINVAL;
	if (m->nreports && !m->reports)
		return -EINVAL;
	for (unsigned i = 0; i < m->nreports; i++)
		if (!quotable(m->reports[i].uri) || m->reports[i].last_part < -1)
			return -EINVAL;
	for (unsigned i = 0; i < m->nsegs; i++) {
		int rc = check_segment(m, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* EXT-X-TARGETDURATION in seconds (see the file comment). */
static int64_t target_secs(const struct m3u8_media *m)
{
	int64_t t = (m->target_us + 999999) / 1000000;
	for (unsigned i = 0; i < m->nsegs; i++) {
		if (!m->segs[i].uri)
			continue;
		int64_t rounded = (us_to_ms(m->segs[i].dur_us) + MS_PER_S / 2) / MS_PER_S;
		if (rounded > t)
			t = rounded;
	}
	return t;
}

static int put_server_control(const struct m3u8_media *m, struct bytes *out)
{
	bool ll = low_latency(m);
	if (!m->can_block_reload && !ll && !m->can_skip_until_us && !m->hold_back_us)
		return 0;
	const char *sep = "";
	int rc = bytes_printf(out, "#EXT-X-SERVER-CONTROL:");
	if (!rc && m->can_block_reload) {
		rc = bytes_printf(out, "CAN-BLOCK-RELOAD=YES");
		sep = ",";
	}
	if (!rc && ll) {
		rc = bytes_printf(out, "%sPART-HOLD-BACK=", sep);
		rc = rc ? rc : put_dur(out, m->part_hold_back_us);
		sep = ",";
	}
	if (!rc && m->can_skip_until_us) {
		rc = bytes_printf(out, "%sCAN-SKIP-UNTIL=", sep);
		rc = rc ? rc : put_dur(out, m->can_skip_until_us);
		sep = ",";
	}
	if (!rc && m->hold_back_us) {
		rc = bytes_printf(out, "%sHOLD-BACK=", sep);
		rc = rc ? rc : put_dur(out, m->hold_back_us);
	}
	return rc ? rc : bytes_printf(out, "\n");
}

static int put_header(const struct m3u8_media *m, struct bytes *out)
{
	int rc =
	    bytes_printf(out, "#EXTM3U\n#EXT-X-VERSION:%u\n#EXT-X-TARGETDURATION:%" PRId64 "\n",
			 m->version, target_secs(m));
	rc = rc ? rc : put_server_control(m, out);
	if (!rc && low_latency(m)) {
		rc = bytes_printf(out, "#EXT-X-PART-INF:PART-TARGET=");
		rc = rc ? rc : put_dur(out, m->part_target_us);
		rc = rc ? rc : bytes_printf(out, "\n");
	}
	rc = rc ? rc : bytes_printf(out, "#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n", m->first_msn);
	if (!rc && m->disc_seq)
		rc = bytes_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRIu64 "\n", m->disc_seq);
	if (!rc && m->independent_segments)
		rc = bytes_printf(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
	if (!rc && m->skip_segments)
		rc = bytes_printf(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%u\n", m->skip_segments);
	return rc;
}

static int put_parts(const struct m3u8_segment *s, struct bytes *out)
{
	int rc = 0;
	for (unsigned i = 0; i < s->nparts && !rc; i++) {
		const struct m3u8_part *p = &s->parts[i];
		rc = bytes_printf(out, "#EXT-X-PART:DURATION=");
		rc = rc ? rc : put_dur(out, p->dur_us);
		rc = rc ? rc
			: bytes_printf(out, ",URI=\"%s\"%s\n", p->uri,
				       p->independent ? ",INDEPENDENT=YES" : "");
	}
	return rc;
}

/* One listed segment. map is the init section in force for it (or NULL);
 * *last_map is the one last written, updated here. */
static int put_segment(const struct m3u8_segment *s, const char *map, const char **last_map,
		       struct bytes *out)
{
	int rc = 0;
	if (s->discontinuity)
		rc = bytes_printf(out, "#EXT-X-DISCONTINUITY\n");
	if (!rc && map && (!*last_map || strcmp(map, *last_map))) {
		rc = bytes_printf(out, "#EXT-X-MAP:URI=\"%s\"\n", map);
		*last_map = map;
	}
	if (!rc && s->pdt_ms > 0)
		rc = put_pdt(out, s->pdt_ms);
	rc = rc ? rc : put_parts(s, out);
	if (rc || !s->uri)
		return rc;
	rc = bytes_printf(out, "#EXTINF:");
	rc = rc ? rc : put_dur(out, s->dur_us);
	return rc ? rc : bytes_printf(out, ",\n%s\n", s->uri);
}

static int put_trailer(const struct m3u8_media *m, struct bytes *out)
{
	int rc = 0;
	if (m->preload_hint_uri)
		rc = bytes_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%s\"\n",
				  m->preload_hint_uri);
	for (unsigned i = 0; i < m->nreports && !rc; i++) {
		const struct m3u8_report *r = &m->reports[i];
		rc = bytes_printf(out, "#EXT-X-RENDITION-REPORT:URI=\"%s\",LAST-MSN=%" PRIu64,
				  r->uri, r->last_msn);
		if (!rc && r->last_part >= 0)
			rc = bytes_printf(out, ",LAST-PART=%d", r->last_part);
		rc = rc ? rc : bytes_printf(out, "\n");
	}
	if (!rc && m->ended)
		rc = bytes_printf(out, "#EXT-X-ENDLIST\n");
	return rc;
}

/* The EXT-X-MAP in force applies across skipped segments too, so the first
 * listed segment carries it even when the caller set map_uri only where the
 * init section changed; repeats of the same URI are not written again. */
int m3u8_write_media(const struct m3u8_media *m, struct bytes *out)
{
	if (!m || !out)
		return -EINVAL;
	int rc = check_media(m);
	if (rc)
		return rc;
	size_t start = out->len;
	rc = put_header(m, out);
	const char *map = NULL, *last_map = NULL;
	for (unsigned i = 0; i < m->nsegs && !rc; i++) {
		const struct m3u8_segment *s = &m->segs[i];
		if (s->map_uri)
			map = s->map_uri;
		if (i >= m->skip_segments)
			rc = put_segment(s, map, &last_map, out);
	}
	rc = rc ? rc : put_trailer(m, out);
	if (rc)
		rollback(out, start);
	return rc;
}

static const struct m3u8_alt_audio *find_group(const struct m3u8_alt_audio *a, unsigned n,
					       const char *group)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(a[i].group, group))
			return &a[i];
	return NULL;
}

static int check_master(const struct m3u8_alt_audio *a, unsigned na, const struct m3u8_variant *v,
			unsigned nv)
{
	if ((na && !a) || (nv && !v))
		return -EINVAL;
	for (unsigned i = 0; i < na; i++) {
		if (!quotable(a[i].group) || !quotable(a[i].name) || !*a[i].group)
			return -EINVAL;
		if ((a[i].lang && !quotable(a[i].lang)) || (a[i].uri && !quotable(a[i].uri)))
			return -EINVAL;
	}
	for (unsigned i = 0; i < nv; i++) {
		if (!v[i].bandwidth_bps || !line_ok(v[i].uri) || (v[i].width && !v[i].height))
			return -EINVAL;
		if (v[i].codecs && !quotable(v[i].codecs))
			return -EINVAL;
		if (v[i].audio_group && !find_group(a, na, v[i].audio_group))
			return -EINVAL; /* AUDIO must name an EXT-X-MEDIA GROUP-ID */
	}
	return 0;
}

static int put_alt_audio(const struct m3u8_alt_audio *a, struct bytes *out)
{
	int rc = bytes_printf(out, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"%s\",NAME=\"%s\"", a->group,
			      a->name);
	if (!rc && a->lang)
		rc = bytes_printf(out, ",LANGUAGE=\"%s\"", a->lang);
	/* DEFAULT=YES requires AUTOSELECT=YES; every rendition is selectable. */
	rc =
	    rc ? rc : bytes_printf(out, ",DEFAULT=%s,AUTOSELECT=YES", a->is_default ? "YES" : "NO");
	if (!rc && a->channels)
		rc = bytes_printf(out, ",CHANNELS=\"%u\"", a->channels);
	if (!rc && a->uri)
		rc = bytes_printf(out, ",URI=\"%s\"", a->uri);
	return rc ? rc : bytes_printf(out, "\n");
}

static int put_variant(const struct m3u8_variant *v, struct bytes *out)
{
	int rc = bytes_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRIu32, v->bandwidth_bps);
	if (!rc && v->avg_bandwidth_bps)
		rc = bytes_printf(out, ",AVERAGE-BANDWIDTH=%" PRIu32, v->avg_bandwidth_bps);
	if (!rc && v->codecs)
		rc = bytes_printf(out, ",CODECS=\"%s\"", v->codecs);
	if (!rc && v->width)
		rc = bytes_printf(out, ",RESOLUTION=%ux%u", v->width, v->height);
	if (!rc && v->fps_milli)
		rc = bytes_printf(out, ",FRAME-RATE=%" PRIu32 ".%03" PRIu32, v->fps_milli / 1000,
				  v->fps_milli % 1000);
	if (!rc && v->audio_group)
		rc = bytes_printf(out, ",AUDIO=\"%s\"", v->audio_group);
	return rc ? rc : bytes_printf(out, "\n%s\n", v->uri);
}

int m3u8_write_master(unsigned version, const struct m3u8_alt_audio *audio, unsigned naudio,
		      const struct m3u8_variant *v, unsigned nvariants, struct bytes *out)
{
	if (!out)
		return -EINVAL;
	int rc = check_master(audio, naudio, v, nvariants);
	if (rc)
		return rc;
	size_t start = out->len;
	rc =
	    bytes_printf(out, "#EXTM3U\n#EXT-X-VERSION:%u\n#EXT-X-INDEPENDENT-SEGMENTS\n", version);
	for (unsigned i = 0; i < naudio && !rc; i++)
		rc = put_alt_audio(&audio[i], out);
	for (unsigned i = 0; i < nvariants && !rc; i++)
		rc = put_variant(&v[i], out);
	if (rc)
		rollback(out, start);
	return rc;
}
