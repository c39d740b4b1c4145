"""DASH output (/cmaf/<s>/index.mpd), end to end: a dynamic MPD with a
SegmentTimeline over the CMAF segments, checked the way a DASH player
relies on it: XML, timing attributes, timeline arithmetic, the timeline
agreeing with the media (tfdt / sample durations), segment URLs from the
template, decodable init+segment, refreshes that only move forward with a
fixed availabilityStartTime, latency, and ffprobe on the MPD itself.

One server and one looping publisher serve the whole module."""

import concurrent.futures
import datetime
import json
import time

import pytest

from conftest import wait_live
from helpers import hls, media, mp4

W, H = (int(x) for x in media.CLIPS["720p"][0].split("x"))
RATE = media.CLIPS["720p"][1]
STREAM = "live+dash"


@pytest.fixture(scope="module")
def live(weir_bin, clips, tmp_path_factory):
    lv = hls.Live(weir_bin, clips["720p"], str(tmp_path_factory.mktemp("dash")), stream=STREAM)
    try:
        wait_live(lv.server, STREAM, lv.pub)
    except BaseException:
        lv.close()
        raise
    yield lv
    problems = lv.close()
    if problems:
        print("---- %s (last lines) ----\n%s" % (lv.server.log_path, lv.server.log_tail(80)))
        pytest.fail("\n".join(problems), pytrace=False)


def mpd_url(live):
    return live.url("/cmaf/%s/index.mpd" % STREAM)


class Mpd:
    def __init__(self, live):
        self.url = mpd_url(live)
        self.resp = hls.get_ok(self.url)
        self.fetched_at = time.time()
        self.text = self.resp.text
        self.root = hls.parse_mpd(self.text)
        self.reps = hls.mpd_reps(self.root)
        self.a = self.root.attrib

    def rep(self, kind):
        r = [x for x in self.reps if (x["contentType"] or x["mimeType"] or "").startswith(kind)]
        assert r, "MPD has no %s Representation:\n%s" % (kind, self.text)
        return r[0]

    def ast(self):
        return hls.parse_pdt(self.a["availabilityStartTime"])

    def seg_url(self, rep, number):
        return hls.join(self.url, hls.fill_template(rep["media"], rep["rep"]["id"], number))

    def init_url(self, rep):
        return hls.join(self.url, hls.fill_template(rep["initialization"], rep["rep"]["id"]))


def warm(live, n=3, timeout=30):
    """Waits until every Representation lists >= n segments; returns the Mpd."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = hls.get(mpd_url(live))
        if r.status == 200:
            try:
                m = Mpd(live)
                last = m.text
                if m.reps and all(len(x["timeline"]) >= n for x in m.reps):
                    return m
            except AssertionError as e:
                last = str(e)
        time.sleep(0.3)
    raise AssertionError("MPD did not list %d segments per Representation in %ds; last:\n%s"
                         % (n, timeout, last))


def fetch(url):
    r = hls.get(url)
    assert r.status == 200, "GET %s: HTTP %s (%r)" % (url, r.status, r.body[:100])
    return r


def assert_av(info, what):
    st = media.streams_by_type(info)
    v, a = st.get("video", []), st.get("audio", [])
    assert len(v) == 1 and len(a) == 1, "%s: expected 1 video + 1 audio stream, got %r" % (
        what, [(s.get("codec_type"), s.get("codec_name")) for s in info.get("streams", [])])
    assert v[0].get("codec_name") == "h264" and (v[0].get("width"), v[0].get("height")) == (W, H), \
        "%s: video %r %sx%s" % (what, v[0].get("codec_name"), v[0].get("width"), v[0].get("height"))
    assert a[0].get("codec_name") == "aac" and int(a[0].get("sample_rate", 0)) == RATE, \
        "%s: audio %r %s Hz" % (what, a[0].get("codec_name"), a[0].get("sample_rate"))


# -----------------------------------------------------------------------------


def test_ffprobe_mpd_fresh_stream(live):
    """The first MPD request a stream ever gets: ffprobe must find h264 +
    aac (an MPD whose SegmentTimelines are empty is "Invalid data")."""
    r = media.run([media.FFPROBE, "-v", "error", "-rw_timeout", media.RW_TIMEOUT_US,
                   "-show_streams", "-of", "json", mpd_url(live)], 40)
    if r.returncode != 0:
        now = hls.get(mpd_url(live)).text
        raise AssertionError("first-ever ffprobe of %s failed: %s\nMPD now:\n%s" % (
            mpd_url(live), r.stderr[-800:], now))
    assert_av(json.loads(r.stdout), "first-ever ffprobe of " + mpd_url(live))


def test_ffprobe_mpd(live):
    """ffprobe on the MPD URL (ffmpeg 5.1 reads live SegmentTimeline DASH)."""
    warm(live)
    assert_av(media.probe(mpd_url(live), timeout=40), mpd_url(live))


def test_mpd_structure(live):
    m = warm(live)
    root = m.root
    assert root.tag == "{%s}MPD" % hls.NS["d"], "root element %r" % root.tag
    a = m.a
    assert a.get("type") == "dynamic", "MPD@type %r" % a.get("type")
    assert "availabilityStartTime" in a, "no availabilityStartTime"
    ast = m.ast()
    assert abs(ast - time.time()) < 3600, "availabilityStartTime %s is absurd" % a[
        "availabilityStartTime"]
    for k in ("minimumUpdatePeriod", "timeShiftBufferDepth", "minBufferTime"):
        assert k in a, "MPD lacks @%s" % k
        hls.iso_duration(a[k])
    mup = hls.iso_duration(a["minimumUpdatePeriod"])
    tsb = hls.iso_duration(a["timeShiftBufferDepth"])
    assert 0 < mup <= 10, "minimumUpdatePeriod %s" % a["minimumUpdatePeriod"]
    assert tsb >= 6, "timeShiftBufferDepth %s" % a["timeShiftBufferDepth"]
    if "publishTime" in a:
        assert abs(hls.parse_pdt(a["publishTime"]) - m.fetched_at) < 5, a["publishTime"]
    ct = m.resp.header("content-type") or ""
    assert ct.startswith("application/dash+xml"), "MPD Content-Type %r" % ct
    assert m.resp.header("access-control-allow-origin") == "*", m.resp.headers
    v, au = m.rep("video"), m.rep("audio")
    assert v["rep"].get("codecs", "").startswith("avc1."), v["rep"]
    assert (int(v["rep"].get("width", 0)), int(v["rep"].get("height", 0))) == (W, H), v["rep"]
    assert au["rep"].get("codecs") == "mp4a.40.2", au["rep"]
    assert int(au["rep"].get("audioSamplingRate", 0)) == RATE, au["rep"]
    for rep in (v, au):
        what = "Representation %s" % rep["rep"].get("id")
        assert int(rep["rep"].get("bandwidth", 0)) > 0, what + ": no bandwidth"
        assert "$Number$" in rep["media"], "%s: media template %r" % (what, rep["media"])
        assert rep["initialization"], what + ": no initialization template"
        tl = rep["timeline"]
        assert len(tl) >= 3, what
        for (t0, d0), (t1, _) in zip(tl, tl[1:]):
            assert t1 == t0 + d0, "%s: S t=%d d=%d followed by t=%d (gap/overlap of %d)" % (
                what, t0, d0, t1, t1 - t0 - d0)
        for t, d in tl:
            assert 1.0 <= d / rep["timescale"] <= 4.0, "%s: S d=%d (%.3f s)" % (
                what, d, d / rep["timescale"])
        span = (tl[-1][0] + tl[-1][1] - tl[0][0]) / rep["timescale"]
        assert span <= tsb + 4.0, "%s: the timeline spans %.1f s, timeShiftBufferDepth %.1f" % (
            what, span, tsb)
        assert rep["raw_S"][0].get("t") is not None, what + ": first S has no @t"
    if "maxSegmentDuration" in a:
        longest = max(d / rep["timescale"] for rep in m.reps for _, d in rep["timeline"])
        assert hls.iso_duration(a["maxSegmentDuration"]) >= longest - 0.0005, \
            "maxSegmentDuration %s but a segment lasts %.3f s" % (a["maxSegmentDuration"], longest)
    # both adaptation sets cover about the same time
    def end_s(rep):
        t, d = rep["timeline"][-1]
        return (t + d - rep["pto"]) / rep["timescale"]

    vend, aend = end_s(v), end_s(au)
    assert abs(vend - aend) < 0.5, "video timeline ends at %.3f s, audio at %.3f s" % (vend, aend)
    utc = root.find("d:UTCTiming", hls.NS)
    if utc is not None:
        r = fetch(hls.join(m.url, utc.attrib["value"]))
        assert abs(hls.parse_pdt(r.text) - time.time()) < 2, "UTCTiming says %r" % r.text


def test_timeline_matches_media(live):
    """For every listed segment: the $Number$ URL exists, its tfdt is S@t (minus
    presentationTimeOffset) and its samples last S@d; video segments start
    with a sync sample. The next number is not served as complete yet."""
    m = warm(live)
    problems = []
    for kind in ("video", "audio"):
        rep = m.rep(kind)
        init = fetch(m.init_url(rep)).body
        tracks = mp4.init_tracks(init)
        assert len(tracks) == 1, "%s init: tracks %r" % (kind, tracks)
        mts = list(tracks.values())[0]["timescale"]
        ts = rep["timescale"]
        for i, (t, d) in enumerate(rep["timeline"]):
            n = rep["startNumber"] + i
            url = m.seg_url(rep, n)
            r = hls.get(url)
            if r.status != 200:
                problems.append("%s segment %d (%s): HTTP %s" % (kind, n, url, r.status))
                continue
            fr = mp4.fragments(r.body)
            if not fr or fr[0]["tfdt"] is None:
                problems.append("%s segment %d: no moof/tfdt" % (kind, n))
                continue
            tfdt = fr[0]["tfdt"]
            dur = sum(f["duration"] for f in fr)
            if tfdt * ts != t * mts:
                problems.append("%s segment %d: tfdt %d/%d = %.4f s but S@t=%d/%d = %.4f s" % (
                    kind, n, tfdt, mts, tfdt / mts, t, ts, t / ts))
            if dur * ts != d * mts:
                problems.append("%s segment %d: samples last %d/%d = %.4f s but S@d=%d/%d = %.4f s"
                                % (kind, n, dur, mts, dur / mts, d, ts, d / ts))
            if kind == "video" and not mp4.is_sync_flags(fr[0]["first_flags"]):
                problems.append("video segment %d does not start with a sync sample" % n)
    assert not problems, "\n".join(problems)


def test_init_plus_last_segment_decode(live, tmp_path):
    """init + the newest listed segment of each Representation: ffprobe sees
    h264 1280x720 / aac 44100 and ffmpeg decodes it without errors."""
    m = warm(live)
    for kind in ("video", "audio"):
        rep = m.rep(kind)
        n = rep["startNumber"] + len(rep["timeline"]) - 1
        init = fetch(m.init_url(rep))
        seg = fetch(m.seg_url(rep, n))
        for res in (init, seg):
            cc = res.header("cache-control") or ""
            assert "max-age=3600" in cc and "immutable" in cc, "%s: Cache-Control %r" % (
                res.url, cc)
        path = str(tmp_path / ("%s-%d.mp4" % (kind, n)))
        with open(path, "wb") as f:
            f.write(init.body + seg.body)
        info = media.probe(path)
        st = media.streams_by_type(info)
        if kind == "video":
            v = st.get("video") or [{}]
            assert v[0].get("codec_name") == "h264" and (v[0].get("width"), v[0].get("height")) \
                == (W, H), "init+segment %d: %r" % (n, info.get("streams"))
            fr = hls.first_video_frame(path)
            assert int(fr.get("key_frame", 0)) == 1, "segment %d starts with %r" % (n, fr)
        else:
            a = st.get("audio") or [{}]
            assert a[0].get("codec_name") == "aac" and int(a[0].get("sample_rate", 0)) == RATE, \
                "init+segment %d: %r" % (n, info.get("streams"))
        err = hls.decode_errors(path)
        assert not err, "%s init+segment %d does not decode cleanly: %s" % (kind, n, err[-1500:])
        pk = [p for p in hls.probe_packets(path) if p["pts"] is not None]
        assert pk, "%s init+segment %d: no packets" % (kind, n)
        last = max(pk, key=lambda p: p["pts"])
        dur = last["pts"] + (last["dur"] or 0) - min(p["pts"] for p in pk)
        want = rep["timeline"][-1][1] / rep["timescale"]
        assert abs(dur - want) < 0.05, "%s segment %d: %.3f s of media, S@d says %.3f" % (
            kind, n, dur, want)


def test_mpd_refreshes(live):
    """After minimumUpdatePeriod + a bit, the MPD has moved forward: new S
    entries, numbers still naming the same times, the same
    availabilityStartTime (the anchor of every segment's availability)."""
    m1 = warm(live)
    mup = hls.iso_duration(m1.a["minimumUpdatePeriod"])
    time.sleep(max(mup, 2.0) + 2.5)
    m2 = Mpd(live)
    assert m2.a["availabilityStartTime"] == m1.a["availabilityStartTime"] or \
        abs(m2.ast() - m1.ast()) < 0.002, \
        "availabilityStartTime moved from %s to %s between refreshes" % (
            m1.a["availabilityStartTime"], m2.a["availabilityStartTime"])
    if "publishTime" in m1.a and "publishTime" in m2.a:
        assert hls.parse_pdt(m2.a["publishTime"]) > hls.parse_pdt(m1.a["publishTime"])
    for kind in ("video", "audio"):
        r1, r2 = m1.rep(kind), m2.rep(kind)
        e1 = r1["timeline"][-1][0] + r1["timeline"][-1][1]
        e2 = r2["timeline"][-1][0] + r2["timeline"][-1][1]
        assert e2 > e1, "%s: the timeline did not advance in %.1f s (ends at %d both times)" % (
            kind, m2.fetched_at - m1.fetched_at, e1)
        n1 = {r1["startNumber"] + i: t for i, (t, _) in enumerate(r1["timeline"])}
        n2 = {r2["startNumber"] + i: t for i, (t, _) in enumerate(r2["timeline"])}
        assert max(n2) > max(n1), "%s: no new segment numbers (%d..%d)" % (kind, min(n2), max(n2))
        assert r2["startNumber"] >= r1["startNumber"]
        both = set(n1) & set(n2)
        assert both, "%s: no segment in common between refreshes %r / %r" % (kind, n1, n2)
        for n in both:
            assert n1[n] == n2[n], "%s: segment %d had t=%d, now t=%d" % (kind, n, n1[n], n2[n])


def test_latency(live):
    """availabilityStartTime + end of the newest segment is within 5 s of
    now, and not in the future (the segment would not be available yet)."""
    m = warm(live)
    now = time.time()
    ast = m.ast()
    for kind in ("video", "audio"):
        rep = m.rep(kind)
        t, d = rep["timeline"][-1]
        end = ast + (t + d - rep["pto"]) / rep["timescale"]
        lag = now - end
        assert -0.5 <= lag <= 5.0, "%s: newest segment ends at %s, now is %s (%.2f s %s)" % (
            kind, datetime.datetime.utcfromtimestamp(end).isoformat(),
            datetime.datetime.utcfromtimestamp(now).isoformat(), abs(lag),
            "behind" if lag > 0 else "in the future")
        # and that segment is really there
        fetch(m.seg_url(rep, rep["startNumber"] + len(rep["timeline"]) - 1))


def test_concurrent_mpd_and_segments(live):
    """A player's burst: MPD + inits + the last 3 segments of each
    Representation in parallel, all 200."""
    m = warm(live)
    urls = [m.url]
    for kind in ("video", "audio"):
        rep = m.rep(kind)
        urls.append(m.init_url(rep))
        last = rep["startNumber"] + len(rep["timeline"]) - 1
        urls += [m.seg_url(rep, n) for n in range(last - 2, last + 1)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(hls.get, urls))
    bad = [(r.url, r.status) for r in res if r.status != 200]
    assert not bad, bad
