"""HLS (TS) and CMAF/LL-HLS output, end to end, the way a demanding user
checks a live HLS service: ffprobe/ffmpeg on the playlists, playlist
syntax and timing rules (RFC 8216 / 8216bis), LL-HLS parts, preload hints
(streamed chunk by chunk while the part is produced), blocking reloads
(within 1.5 part targets), delta updates, cache headers, keyframe-aligned
segments, and audio/video sync across parts.

One server and one looping publisher serve the whole module (the tests are
ordered: the first one needs a stream nobody has requested over HLS yet, the
last ones need a stream that has been live long enough for the window to
slide)."""

import concurrent.futures
import re
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest

from conftest import wait_live
from helpers import hls, media, mp4

W, H = (int(x) for x in media.CLIPS["720p"][0].split("x"))
RATE = media.CLIPS["720p"][1]
FPS = 30
STREAM = "live+hls"
TS_PARTS_FOR_SYNC = 10


@pytest.fixture(scope="module")
def live(weir_bin, clips, tmp_path_factory):
    lv = hls.Live(weir_bin, clips["720p"], str(tmp_path_factory.mktemp("hls")), stream=STREAM)
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


def u(live, path):
    return live.url(path.replace("<s>", STREAM))


def ts_master(live):
    return u(live, "/hls/<s>/index.m3u8")


def cmaf_master(live):
    return u(live, "/cmaf/<s>/index.m3u8")


def renditions(live):
    """{"ts": url, "cmaf_video": url, "cmaf_audio": url} from the masters."""
    mt = hls.Master(hls.get_ok(ts_master(live)).text)
    mc = hls.Master(hls.get_ok(cmaf_master(live)).text)
    assert len(mt.variants) == 1, "TS master: expected one variant:\n" + mt.text
    assert len(mc.variants) >= 1 and mc.media, "CMAF master: expected a video variant and an " \
        "audio EXT-X-MEDIA:\n" + mc.text
    return {
        "ts": hls.join(ts_master(live), mt.variants[0][1]),
        "cmaf_video": hls.join(cmaf_master(live), mc.variants[0][1]),
        "cmaf_audio": hls.join(cmaf_master(live), mc.media[0]["URI"]),
    }


def warm(live, n=2):
    """Waits until every rendition lists >= n complete segments."""
    r = renditions(live)
    for url in r.values():
        live.wait_segments(url, n)
    return r


def assert_av(info, what):
    st = media.streams_by_type(info)
    v, a = st.get("video", []), st.get("audio", [])
    assert len(v) == 1 and len(a) == 1, "%s: expected 1 video + 1 audio stream, got %r" % (
        what, [(s.get("codec_type"), s.get("codec_name")) for s in info.get("streams", [])])
    v, a = v[0], a[0]
    assert v.get("codec_name") == "h264", "%s: video codec %r" % (what, v.get("codec_name"))
    assert (v.get("width"), v.get("height")) == (W, H), "%s: video %sx%s, want %dx%d" % (
        what, v.get("width"), v.get("height"), W, H)
    assert a.get("codec_name") == "aac", "%s: audio codec %r" % (what, a.get("codec_name"))
    assert int(a.get("sample_rate", 0)) == RATE, "%s: audio rate %r, want %d" % (
        what, a.get("sample_rate"), RATE)


def probe_many(urls, timeout=40):
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as ex:
        futs = {url: ex.submit(media.probe, url, timeout) for url in urls}
        return {url: f.result() for url, f in futs.items()}


def fetch(playlist_url, ref):
    """Body of a resource a playlist lists; on failure, says what the playlist
    says now."""
    target = hls.join(playlist_url, ref)
    r = hls.get(target)
    if r.status != 200:
        now = hls.get(playlist_url)
        raise AssertionError("GET %s: HTTP %s (%r) after %.2f s; the playlist now:\n%s" % (
            target, r.status, r.body[:100], r.elapsed, now.text[:1500]))
    return r.body


def init_of(live, media_url, m):
    """The init segment (bytes) a CMAF media playlist points at."""
    maps = [s.map for s in m.segments if s.map]
    assert maps, "CMAF playlist has no EXT-X-MAP:\n" + m.text
    return fetch(media_url, maps[-1])


def timescale_of(init, kind):
    tr = mp4.init_tracks(init)
    want = {"video": "vide", "audio": "soun"}[kind]
    ts = [t["timescale"] for t in tr.values() if t["handler"] == want]
    assert ts and ts[0], "init segment has no %s track with a timescale: %r" % (kind, tr)
    return ts[0]


def frag_info(data, what):
    """(tfdt, duration, first sample flags) of the single traf in a CMAF chunk."""
    types = mp4.top_types(data)
    body = [t for t in types if t not in ("styp", "prft", "emsg", "sidx", "free")]
    assert body and body[0] == "moof" and "mdat" in body, \
        "%s: top-level boxes %r, want [styp] moof mdat" % (what, types)
    fr = mp4.fragments(data)
    assert fr and fr[0]["tfdt"] is not None, "%s: no tfdt in moof/traf" % what
    return fr[0]["tfdt"], sum(f["duration"] for f in fr), fr[0]["first_flags"]


# -----------------------------------------------------------------------------


def test_probe_fresh_stream(live):
    """The first HLS request a stream ever gets (nothing warmed up): ffprobe on
    the TS and CMAF masters must find h264 + aac. MistServer serves this from
    its buffer; an empty first playlist makes ffmpeg give up ("Empty segment")."""
    urls = [ts_master(live), cmaf_master(live)]
    infos = probe_many(urls)
    for url, info in infos.items():
        assert_av(info, "first-ever ffprobe of " + url)


def test_probe_masters(live):
    """ffprobe on /hls/<s>/index.m3u8 and /cmaf/<s>/index.m3u8: h264 1280x720 +
    aac 44100 Hz (the conftest 720p clip)."""
    assert (W, H, RATE) == (1280, 720, 44100)
    warm(live)
    for url, info in probe_many([ts_master(live), cmaf_master(live)]).items():
        assert_av(info, url)


def test_record_eight_seconds(live, tmp_path):
    """ffmpeg -i <master> -t 8 -c copy: 8±0.6 s, monotonic DTS, no complaints."""
    warm(live)
    jobs = {}
    for kind, url, ext in (("ts", ts_master(live), "ts"), ("cmaf", cmaf_master(live), "mp4")):
        out = str(tmp_path / ("rec-%s.%s" % (kind, ext)))
        cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning",
               "-rw_timeout", media.RW_TIMEOUT_US, "-i", url, "-t", "8", "-c", "copy",
               "-y", out]
        jobs[kind] = (url, out, subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.PIPE))
    for kind, (url, out, p) in jobs.items():
        try:
            _, err = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError("recording %s did not finish in 40 s" % url)
        # ffmpeg's HLS demuxer re-feeds the fMP4 init after every playlist
        # reload; the mov demuxer then says so. Not the server's doing.
        err = "\n".join(line for line in err.decode(errors="replace").splitlines()
                        if "duplicated MOOV Atom" not in line)
        assert p.returncode == 0, "ffmpeg recording %s failed: %s" % (url, err[-2000:])
        for bad in ("Non-monotonous DTS", "non monotonically increasing dts",
                    "Invalid data found", "corrupt", "Empty segment", "Failed to open segment",
                    "error"):
            assert bad.lower() not in err.lower(), "%s: ffmpeg complained %r:\n%s" % (
                url, bad, err[-2000:])
        info = media.probe(out)
        assert_av(info, out)
        dur = float(info["format"]["duration"])
        assert abs(dur - 8.0) <= 0.6, "%s: recorded %.3f s, want 8±0.6" % (url, dur)
        pk = media.packets(out)
        nv = sum(1 for _, k, _ in pk if k == "video")
        assert nv >= 8 * FPS - 20, "%s: only %d video packets in 8 s at %d fps" % (url, nv, FPS)
        reg = media.dts_regressions(pk)
        assert not reg, "%s: DTS went backwards (stream, prev, cur): %r" % (url, reg[:10])


def test_master_playlists(live):
    """CODECS (avc1.* matching the SPS, mp4a.40.2), RESOLUTION, BANDWIDTH
    covering the measured peak segment bit rate, audio group wiring."""
    r = warm(live, 3)
    mt = hls.Master(hls.get_ok(ts_master(live)).text)
    mc = hls.Master(hls.get_ok(cmaf_master(live)).text)
    # avc1 profile/compat/level from the CMAF video init's avcC.
    vm = live.media(r["cmaf_video"])
    init = init_of(live, r["cmaf_video"], vm)
    i = init.find(b"avcC")
    assert i > 0, "CMAF video init has no avcC"
    want_avc1 = "avc1.%02x%02x%02x" % (init[i + 5], init[i + 6], init[i + 7])
    for name, m in (("TS", mt), ("CMAF", mc)):
        assert m.lines[0] == "#EXTM3U", name
        attrs, uri = m.variants[0]
        codecs = attrs.get("CODECS", "")
        assert re.search(r"\bavc1\.[0-9A-Fa-f]{6}\b", codecs), "%s CODECS %r" % (name, codecs)
        assert want_avc1.lower() in codecs.lower(), "%s CODECS %r does not match the SPS (%s)" % (
            name, codecs, want_avc1)
        assert "mp4a.40.2" in codecs, "%s CODECS %r lacks mp4a.40.2" % (name, codecs)
        assert attrs.get("RESOLUTION") == "%dx%d" % (W, H), "%s RESOLUTION %r" % (
            name, attrs.get("RESOLUTION"))
        assert attrs.get("BANDWIDTH", "").isdigit() and int(attrs["BANDWIDTH"]) > 0, \
            "%s BANDWIDTH %r" % (name, attrs.get("BANDWIDTH"))
        if "FRAME-RATE" in attrs:
            assert abs(float(attrs["FRAME-RATE"]) - FPS) < 0.1, attrs
        assert uri and not uri.startswith("#"), "%s: variant without URI" % name
    # CMAF: the audio rendition is an EXT-X-MEDIA in the variant's AUDIO group.
    vattrs = mc.variants[0][0]
    aud = [a for a in mc.media if a.get("TYPE") == "AUDIO"]
    assert aud, "CMAF master has no TYPE=AUDIO EXT-X-MEDIA:\n" + mc.text
    assert vattrs.get("AUDIO") == aud[0].get("GROUP-ID"), \
        "variant AUDIO=%r but EXT-X-MEDIA GROUP-ID=%r" % (vattrs.get("AUDIO"),
                                                          aud[0].get("GROUP-ID"))
    assert aud[0].get("URI"), "audio EXT-X-MEDIA without URI"

    # BANDWIDTH >= peak segment bit rate (Apple's validator: within 10 %).
    def peak(url):
        m = live.media(url)
        best = 0.0
        for s in m.complete[-3:]:
            body = fetch(url, s.uri)
            best = max(best, len(body) * 8 / s.duration)
        return best

    ts_peak = peak(r["ts"])
    bw = int(mt.variants[0][0]["BANDWIDTH"])
    assert bw >= ts_peak / 1.1, "TS BANDWIDTH=%d but a segment peaks at %.0f bit/s" % (bw, ts_peak)
    cm_peak = peak(r["cmaf_video"]) + peak(r["cmaf_audio"])
    bw = int(vattrs["BANDWIDTH"])
    assert bw >= cm_peak / 1.1, "CMAF BANDWIDTH=%d but video+audio segments peak at %.0f bit/s" % (
        bw, cm_peak)


def check_media_playlist(name, m, cmaf, is_video):
    assert m.version is not None, name + ": no EXT-X-VERSION"
    assert m.target, name + ": no EXT-X-TARGETDURATION"
    comp = m.complete
    assert len(comp) >= 2, name + ": fewer than 2 segments:\n" + m.text
    for s in comp:
        assert round(s.duration) <= m.target, "%s: EXTINF %.3f of %d > TARGETDURATION %d" % (
            name, s.duration, s.msn, m.target)
        assert 1.0 <= s.duration <= 4.0, "%s: EXTINF %.3f of segment %d" % (name, s.duration, s.msn)
        assert hls.SEG_NAME.match(s.uri), "%s: segment URI %r" % (name, s.uri)
        assert int(s.uri.split(".")[0]) == s.msn, \
            "%s: segment URI %r at media sequence %d" % (name, s.uri, s.msn)
    # PROGRAM-DATE-TIME on every segment, increasing (their spacing against
    # the EXTINFs is test_playlists_consistent_across_reloads' business).
    pdts = [s.pdt for s in m.segments]
    assert all(p is not None for p in pdts), "%s: segment without PROGRAM-DATE-TIME:\n%s" % (
        name, m.text)
    for a, b in zip(m.segments, m.segments[1:]):
        assert b.pdt > a.pdt, "%s: PDT not increasing at %d" % (name, b.msn)
    assert abs(m.segments[-1].pdt - time.time()) < 30, \
        "%s: newest PROGRAM-DATE-TIME is %.1f s off the wall clock" % (
            name, m.segments[-1].pdt - time.time())
    if cmaf:
        assert m.segments[0].map, name + ": first segment has no EXT-X-MAP"
        assert m.version >= 6, name + ": EXT-X-MAP needs EXT-X-VERSION >= 6"
    # LL-HLS
    assert m.part_target, name + ": no EXT-X-PART-INF"
    pt = m.part_target
    sc = m.server_control
    assert sc.get("CAN-BLOCK-RELOAD") == "YES", "%s: SERVER-CONTROL %r" % (name, sc)
    assert float(sc.get("PART-HOLD-BACK", 0)) >= 2 * pt, \
        "%s: PART-HOLD-BACK %r < 2 x PART-TARGET" % (name, sc.get("PART-HOLD-BACK"))
    if "CAN-SKIP-UNTIL" in sc:
        assert float(sc["CAN-SKIP-UNTIL"]) >= 6 * m.target, \
            "%s: CAN-SKIP-UNTIL %s < 6 x TARGETDURATION" % (name, sc["CAN-SKIP-UNTIL"])
    with_parts = [s for s in m.segments if s.parts]
    assert with_parts, name + ": no EXT-X-PART at all:\n" + m.text
    ext = "m4s" if cmaf else "ts"
    for s in with_parts:
        for i, p in enumerate(s.parts):
            mm = hls.PART_NAME.match(p["URI"])
            assert mm and (int(mm.group(1)), int(mm.group(2)), mm.group(3)) == (s.msn, i, ext), \
                "%s: part %d of segment %d is named %r" % (name, i, s.msn, p["URI"])
            # 8216bis: DURATION <= PART-TARGET; tolerance for the publisher's
            # own timestamp jitter where the clip loops.
            assert p["DURATION"] <= pt + 0.02, "%s: part %s lasts %.3f > PART-TARGET %.3f" % (
                name, p["URI"], p["DURATION"], pt)
            last_of_seg = i == len(s.parts) - 1 and s.uri is not None
            if not last_of_seg and s.uri is not None:
                assert p["DURATION"] >= 0.85 * pt, \
                    "%s: part %s lasts %.3f < 85%% of PART-TARGET %.3f (only the last part " \
                    "of a segment may be shorter)" % (name, p["URI"], p["DURATION"], pt)
        if is_video:
            assert s.parts[0]["INDEPENDENT"], "%s: first part of segment %d not INDEPENDENT" % (
                name, s.msn)
        if s.uri is not None:
            tot = sum(p["DURATION"] for p in s.parts)
            assert abs(tot - s.duration) <= 0.02, \
                "%s: parts of segment %d sum to %.3f s, EXTINF %.3f" % (
                    name, s.msn, tot, s.duration)
    # PRELOAD-HINT points at the next part.
    ph = m.preload_hint
    assert ph and ph.get("TYPE") == "PART", "%s: PRELOAD-HINT %r" % (name, ph)
    nm, npart = m.next_part()
    assert ph.get("URI") == "%d.%d.%s" % (nm, npart, ext), \
        "%s: PRELOAD-HINT %r, the next part is %d.%d.%s:\n%s" % (name, ph.get("URI"), nm, npart,
                                                                   ext, m.text[-600:])


def test_media_playlists(live):
    """TARGETDURATION, EXTINF, PROGRAM-DATE-TIME, parts, PART-INF,
    SERVER-CONTROL, PRELOAD-HINT on the TS, CMAF video and CMAF audio
    playlists."""
    r = warm(live, 3)
    for key, url in r.items():
        m = live.media(url)
        check_media_playlist("%s %s" % (key, url), m, cmaf=key != "ts",
                             is_video=key != "cmaf_audio")
        assert m.resp.header("content-type") in ("application/vnd.apple.mpegurl",
                                                 "audio/mpegurl", "application/x-mpegurl"), \
            "%s: Content-Type %r" % (url, m.resp.header("content-type"))


def test_rendition_reports(live):
    """CMAF playlists carry an EXT-X-RENDITION-REPORT for the other rendition
    whose LAST-MSN/LAST-PART is that rendition's newest part."""
    r = warm(live)
    pairs = (("cmaf_video", "cmaf_audio"), ("cmaf_audio", "cmaf_video"))
    for me, other in pairs:
        m = live.media(r[me])
        o_url = r[other]
        reps = [x for x in m.reports if hls.join(r[me], x.get("URI", "")).split("?")[0] == o_url]
        assert reps, "%s: no RENDITION-REPORT for %s: %r" % (r[me], o_url, m.reports)
        rep = reps[0]
        o = live.media(o_url)
        listed = [(s, i) for s, i, _ in o.all_parts()]
        key = (int(rep["LAST-MSN"]), int(rep["LAST-PART"]))
        assert key in listed, "%s: report %r names a part %s does not list (%r...)" % (
            r[me], rep, o_url, listed[-5:])
        # fetched right after: at most a couple of parts behind
        assert listed.index(key) >= len(listed) - 3, \
            "%s: RENDITION-REPORT %r is stale; %s ends at %r" % (r[me], rep, o_url, listed[-1])


def test_preload_hint_part_blocks_and_parses(live):
    """GET of the PRELOAD-HINT part is held until the part exists (<~1 s) and
    its bytes are TS packets / a moof+mdat chunk continuing the previous part."""
    r = warm(live)
    for key, url in r.items():
        m = live.media(url)
        hint = m.preload_hint["URI"]
        prev = m.all_parts()[-1]
        res = hls.get(hls.join(url, hint), timeout=10)
        assert res.status == 200, "%s: hinted part %s: HTTP %s %r" % (url, hint, res.status,
                                                                     res.body[:100])
        assert res.elapsed < 1.5, "%s: hinted part %s took %.2f s (PART-TARGET %.1f)" % (
            url, hint, res.elapsed, m.part_target)
        if key == "ts":
            bad = hls.ts_problems(res.body)
            assert not bad, "%s: hinted part %s is not clean TS: %s" % (url, hint, bad)
            assert res.header("content-type") == "video/mp2t", res.headers
            continue
        init = init_of(live, url, m)
        kind = "video" if key == "cmaf_video" else "audio"
        ts = timescale_of(init, kind)
        t_new, d_new, _ = frag_info(res.body, hint)
        pbody = fetch(url, prev[2]["URI"])
        t_prev, d_prev, _ = frag_info(pbody, prev[2]["URI"])
        assert t_new == t_prev + d_prev, \
            "%s: part %s tfdt %d, but previous part %s ends at %d (tfdt %d + %d)" % (
                url, hint, t_new, prev[2]["URI"], t_prev + d_prev, t_prev, d_prev)
        # exactness is test_cmaf_durations_match_media's business
        tol = 0.0015 if kind == "video" else 1024.0 / RATE + 0.0015
        assert abs(d_prev / ts - prev[2]["DURATION"]) <= tol, \
            "%s: part %s holds %.4f s of media, playlist says DURATION=%.3f" % (
                url, prev[2]["URI"], d_prev / ts, prev[2]["DURATION"])
        assert res.header("content-type") == "video/mp4", res.headers


def test_blocking_playlist_reload(live):
    """_HLS_msn=<next msn>&_HLS_part=0 is answered only once that part
    exists (and then promptly), with a playlist listing it."""
    r = warm(live)
    for key in ("ts", "cmaf_video"):
        url = r[key]
        ext = "ts" if key == "ts" else "m4s"
        m = live.media(url)
        nxt = m.last_msn() + 1
        name0 = "%d.0.%s" % (nxt, ext)
        assert name0 not in [p["URI"] for _, _, p in m.all_parts()]
        q = "%s?_HLS_msn=%d&_HLS_part=0" % (url, nxt)
        res = hls.get(q, timeout=15)
        assert res.status == 200, "%s: HTTP %s %r" % (q, res.status, res.body[:200])
        assert res.elapsed < 2.5, "%s took %.2f s (segments are ~2 s)" % (q, res.elapsed)
        b = hls.Media(res.text)
        names = [p["URI"] for _, _, p in b.all_parts()]
        assert name0 in names, "%s answered (after %.2f s) without part %s:\n%s" % (
            q, res.elapsed, name0, res.text[-800:])
        assert "no-cache" in (res.header("cache-control") or ""), \
            "%s: Cache-Control %r" % (q, res.header("cache-control"))
        # The part now exists: fetching it is immediate.
        pr = hls.get(hls.join(url, name0))
        assert pr.status == 200 and pr.elapsed < 0.3, "%s after the reload: %r" % (name0, pr)
        # Part 2 of that segment needs ~1 s more: the answer must wait for it.
        q2 = "%s?_HLS_msn=%d&_HLS_part=2" % (url, nxt)
        res2 = hls.get(q2, timeout=15)
        assert res2.status == 200, "%s: HTTP %s" % (q2, res2.status)
        assert 0.3 <= res2.elapsed < 2.0, \
            "%s answered after %.2f s; part 2 appears ~1 s after part 0" % (q2, res2.elapsed)
        names2 = [p["URI"] for _, _, p in hls.Media(res2.text).all_parts()]
        assert "%d.2.%s" % (nxt, ext) in names2, "%s answered without that part:\n%s" % (
            q2, res2.text[-800:])
        # An existing part: no waiting.
        res3 = hls.get("%s?_HLS_msn=%d&_HLS_part=0" % (url, nxt))
        assert res3.status == 200 and res3.elapsed < 0.3, res3


def test_blocking_reload_bad_requests(live):
    """_HLS_msn far ahead -> 400 at once; _HLS_part without _HLS_msn -> 400."""
    r = warm(live)
    for key in ("ts", "cmaf_video"):
        url = r[key]
        m = live.media(url)
        for q in ("_HLS_msn=%d&_HLS_part=0" % (m.last_msn() + 1000),
                  "_HLS_msn=%d" % (m.last_msn() + 1000),
                  "_HLS_part=1",
                  "_HLS_msn=abc"):
            res = hls.get("%s?%s" % (url, q))
            assert res.status == 400, "%s?%s: HTTP %s, want 400" % (url, q, res.status)
            assert res.elapsed < 0.5, "%s?%s: 400 took %.2f s" % (url, q, res.elapsed)


def test_llhls_off(live):
    """?llhls=0: plain HLS — no EXT-X-PART, PART-INF, PRELOAD-HINT, SERVER-CONTROL."""
    r = warm(live)
    for master in (ts_master(live), cmaf_master(live)):
        mt = hls.get_ok(master + "?llhls=0").text
        refs = [line for line in mt.splitlines() if line and not line.startswith("#")]
        refs += re.findall(r'URI="([^"]+)"', mt)
        assert refs and all("llhls=0" in x for x in refs), \
            "%s?llhls=0 links renditions without llhls=0:\n%s" % (master, mt)
    for key, url in r.items():
        m = live.media(url + "?llhls=0")
        for tag in ("#EXT-X-PART", "#EXT-X-PART-INF", "#EXT-X-PRELOAD-HINT",
                    "#EXT-X-SERVER-CONTROL", "#EXT-X-RENDITION-REPORT"):
            assert m.count(tag) == 0, "%s?llhls=0 still has %s:\n%s" % (url, tag, m.text)
        assert len(m.complete) >= 2 and not m.partial, "%s?llhls=0:\n%s" % (url, m.text)
        for s in m.complete:
            assert round(s.duration) <= m.target


def test_cache_and_cors_headers(live):
    r = warm(live)
    want_media = "public, max-age=3600, immutable"
    for key, url in r.items():
        m = live.media(url)
        checks = [(ts_master(live) if key == "ts" else cmaf_master(live), "max-age=1"),
                  (url, "max-age=1"),
                  (hls.join(url, m.complete[-1].uri), want_media),
                  (hls.join(url, m.all_parts()[-1][2]["URI"]), want_media),
                  ("%s?_HLS_msn=%d&_HLS_part=0" % (url, m.complete[-1].msn), "no-cache")]
        if key != "ts":
            checks.append((hls.join(url, [s.map for s in m.segments if s.map][-1]), want_media))
        for target, want in checks:
            res = hls.get(target)
            assert res.status == 200, "%s: HTTP %s" % (target, res.status)
            cc = res.header("cache-control") or ""
            assert want in cc, "%s: Cache-Control %r, want %r" % (target, cc, want)
            if want == "no-cache":
                assert "no-store" in cc and "max-age=3600" not in cc, (target, cc)
            assert res.header("access-control-allow-origin") == "*", \
                "%s: Access-Control-Allow-Origin %r" % (
                    target, res.header("access-control-allow-origin"))


def test_segments_start_with_keyframe(live, tmp_path):
    """Every segment starts with a keyframe, decodes cleanly, lasts its EXTINF;
    CMAF segments continue each other's decode time exactly."""
    r = warm(live, 3)
    m = live.media(r["ts"])
    for s in m.complete[-2:]:
        body = fetch(r["ts"], s.uri)
        bad = hls.ts_problems(body)
        assert not bad, "TS segment %s: %s" % (s.uri, bad)
        path = str(tmp_path / ("ts-%s" % s.uri))
        with open(path, "wb") as f:
            f.write(body)
        fr = hls.first_video_frame(path)
        assert int(fr.get("key_frame", 0)) == 1, "TS segment %s starts with %r" % (s.uri, fr)
        err = hls.decode_errors(path)
        assert not err, "TS segment %s does not decode cleanly: %s" % (s.uri, err[-1500:])
        pk = hls.probe_packets(path)
        v = [p for p in pk if p["type"] == "video"]
        a = [p for p in pk if p["type"] == "audio"]
        assert v and a, "TS segment %s: video %d / audio %d packets" % (s.uri, len(v), len(a))
        assert v[0]["key"], "TS segment %s: first video packet is not a keyframe" % s.uri
        vdur = v[-1]["pts"] + (v[-1]["dur"] or 1.0 / FPS) - v[0]["pts"]
        assert abs(vdur - s.duration) <= 0.04, "TS segment %s: %.3f s of video, EXTINF %.3f" % (
            s.uri, vdur, s.duration)
    for key, kind in (("cmaf_video", "video"), ("cmaf_audio", "audio")):
        url = r[key]
        m = live.media(url)
        init = init_of(live, url, m)
        ts = timescale_of(init, kind)
        prev = None
        for s in m.complete[-3:]:
            body = fetch(url, s.uri)
            tfdt, dur, flags = frag_info(body, s.uri)
            # (exactness is test_cmaf_durations_match_media's business)
            tol = 0.002 if kind == "video" else 1024.0 / RATE + 0.002
            assert abs(dur / ts - s.duration) <= tol, \
                "%s %s: %.4f s of media, EXTINF %.3f" % (key, s.uri, dur / ts, s.duration)
            if prev is not None:
                assert tfdt == prev[0] + prev[1], \
                    "%s %s: tfdt %d, previous segment ends at %d" % (key, s.uri, tfdt,
                                                                    prev[0] + prev[1])
            prev = (tfdt, dur)
            path = str(tmp_path / ("%s-%s.mp4" % (key, s.uri)))
            with open(path, "wb") as f:
                f.write(init + body)
            if kind == "video":
                assert mp4.is_sync_flags(flags), "%s %s: first sample flags %r not sync" % (
                    key, s.uri, flags)
                fr = hls.first_video_frame(path)
                assert int(fr.get("key_frame", 0)) == 1, "%s %s starts with %r" % (key, s.uri, fr)
            err = hls.decode_errors(path)
            assert not err, "%s init+%s does not decode cleanly: %s" % (key, s.uri, err[-1500:])


def collect_parts(url, m, n):
    """The names of n consecutive parts ending at the newest (waits for more
    through the preload hint when fewer are listed)."""
    names = [p["URI"] for _, _, p in m.all_parts()]
    while len(names) < n:
        m2 = hls.Media(hls.get_ok(url).text)
        hint = m2.preload_hint["URI"]
        hls.get_ok(hls.join(url, hint))
        names = [p["URI"] for _, _, p in hls.Media(hls.get_ok(url).text).all_parts()]
    return names[-n:]


def test_av_sync_across_ts_parts(live, tmp_path):
    """MistServer 3.1's (reverted) LL-HLS TS parts had audio and video drift
    apart per part. For 10 consecutive TS parts: each holds both tracks with
    overlapping PTS ranges (first audio vs first video < 0.2 s) and neither
    track has gaps > 100 ms or jumps across part boundaries."""
    r = warm(live, 3)
    url = r["ts"]
    names = collect_parts(url, live.media(url), TS_PARTS_FOR_SYNC)
    allbytes = b""
    prev_last = {}
    for nm in names:
        body = fetch(url, nm)
        bad = hls.ts_problems(body)
        assert not bad, "TS part %s: %s" % (nm, bad)
        allbytes += body
        path = str(tmp_path / nm)
        with open(path, "wb") as f:
            f.write(body)
        pk = hls.probe_packets(path)
        v = [p["pts"] for p in pk if p["type"] == "video" and p["pts"] is not None]
        a = [p["pts"] for p in pk if p["type"] == "audio" and p["pts"] is not None]
        assert v and a, "TS part %s: %d video, %d audio packets" % (nm, len(v), len(a))
        assert abs(a[0] - v[0]) < 0.2, \
            "TS part %s: first audio PTS %.3f vs first video PTS %.3f (A/V apart by %.3f s)" % (
                nm, a[0], v[0], a[0] - v[0])
        assert max(v[0], a[0]) <= min(max(v), max(a)), \
            "TS part %s: audio %.3f-%.3f and video %.3f-%.3f do not overlap" % (
                nm, a[0], max(a), v[0], max(v))
        for kind, xs, step in (("video", v, 1.0 / FPS), ("audio", a, 1024.0 / RATE)):
            if kind in prev_last:
                gap = min(xs) - prev_last[kind]
                assert 0 < gap <= step + 0.1, \
                    "TS part %s: %s starts %.3f s after the previous part's last packet" % (
                        nm, kind, gap)
            prev_last[kind] = max(xs)
    path = str(tmp_path / "parts.ts")
    with open(path, "wb") as f:
        f.write(allbytes)
    pk = hls.probe_packets(path)
    for kind in ("video", "audio"):
        d = [p["dts"] for p in pk if p["type"] == kind and p["dts"] is not None]
        assert len(d) > 10, "concatenated parts: %d %s packets" % (len(d), kind)
        steps = [b - a for a, b in zip(d, d[1:])]
        assert min(steps) > 0, "concatenated parts: %s DTS not increasing (%r)" % (
            kind, [s for s in steps if s <= 0][:5])
        assert max(steps) <= 0.1, "concatenated parts: %s gap of %.3f s" % (kind, max(steps))
        span = d[-1] - d[0]
        assert span >= 0.5 * (TS_PARTS_FOR_SYNC - 1) - 0.1, \
            "%d parts span only %.2f s of %s" % (TS_PARTS_FOR_SYNC, span, kind)


def test_av_sync_cmaf_parts(live):
    """The CMAF video and audio parts with the same name start within 0.2 s
    of each other, and each rendition's parts continue each other exactly."""
    r = warm(live, 2)
    mv = live.media(r["cmaf_video"])
    ma = live.media(r["cmaf_audio"])
    tsv = timescale_of(init_of(live, r["cmaf_video"], mv), "video")
    tsa = timescale_of(init_of(live, r["cmaf_audio"], ma), "audio")
    pv = {(s, i): p["URI"] for s, i, p in mv.all_parts()}
    pa = {(s, i): p["URI"] for s, i, p in ma.all_parts()}
    common = sorted(set(pv) & set(pa))[-10:]
    assert len(common) >= 6, "few parts in common: video %r audio %r" % (sorted(pv), sorted(pa))
    for key, names, tscale in (("video", pv, tsv), ("audio", pa, tsa)):
        url = r["cmaf_" + key]
        prev = None
        for k in sorted(names)[-10:]:
            t, d, _ = frag_info(fetch(url, names[k]), names[k])
            if prev is not None:
                assert t == prev[0] + prev[1], "%s part %s: tfdt %d, previous part ends at %d" % (
                    key, names[k], t, prev[0] + prev[1])
            prev = (t, d)
    for k in common:
        tv, _, _ = frag_info(fetch(r["cmaf_video"], pv[k]), pv[k])
        ta, _, _ = frag_info(fetch(r["cmaf_audio"], pa[k]), pa[k])
        assert abs(tv / tsv - ta / tsa) < 0.2, \
            "part %d.%d: video tfdt %.3f s, audio tfdt %.3f s" % (k[0], k[1], tv / tsv, ta / tsa)


def wait_window_full(live, url, min_seq=1, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        m = live.media(url)
        if m.media_sequence >= min_seq:
            return m
        assert time.monotonic() < deadline, \
            "%s: MEDIA-SEQUENCE still %d after %.0f s (window never slides):\n%s" % (
                url, m.media_sequence, timeout, m.text)
        time.sleep(1.0)


def test_delta_update_skip(live):
    """_HLS_skip=YES: EXT-X-SKIP:SKIPPED-SEGMENTS=n replaces the oldest n
    segments (those older than CAN-SKIP-UNTIL), fewer EXTINF lines, the rest
    identical; a Playlist with EXT-X-SKIP needs EXT-X-VERSION >= 9."""
    r = warm(live)
    for key in ("ts", "cmaf_video"):
        url = r[key]
        full = wait_window_full(live, url)
        skip_until = float(full.server_control.get("CAN-SKIP-UNTIL", 0))
        assert skip_until > 0, "%s: SERVER-CONTROL lacks CAN-SKIP-UNTIL: %r" % (
            url, full.server_control)
        window = sum(s.duration for s in full.complete)
        assert window > skip_until + full.target, \
            "%s: the playlist holds %.1f s of segments but CAN-SKIP-UNTIL=%.1f (TARGETDURATION " \
            "%d): a delta update can never skip anything" % (url, window, skip_until, full.target)
        res = hls.get(url + "?_HLS_skip=YES")
        assert res.status == 200, res
        d = hls.Media(res.text)
        assert d.skip is not None, "%s?_HLS_skip=YES: no EXT-X-SKIP (window %.1f s, " \
            "CAN-SKIP-UNTIL %.1f s):\n%s" % (url, window, skip_until, res.text)
        n = int(d.skip.get("SKIPPED-SEGMENTS", "0"))
        assert n >= 1, d.skip
        assert d.version >= 9, "%s: EXT-X-SKIP with EXT-X-VERSION %s" % (url, d.version)
        assert d.count("#EXTINF") < full.count("#EXTINF"), "no fewer EXTINF lines"
        kept = sum(s.duration for s in d.complete)
        assert kept >= skip_until - 0.01, "skipped too much: %.1f s kept < CAN-SKIP-UNTIL %.1f" % (
            kept, skip_until)
        assert d.complete[0].msn == d.media_sequence + n, (d.media_sequence, n)
        fm = {s.msn: s for s in full.complete}
        for s in d.complete:
            if s.msn in fm:
                assert s.uri == fm[s.msn].uri and s.duration == fm[s.msn].duration, \
                    "delta update and full playlist disagree on segment %d" % s.msn


def test_cmaf_durations_match_media(live):
    """Every listed CMAF segment's EXTINF and every part's DURATION equal the
    media it holds (sum of trun sample durations, to the millisecond the
    playlist can express), for video and audio; the next segment's tfdt is
    where the previous one ends."""
    r = warm(live)
    wait_window_full(live, r["cmaf_video"])
    problems = []
    for key, kind in (("cmaf_video", "video"), ("cmaf_audio", "audio")):
        url = r[key]
        m = live.media(url)
        ts = timescale_of(init_of(live, url, m), kind)
        prev = None
        for s in m.complete:
            t, d, _ = frag_info(fetch(url, s.uri), s.uri)
            if abs(d / ts - s.duration) > 0.002:
                problems.append("%s %s: EXTINF %.3f but it holds %.4f s (%d/%d)" % (
                    key, s.uri, s.duration, d / ts, d, ts))
            if prev is not None and t != prev:
                problems.append("%s %s: tfdt %d, previous segment ends at %d" % (
                    key, s.uri, t, prev))
            prev = t + d
        for msn, i, p in m.all_parts():
            t, d, _ = frag_info(fetch(url, p["URI"]), p["URI"])
            if abs(d / ts - p["DURATION"]) > 0.002:
                problems.append("%s part %s: DURATION %.3f but it holds %.4f s (%d/%d)" % (
                    key, p["URI"], p["DURATION"], d / ts, d, ts))
    assert not problems, "\n".join(problems)


def test_window_slides_and_old_segments_404(live):
    """MEDIA-SEQUENCE advances (sliding window); a segment or part that has
    left the window, or one far in the future, is 404 at once."""
    r = warm(live)
    m = wait_window_full(live, r["ts"], min_seq=6, timeout=60)
    m2 = wait_window_full(live, r["ts"], min_seq=m.media_sequence + 1, timeout=10)
    assert m2.media_sequence > m.media_sequence
    for key, url in r.items():
        mm = live.media(url)
        assert mm.media_sequence >= 5, "%s: MEDIA-SEQUENCE %d" % (url, mm.media_sequence)
        ext = "ts" if key == "ts" else "m4s"
        for name in ("0.%s" % ext, "0.0.%s" % ext, "1.%s" % ext,
                     "%d.%s" % (mm.last_msn() + 50, ext)):
            res = hls.get(hls.join(url, name))
            assert res.status == 404, "%s: HTTP %s, want 404" % (hls.join(url, name), res.status)
            assert res.elapsed < 0.5, "%s: 404 took %.2f s" % (name, res.elapsed)


def test_playlists_consistent_across_reloads(live):
    """Over every playlist fetched in this module: TARGETDURATION never
    changes (RFC 8216 6.2.1: it MUST NOT), MEDIA-SEQUENCE never goes back, a
    segment keeps its PROGRAM-DATE-TIME, and PDT(n+1) - PDT(n) = EXTINF(n)."""
    problems = []
    assert live.seen, "no playlists were fetched"
    for base, seen in live.seen.items():
        tds = [x.target for x in seen]
        if len(set(tds)) > 1:
            ch = [(i, a, b) for i, (a, b) in enumerate(zip(tds, tds[1:])) if a != b]
            problems.append("%s: EXT-X-TARGETDURATION changed during the stream: %r (reload#, "
                            "old, new) -- it MUST NOT change" % (base, ch))
        seqs = [x.media_sequence for x in seen]
        if seqs != sorted(seqs):
            problems.append("%s: MEDIA-SEQUENCE went backwards: %r" % (base, seqs))
        pdt, dur = {}, {}
        for x in seen:
            for sg in x.segments:
                if sg.pdt is not None and sg.uri is not None:
                    first = pdt.setdefault(sg.msn, sg.pdt)
                    dur[sg.msn] = sg.duration
                    if abs(first - sg.pdt) >= 0.002:
                        problems.append("%s: PROGRAM-DATE-TIME of segment %d changed between "
                                        "reloads" % (base, sg.msn))
        # The date of a segment's first sample follows from the media, not
        # from when its data happened to arrive.
        off = ["%d->%d: %.3f s apart, EXTINF %.3f" % (n, n + 1, pdt[n + 1] - pdt[n], dur[n])
               for n in sorted(pdt) if n + 1 in pdt and abs(pdt[n + 1] - pdt[n] - dur[n]) > 0.05]
        if off:
            problems.append("%s: PROGRAM-DATE-TIME spacing disagrees with EXTINF by > 50 ms: %s"
                            % (base, "; ".join(off)))
    assert not problems, "\n".join(problems)


def test_unknown_stream_and_rendition_404(live):
    """Unknown stream or rendition -> 404 at once; the live stream keeps working."""
    r = warm(live)
    bad = []
    for path in ("/hls/nosuchstream/index.m3u8", "/hls/nosuchstream/0_1/index.m3u8",
                 "/hls/nosuchstream/0_1/0.ts", "/cmaf/nosuchstream/index.m3u8",
                 "/cmaf/nosuchstream/0/index.m3u8", "/cmaf/nosuchstream/index.mpd",
                 "/hls/<s>/5_9/index.m3u8", "/hls/<s>/7/index.m3u8",
                 "/cmaf/<s>/7/index.m3u8", "/cmaf/<s>/7/init.mp4"):
        res = hls.get(u(live, path))
        if res.status != 404 or res.elapsed >= 0.5:
            bad.append("%s: HTTP %s after %.2f s, want 404 at once: %r" % (
                path, res.status, res.elapsed, res.text[:120]))
    for key, url in r.items():
        m = live.media(url)
        assert m.complete, url
        nxt = m.next_part()
        res = hls.get("%s?_HLS_msn=%d&_HLS_part=%d" % (url, nxt[0], nxt[1]))
        assert res.status == 200 and res.elapsed < 1.5, "%s after the 404s: %r" % (url, res)
    assert live.pub.alive(), "publisher died: " + live.pub.log()[-2000:]
    assert not bad, "\n".join(bad)


# -- streamed parts (LL-HLS preload hint, chunked while produced) ------------


class Streamed:
    """A GET read off the socket as it arrives: head, then the body with the
    time each piece came (chunked encoding decoded)."""

    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        self.url = url
        self.t0 = time.monotonic()
        self.pieces = []  # (seconds since the request, body bytes that arrived then)
        self.complete = False  # the final 0-size chunk (or Content-Length) came
        self.t_head = None
        s = socket.create_connection((u.hostname, u.port), timeout=timeout)
        self.sock = s
        path = u.path + ("?" + u.query if u.query else "")
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, u.hostname, u.port))
                  .encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            assert d, "%s: connection closed before the response head" % url
            buf += d
        self.t_head = time.monotonic() - self.t0
        head, _, self.rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in
                        (ln.partition(":") for ln in lines[1:])}
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()

    def read_all(self, deadline_s=10.0):
        """Reads the body to its end (or the deadline); returns it."""
        s, raw, body = self.sock, self.rest, b""
        want = None if self.chunked else int(self.headers.get("content-length", "-1"))
        if self.rest:
            self._note(self.rest)
        end = self.t0 + deadline_s
        while True:
            if self.chunked:
                body, done = dechunk(raw)
                if done:
                    self.complete = True
                    break
            elif want is not None and want >= 0 and len(raw) >= want:
                body, self.complete = raw[:want], True
                break
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                d = s.recv(65536)
            except OSError:
                break
            if not d:
                break
            raw += d
            self._note(d)
        self.t_end = time.monotonic() - self.t0
        s.close()
        return body if self.chunked else raw[:want] if want and want >= 0 else raw

    def _note(self, d):
        self.pieces.append((time.monotonic() - self.t0, len(d)))

    @property
    def ttfb(self):
        return self.pieces[0][0] if self.pieces else None


def dechunk(raw):
    """(body so far, whether the final chunk arrived) of a chunked body."""
    out, i = b"", 0
    while True:
        j = raw.find(b"\r\n", i)
        if j < 0:
            return out, False
        n = int(raw[i:j].split(b";")[0], 16)
        if n == 0:
            return out, raw.find(b"\r\n", j + 2) >= 0
        if len(raw) < j + 2 + n + 2:
            return out, False
        out += raw[j + 2:j + 2 + n]
        i = j + 2 + n + 2


def fresh_hint(url):
    """Waits (blocking reload) for the hinted part to complete, so that the
    new PRELOAD-HINT names a part that has just begun. Returns the playlist."""
    m = hls.Media(hls.get_ok(url).text)
    nm, npart = m.next_part()
    res = hls.get_ok("%s?_HLS_msn=%d&_HLS_part=%d" % (url, nm, npart), timeout=10)
    return hls.Media(res.text)


def test_preload_hint_part_is_streamed(live, tmp_path):
    """GET of the PRELOAD-HINT part right after it began: 200 and chunked at
    once, bytes flowing while the part is produced (first bytes long before
    the last; the last about one part duration after the request), the
    whole identical to the finished part served later with Content-Length,
    and decoding with the previous parts of its segment as h264 / aac."""
    r = warm(live)
    report = []
    for key, url in r.items():
        kind = {"ts": "ts", "cmaf_video": "video", "cmaf_audio": "audio"}[key]
        best = None
        # A part can be short (the last of a segment, cut where the video
        # segment ends) and be complete by the time it is asked for; and the
        # busiest moments of a shared machine aside: a few tries.
        for _ in range(4):
            m = fresh_hint(url)
            hint = m.preload_hint["URI"]
            st = Streamed(hls.join(url, hint))
            assert st.status == 200, "%s: HTTP %s" % (hint, st.status)
            body = st.read_all()
            assert st.complete, "%s: response not complete after %.2f s (%d bytes)" % (
                hint, st.t_end, len(body))
            if not st.chunked:
                continue
            if best is None or st.ttfb / st.t_end < best[0].ttfb / best[0].t_end:
                best = (st, body, m, hint)
            if st.ttfb < 0.6 * st.t_end and st.t_end >= 0.4 * m.part_target:
                break
        assert best, "%s: the hinted part was never streamed (last: %s, headers %r)" % (
            url, hint, st.headers)
        st, body, m, hint = best
        pt = m.part_target
        report.append("%s %s: head %.3f s, first bytes %.3f s, last %.3f s, %d pieces, %d bytes"
                      % (key, hint, st.t_head, st.ttfb, st.t_end, len(st.pieces), len(body)))
        assert 0.4 * pt <= st.t_end <= 1.8 * pt, \
            "%s: the part took %.3f s to arrive; it had just begun (PART-TARGET %.1f)" % (
                hint, st.t_end, pt)
        assert st.ttfb < 0.6 * st.t_end, \
            "%s: first bytes after %.3f s, last after %.3f s: not streamed as produced" % (
                hint, st.ttfb, st.t_end)
        early = sum(n for t, n in st.pieces if t < st.t_end - 0.15)
        assert len(st.pieces) >= 3 and early > 0.25 * len(body), \
            "%s: only %d of %d bytes came more than 150 ms before the end (%d pieces)" % (
                hint, early, len(body), len(st.pieces))
        # The finished part: Content-Length, the same bytes.
        later = hls.get(hls.join(url, hint))
        assert later.status == 200 and later.header("content-length") == str(len(later.body)), \
            "%s after completion: %r %r" % (hint, later, later.headers)
        assert later.body == body, "%s: streamed %d bytes, finished part is %d bytes (%s)" % (
            hint, len(body), len(later.body), "differ" if len(body) == len(later.body) else "")
        assert later.header("content-type") == st.headers.get("content-type")
        # Decodes after the earlier parts of its segment (which start with a
        # keyframe).
        msn, idx = (int(x) for x in hint.split(".")[:2])
        prev = b"".join(fetch(url, "%d.%d.%s" % (msn, i, hint.split(".")[-1]))
                        for i in range(idx))
        init = init_of(live, url, m) if key != "ts" else b""
        path = str(tmp_path / ("%s-%s" % (key, hint + (".mp4" if key != "ts" else ""))))
        with open(path, "wb") as f:
            f.write(init + prev + body)
        if key == "ts":
            bad = hls.ts_problems(body)
            assert not bad, "%s: %s" % (hint, bad)
            assert_av(media.probe(path), "TS %s (with parts 0..%d before)" % (hint, idx - 1))
        else:
            info = media.probe(path)
            codecs = [s.get("codec_name") for s in info.get("streams", [])]
            assert codecs == ["h264" if kind == "video" else "aac"], \
                "%s init+%s: streams %r" % (key, hint, codecs)
        err = hls.decode_errors(path)
        assert not err, "%s: %s does not decode cleanly: %s" % (key, hint, err[-1500:])
    print("\n".join(report))


def test_streamed_part_viewers_leave_mid_part(live):
    """Viewers of a streamed part that hang up halfway are dropped: the part
    still completes for those that stay, and it and the next part are then
    served normally (nothing writes to the connections that went away)."""
    r = warm(live)
    for key in ("ts", "cmaf_video"):
        url = r[key]
        m = fresh_hint(url)
        hint = m.preload_hint["URI"]
        leavers = [Streamed(hls.join(url, hint)) for _ in range(4)]
        stayer = Streamed(hls.join(url, hint))
        for st in leavers:
            assert st.status == 200 and st.chunked, (hint, st.status, st.headers)
            st.sock.settimeout(2)
            assert st.rest or st.sock.recv(1000), "%s: no first bytes" % hint
            st.sock.close()
        body = stayer.read_all()
        assert stayer.complete and len(body) > 1000, "%s: the viewer that stayed got %d bytes" % (
            hint, len(body))
        assert hls.get_ok(hls.join(url, hint)).body == body
        m2 = hls.Media(hls.get_ok(url).text)
        nxt = Streamed(hls.join(url, m2.preload_hint["URI"]))
        nb = nxt.read_all()
        assert nxt.status == 200 and nxt.complete and nb, "%s next part: %s, %d bytes" % (
            m2.preload_hint["URI"], nxt.status, len(nb))
    assert live.server.proc.poll() is None, "weir died"


def test_streamed_part_ends_when_publisher_leaves(weir, publish):
    """A part streamed while the publisher goes away (for good: no grace
    period) ends cleanly (final chunk) with what was produced, the same
    bytes as the part then served, if at all."""
    srv = weir(config={"streams": {"gone": {"name": "gone", "source": "push://127.0.0.1",
                                            "pushgrace": 0}}})
    pub = publish(srv, "gone")
    wait_live(srv, "gone", pub)
    url = srv.http_url("/cmaf/gone/index.m3u8")
    mc = hls.Master(hls.get_ok(url, timeout=15).text)
    vurl = hls.join(url, mc.variants[0][1])
    hls.get_ok(vurl, timeout=15)
    m = fresh_hint(vurl)
    hint = m.preload_hint["URI"]
    st = Streamed(hls.join(vurl, hint))
    assert st.status == 200 and st.chunked, (hint, st.status, st.headers)
    time.sleep(0.15)
    pub.stop(signal.SIGKILL)
    body = st.read_all(deadline_s=8)
    assert st.complete, "%s: the response did not end after the publisher left (%.2f s, " \
        "%d bytes)" % (hint, st.t_end, len(body))
    assert st.t_end < 2.5, "%s: ended only after %.2f s" % (hint, st.t_end)
    assert len(body) > 0
    fr = mp4.fragments(body)
    assert fr and all(f["tfdt"] is not None for f in fr), "%s: not moof+mdat fragments" % hint
    after = hls.get(hls.join(vurl, hint))
    assert after.status in (200, 404), after
    if after.status == 200:
        assert after.body == body, "%s: %d bytes streamed, %d served after" % (
            hint, len(body), len(after.body))


def test_blocking_reload_within_one_and_a_half_parts(live):
    """Consecutive blocking reloads, each for the part after the last one
    listed (what an LL-HLS player asks for): every one is answered within
    1.5 x PART-TARGET, with that part listed, for TS and CMAF parts."""
    r = warm(live)
    report = []
    for key in ("ts", "cmaf_video", "cmaf_audio"):
        url = r[key]
        m = live.media(url)
        pt = m.part_target
        times = []
        for _ in range(8):
            nm, npart = m.next_part()
            q = "%s?_HLS_msn=%d&_HLS_part=%d" % (url, nm, npart)
            res = hls.get(q, timeout=10)
            assert res.status == 200, "%s: HTTP %s %r" % (q, res.status, res.body[:200])
            m = hls.Media(res.text)
            want = "%d.%d.%s" % (nm, npart, "ts" if key == "ts" else "m4s")
            assert want in [p["URI"] for _, _, p in m.all_parts()], \
                "%s answered without part %s:\n%s" % (q, want, res.text[-600:])
            times.append(res.elapsed)
        report.append("%s: %s" % (key, " ".join("%.3f" % t for t in times)))
        slow = [t for t in times if t >= 1.5 * pt]
        assert not slow, "%s: blocking reloads took %s s; want < 1.5 x PART-TARGET = %.3f s" % (
            key, ", ".join("%.3f" % t for t in times), 1.5 * pt)
        # They did wait for the part: on average about a part each.
        assert sum(times) / len(times) > 0.5 * pt, "%s: reloads did not block: %r" % (key, times)
    print("\n".join(report))
