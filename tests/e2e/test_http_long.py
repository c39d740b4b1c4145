"""Long live reads over HTTP, the way a viewer experiences a stream for
longer than a probe: a live encoder (ffmpeg, lavfi; frames and sound carry
a sync mark once a second, see helpers/longrun.py) publishes H.264+AAC
over RTMP or HEVC+AAC as MPEG-TS over SRT, and

1. ffmpeg decodes 20 s of media from each of /hls/<s>/index.m3u8,
   /cmaf/<s>/index.m3u8, /cmaf/<s>/index.mpd, /<s>.mp4 and /<s>.ts at the
   same time: exit 0, no error lines, ~20 s of video frames and audio
   samples, no holes or repeats in the decoded timestamps, and every sync
   mark's beep within 50 ms of its flash. ffprobe sees the right codecs.
   ffmpeg 5.1's DASH demuxer mixes segment numbers with timeline indexes
   after a manifest refresh and jumps back to the window's start, so for
   the MPD the strict checks are made on what a Python DASH follower
   fetched over the same 20 s (numbers, timeline, tfdt, decode, sync);
   ffmpeg on the MPD must still exit 0 with ~20 s of video.
2. ffmpeg -c copy of the LL-HLS CMAF playlist over 20 s: every video
   packet one frame after the last, audio packets 1024 samples apart,
   monotonic DTS, no complaints (ffmpeg's own "duplicated MOOV" aside).
3. LL-HLS TS parts (/hls/<s>/...) over 60 s of media, published at 3x
   real time (the segmenter cuts on media timestamps): every part fetched
   in order through blocking reloads; no audio or video holes; audio vs
   video drift (timestamps against sample/frame counts) and the content
   sync marks within 50 ms throughout; and each part's audio starts
   within 50 ms of its video. RTMP and SRT (MPEG-TS, whose audio ffmpeg
   sends in ~0.35 s PES bursts) ingests run side by side.

Everything is skipped under sanitizers (CI runs e2e twice; these are the
long ones)."""

import os
import statistics
import subprocess
import threading
import time

import pytest

from conftest import wait_live
from helpers import hls, media
from helpers import longrun as lr

SECONDS = 20
DRIFT_SECONDS = 60
READRATE = 3
MAX_SKEW_S = 0.05
# Timestamp jitter allowed between consecutive frames (RTMP has 1 ms
# resolution); a lost or repeated frame is 21 ms (audio) or 40 ms (video).
JITTER_S = 0.002


def sanitized(binary):
    out = subprocess.run(["nm", "-D", binary], capture_output=True, text=True).stdout
    return "__asan_init" in out or "__ubsan" in out


@pytest.fixture(scope="module", autouse=True)
def not_under_sanitizers(weir_bin):
    if sanitized(weir_bin):
        pytest.skip("long live reads: normal build only (CI time)")


def outputs(stream):
    return {
        "hls": "/hls/%s/index.m3u8" % stream,
        "cmaf": "/cmaf/%s/index.m3u8" % stream,
        "dash": "/cmaf/%s/index.mpd" % stream,
        "mp4": "/%s.mp4" % stream,
        "ts": "/%s.ts" % stream,
    }


def warm(run, stream, n=3, timeout=30.0):
    """Waits until the TS and CMAF video media playlists list >= n complete
    segments (so HLS readers start as they would on a running channel)."""
    for master in ("/hls/%s/index.m3u8", "/cmaf/%s/index.m3u8"):
        murl = run.url(master % stream)
        mst = hls.Master(hls.get_ok(murl).text)
        assert mst.variants, "no variant in %s:\n%s" % (murl, mst.text)
        url = hls.join(murl, mst.variants[0][1])
        deadline = time.monotonic() + timeout
        while True:
            m = hls.Media(hls.get_ok(url).text)
            if len(m.complete) >= n:
                break
            assert time.monotonic() < deadline, "%s: %d segments after %.0f s" % (
                url, len(m.complete), timeout)
            time.sleep(0.25)


class Results:
    pass


def read_everything(run, stream, workdir):
    """Starts the five decoders, the CMAF recorder, ffprobe on each URL and
    the DASH follower at once; waits for all."""
    res = Results()
    urls = {k: run.url(p) for k, p in outputs(stream).items()}
    res.urls = urls
    res.readers = {}
    for k, url in urls.items():
        out = os.path.join(workdir, "dec-%s.crc" % k)
        cmd = lr.decode_cmd(url, SECONDS, out, level="verbose" if k == "dash" else "info")
        res.readers[k] = lr.Reader(cmd, out, workdir, "dec-" + k, url)
    rec_out = os.path.join(workdir, "rec-cmaf.crc")
    res.recorder = lr.Reader(lr.record_cmd(urls["cmaf"], SECONDS, rec_out), rec_out, workdir,
                             "rec-cmaf", urls["cmaf"])
    res.dash = lr.DashFollower(urls["dash"], SECONDS)
    res.dash.start()
    res.probes = {}

    def probe_all():
        for k, url in urls.items():
            try:
                res.probes[k] = media.probe(url, timeout=30)
            except AssertionError as e:
                res.probes[k] = e
    pt = threading.Thread(target=probe_all, daemon=True)
    pt.start()
    t0 = time.monotonic()
    for r in list(res.readers.values()) + [res.recorder]:
        r.wait(SECONDS + 40)
    pt.join(60)
    res.dash.join(SECONDS + 30)
    res.wall = time.monotonic() - t0
    return res


@pytest.fixture(scope="module", params=["h264", "hevc"])
def outputs_run(request, weir_bin, tmp_path_factory):
    """Publishes one codec, reads everything concurrently, stops the server;
    the tests then judge the results."""
    codec = request.param
    workdir = str(tmp_path_factory.mktemp("long-" + codec))
    stream = "live+long" + codec
    run = lr.LiveRun(weir_bin, workdir, srt=(codec == "hevc"))
    res = None
    try:
        pub = run.publish(stream, codec=codec, ingest="srt" if codec == "hevc" else "rtmp")
        wait_live(run.server, stream, pub, timeout=30)
        warm(run, stream)
        res = read_everything(run, stream, workdir)
    finally:
        problems = run.close()
    if problems:
        print("---- %s ----\n%s" % (run.server.log_path, run.server.log_tail(80)))
    res.codec = codec
    res.problems = problems
    res.workdir = workdir
    return res


# -- 1. five outputs decode cleanly -------------------------------------------------


def check_decoder(k, r, strict=True):
    """Problems of one decoder's run (strings)."""
    bad = []
    log = r.log
    if not strict:
        # only what was decoded before ffmpeg's DASH client went back
        cut = lr.dash_rerequest_line(log)
        if cut is not None:
            print("%s: ffmpeg's DASH demuxer re-requested old segments at log line %d; %d "
                  "error line(s) after it not counted" % (
                      k, cut, len(lr.log_lines("\n".join(log.splitlines()[cut:]), "error"))))
            log = "\n".join(log.splitlines()[:cut])
    errs = lr.log_lines(log, "error")
    if r.rc != 0 or errs:
        bad.append("%s: rc %s, %d error line(s): %s" % (k, r.rc, len(errs), errs[:8]))
    v, a = lr.of_type(r.streams, "video"), lr.of_type(r.streams, "audio")
    if not v or not a:
        return bad + ["%s: decoded streams %r" % (k, {i: s.get("type")
                                                       for i, s in r.streams.items()})]
    vsec = len(v["rows"]) / lr.FPS
    asec = sum(d for _, _, d in a["rows"]) * a["tb"]
    hi = SECONDS + 0.1 if strict else 1e9
    if not SECONDS - 1.0 <= vsec <= hi:
        bad.append("%s: %.2f s of video frames decoded (%d), want ~%d" % (
            k, vsec, len(v["rows"]), SECONDS))
    if not SECONDS - 1.0 <= asec <= (SECONDS + 0.1 if strict else 1e9):
        bad.append("%s: %.2f s of audio samples decoded, want ~%d" % (k, asec, SECONDS))
    if not strict:
        return bad
    for kind, st, step in (("video", v, 1.0 / lr.FPS), ("audio", a, lr.AUDIO_FRAME / lr.RATE)):
        ticks = round(step / st["tb"])
        # RTMP carries milliseconds: audio stamps may be 1/3 ms off the grid
        s = lr.steps([p for _, p, _ in st["rows"]], ticks, tol=max(1, round(JITTER_S / st["tb"])))
        if s["gaps"] or s["dups"]:
            bad.append("%s: %s pts holes %d %r, repeats/overlaps %d %r (step %d ticks)" % (
                k, kind, len(s["gaps"]), s["gaps"][:4], len(s["dups"]), s["dups"][:4], ticks))
    fl, on = lr.sync_marks(r.log)
    offs = lr.av_offsets(fl, on)
    worst = [(t, o) for t, o in offs if o is None or abs(o) >= MAX_SKEW_S]
    if len(offs) < SECONDS - 3 or worst:
        bad.append("%s: %d sync marks, out of sync (flash s, beep - flash s): %r" % (
            k, len(offs), worst[:8]))
    return bad


def codecs_of(info):
    st = media.streams_by_type(info)
    return ([s.get("codec_name") for s in st.get("video", [])],
            [s.get("codec_name") for s in st.get("audio", [])])


def test_outputs_decode_20s_cleanly(outputs_run):
    """Five outputs read at once for 20 s of media: clean full decodes,
    ~20 s worth, continuous, in sync; right codecs; DASH segment by segment."""
    res = outputs_run
    assert not res.problems, "\n".join(res.problems)
    want = (["h264" if res.codec == "h264" else "hevc"], ["aac"])
    bad = []
    for k, info in res.probes.items():
        if isinstance(info, Exception) or codecs_of(info) != want:
            bad.append("ffprobe %s: %r (want %r)" % (k, info if isinstance(info, Exception)
                                                   else codecs_of(info), want))
    for k, r in res.readers.items():
        # ffmpeg's DASH client restarts at the window's start on a manifest
        # refresh (see the module docstring): only exit and amount for it.
        bad += check_decoder(k, r, strict=(k != "dash"))
    d = res.dash
    if d.error:
        bad.append("DASH follower: %r" % d.error)
    else:
        bad += ["DASH: " + p for p in d.problems]
        bad += check_dash(d, res.workdir)
    for k, r in res.readers.items():
        offs = [o for _, o in lr.av_offsets(*lr.sync_marks(r.log)) if o is not None]
        print("%s %s: beep - flash over %d marks: %s" % (
            res.codec, k, len(offs), "%.4f..%.4f s" % (min(offs), max(offs)) if offs else "-"))
    walls = {k: "%.1f" % r.elapsed for k, r in res.readers.items()}
    print("%s: readers' wall clock %s s, all %.1f s" % (res.codec, walls, res.wall))
    assert not bad, "\n".join(bad)


def check_dash(d, workdir):
    kinds = {st["type"]: rid for rid, st in d.reps.items()}
    if set(kinds) != {"video", "audio"}:
        return ["DASH: representations %r" % kinds]
    bad, paths = [], {}
    for kind, rid in kinds.items():
        st = d.reps[rid]
        span = sum(dd for _, _, dd, _ in st["segs"]) / st["timescale"]
        if span < SECONDS - 4:
            bad.append("DASH %s: only %.1f s of segments fetched in %d s" % (kind, span, SECONDS))
        paths[kind] = d.save(rid, os.path.join(workdir, "dash-%s.mp4" % kind))
    errs, fl, on = lr.sync_scan(paths["video"], extra_in=[paths["audio"]])
    print("DASH follower: %s segments; beep - flash %r" % (
        {k: len(d.reps[rid]["segs"]) for k, rid in kinds.items()},
        sorted(round(o, 4) for _, o in lr.av_offsets(fl, on) if o is not None)[::4]))
    if errs:
        bad.append("DASH init+segments do not decode cleanly: %r" % errs[:8])
    offs = lr.av_offsets(fl, on)
    worst = [(t, o) for t, o in offs if o is None or abs(o) >= MAX_SKEW_S]
    if len(offs) < SECONDS - 6 or worst:
        bad.append("DASH: %d sync marks, out of sync: %r" % (len(offs), worst[:8]))
    return bad


# -- 2. LL-HLS CMAF recording has no holes -------------------------------------------


def test_llhls_cmaf_record_no_gaps(outputs_run):
    """ffmpeg -i /cmaf/<s>/index.m3u8 -t 20 -c copy: no warnings, video
    packets one frame apart (sorted pts), audio 1024 samples apart,
    strictly increasing DTS, ~20 s of each."""
    res = outputs_run
    assert not res.problems, "\n".join(res.problems)
    r = res.recorder
    warns = [line for line in lr.log_lines(r.log, "warning")
             if "duplicated MOOV Atom" not in line]  # ffmpeg re-reads the init per reload
    errs = lr.log_lines(r.log, "error")
    assert r.rc == 0 and not errs and not warns, "recording rc %s; errors %r; warnings %r" % (
        r.rc, errs[:8], warns[:8])
    v, a = lr.of_type(r.streams, "video"), lr.of_type(r.streams, "audio")
    assert v and a, "recorded streams: %r" % {i: s.get("type") for i, s in r.streams.items()}
    figures = {}
    for kind, st, step in (("video", v, 1.0 / lr.FPS), ("audio", a, lr.AUDIO_FRAME / lr.RATE)):
        ticks = round(step / st["tb"])
        dts = [x for x, _, _ in st["rows"]]
        # -t cuts in decode order: B-frames presented before the last
        # packet's pts may be missing after the last dts
        pts = sorted(p for _, p, _ in st["rows"] if p <= dts[-1])
        nonmono = [(x, y) for x, y in zip(dts, dts[1:]) if y <= x]
        s = lr.steps(pts, ticks)
        span = (pts[-1] - pts[0] + ticks) * st["tb"]
        figures[kind] = (len(pts), len(s["gaps"]), len(s["dups"]), span)
        assert not nonmono, "%s DTS not increasing: %r" % (kind, nonmono[:6])
        assert not s["gaps"] and not s["dups"], \
            "%s: %d holes %r, %d repeats/overlaps %r (step %d ticks of %g s)" % (
                kind, len(s["gaps"]), s["gaps"][:6], len(s["dups"]), s["dups"][:6], ticks,
                st["tb"])
        assert SECONDS - 1.0 <= span <= SECONDS + 0.5, "%s: %.2f s recorded" % (kind, span)
    print("%s CMAF recording (packets, holes, repeats, seconds): %r" % (res.codec, figures))


# -- 3. LL-HLS TS parts: A/V drift over 60 s ------------------------------------------


INGESTS = ("rtmp", "srt")


@pytest.fixture(scope="module")
def drift_runs(weir_bin, tmp_path_factory):
    """Both ingests at 3x real time into one weir; one follower per stream
    fetches 60 s of TS parts. Returns {ingest: analysis dict}."""
    workdir = str(tmp_path_factory.mktemp("long-drift"))
    run = lr.LiveRun(weir_bin, workdir, srt=True)
    out, errors = {}, {}
    try:
        streams = {ing: "live+drift" + ing for ing in INGESTS}
        pubs = {ing: run.publish(s, codec="h264", ingest=ing, readrate=READRATE)
                for ing, s in streams.items()}
        for ing, s in streams.items():
            wait_live(run.server, s, pubs[ing], timeout=30)
        got = {}

        def follow(ing):
            try:
                murl = run.url("/hls/%s/index.m3u8" % streams[ing])
                mst = hls.Master(hls.get_ok(murl).text)
                url = hls.join(murl, mst.variants[0][1])
                got[ing] = lr.follow_ts_parts(url, DRIFT_SECONDS,
                                              timeout=DRIFT_SECONDS / READRATE + 40)
            except BaseException as e:
                errors[ing] = e
        ths = [threading.Thread(target=follow, args=(ing,), daemon=True) for ing in INGESTS]
        for t in ths:
            t.start()
        for t in ths:
            t.join(DRIFT_SECONDS / READRATE + 60)
    finally:
        problems = run.close()
    if problems:
        print("---- %s ----\n%s" % (run.server.log_path, run.server.log_tail(80)))
    for ing in INGESTS:
        if ing in got:
            out[ing] = analyse_parts(got[ing], os.path.join(workdir, "parts-%s.ts" % ing))
        else:
            out[ing] = {"error": errors.get(ing, "follower did not finish")}
        out[ing]["problems"] = problems
    return out


def analyse_parts(parts, path):
    offsets, data = [], b""
    bad_ts = []
    for name, body in parts:
        bad = hls.ts_problems(body)
        if bad:
            bad_ts.append((name, bad))
        offsets.append(len(data))
        data += body
    with open(path, "wb") as f:
        f.write(data)
    pk = lr.probe_ts_packets(path)
    per = lr.split_by_part(pk, offsets)
    vstep, astep = 90000 // lr.FPS, 90000 * lr.AUDIO_FRAME // lr.RATE
    v = [p["pts"] for p in pk if p["type"] == "video"]
    vd = [p["dts"] for p in pk if p["type"] == "video"]
    a = [p["pts"] for p in pk if p["type"] == "audio"]
    res = {"parts": len(parts), "bad_ts": bad_ts, "names": [n for n, _ in parts],
           "seconds": (vd[-1] - vd[0]) / 90000 if vd else 0,
           "video_steps": lr.steps(vd, vstep, tol=int(JITTER_S * 90000)),
           "audio_steps": lr.steps(a, astep, tol=int(JITTER_S * 90000)),
           "v_nonmono": sum(1 for x, y in zip(vd, vd[1:]) if y <= x)}
    # running drift: each track's timestamps against its frame/sample count,
    # compared at every part's end (0 when nothing is lost, added or restamped)
    drift, nv, na = [], 0, 0
    for i, pp in enumerate(per):
        nv += len(pp["video"])
        na += len(pp["audio"])
        if not pp["video"] or not pp["audio"] or not v or not a:
            continue
        v_err = (max(pp["video"]) + vstep - v[0]) - nv * vstep
        a_err = (max(pp["audio"]) + astep - a[0]) - na * astep
        drift.append((res["names"][i], (a_err - v_err) / 90000.0))
    res["drift"] = drift
    # per part: first audio vs first video presentation time
    res["skew"] = [(res["names"][i], (min(pp["audio"]) - min(pp["video"])) / 90000.0
                    if pp["audio"] and pp["video"] else None,
                    len(pp["video"]), len(pp["audio"])) for i, pp in enumerate(per)]
    errs, fl, on = lr.sync_scan(path)
    res["decode_errors"] = errs
    res["sync"] = lr.av_offsets(fl, on)
    return res


@pytest.mark.parametrize("ingest", INGESTS)
def test_ts_parts_no_drift_60s(drift_runs, ingest):
    """60 s of consecutive TS parts: clean TS, no holes, |A/V drift| < 50 ms
    by timestamps and by the content's sync marks throughout."""
    r = drift_runs[ingest]
    assert not r["problems"], "\n".join(r["problems"])
    assert "error" not in r, "following the TS parts failed: %r" % r.get("error")
    assert not r["bad_ts"], "parts that are not clean TS: %r" % r["bad_ts"][:5]
    assert r["seconds"] >= DRIFT_SECONDS - 1, "%d parts hold %.1f s of video" % (
        r["parts"], r["seconds"])
    assert not r["decode_errors"], "the parts joined do not decode cleanly: %r" % (
        r["decode_errors"][:8])
    vs, as_ = r["video_steps"], r["audio_steps"]
    assert not r["v_nonmono"] and not vs["gaps"] and not vs["dups"], \
        "video DTS: %d holes %r, %d repeats %r, %d not increasing" % (
            len(vs["gaps"]), vs["gaps"][:5], len(vs["dups"]), vs["dups"][:5], r["v_nonmono"])
    assert not as_["gaps"] and not as_["dups"], "audio PTS: %d holes %r, %d overlaps %r" % (
        len(as_["gaps"]), as_["gaps"][:5], len(as_["dups"]), as_["dups"][:5])
    worst = max(r["drift"], key=lambda x: abs(x[1]))
    assert abs(worst[1]) < MAX_SKEW_S, "A/V drift %.3f s at part %s" % (worst[1], worst[0])
    offs = [o for _, o in r["sync"]]
    missing = sum(1 for o in offs if o is None)
    assert len(offs) >= DRIFT_SECONDS - 3 and not missing, \
        "%d sync marks (%d flashes without a beep)" % (len(offs), missing)
    bad = [(t, o) for t, o in r["sync"] if abs(o) >= MAX_SKEW_S]
    assert not bad, "beep vs flash out by >= 50 ms: %r" % bad[:8]
    print("%s: %d parts, %.1f s; drift max %.4f s; sync beep-flash %.4f..%.4f s (median "
          "%.4f); holes v%d a%d" % (ingest, r["parts"], r["seconds"], worst[1], min(offs),
                                    max(offs), statistics.median(offs), len(vs["gaps"]),
                                    len(as_["gaps"])))


@pytest.mark.parametrize("ingest", ["rtmp", "srt"])
def test_ts_parts_audio_with_video(drift_runs, ingest):
    """Every TS part carries audio and video, the part's first audio within
    50 ms of its first video: a player at the live edge has both tracks up
    to the same instant (MistServer 3.1's reverted TS parts did not)."""
    r = drift_runs[ingest]
    assert "error" not in r, "following the TS parts failed: %r" % r.get("error")
    skews = r["skew"]
    known = [s for _, s, _, _ in skews if s is not None]
    print("%s: per-part first audio - first video: min %.3f max %.3f median %.3f s; %d of %d "
          "parts without audio" % (ingest, min(known), max(known), statistics.median(known),
                                   len(skews) - len(known), len(skews)))
    bad = [x for x in skews if x[1] is None or abs(x[1]) >= MAX_SKEW_S]
    assert not bad, "%d of %d parts (name, audio - video s, video frames, audio frames): %r" % (
        len(bad), len(skews), bad[:10])
