"""RTMP publish with ffmpeg, play back over RTMP and HTTP-FLV (issue items a, b, d)."""

import json
import os
import subprocess

from conftest import wait_live
from helpers import media


def assert_av(info, url, width, height, rate):
    st = media.streams_by_type(info)
    v, a = st.get("video", []), st.get("audio", [])
    assert len(v) == 1 and len(a) == 1, "%s: expected 1 video + 1 audio stream, got %r" % (
        url, [(s.get("codec_type"), s.get("codec_name")) for s in info.get("streams", [])])
    v, a = v[0], a[0]
    assert v.get("codec_name") == "h264", "%s: video codec %r" % (url, v.get("codec_name"))
    assert (v.get("width"), v.get("height")) == (width, height), "%s: video %sx%s" % (
        url, v.get("width"), v.get("height"))
    assert a.get("codec_name") == "aac", "%s: audio codec %r" % (url, a.get("codec_name"))
    assert int(a.get("sample_rate", 0)) == rate, "%s: audio rate %r" % (url, a.get("sample_rate"))


def probe_all(urls, timeout=30):
    """ffprobe several URLs concurrently; returns {url: info}."""
    procs = {}
    for u in urls:
        cmd = [media.FFPROBE, "-v", "error", "-rw_timeout", media.RW_TIMEOUT_US,
               "-show_streams", "-show_format", "-of", "json", u]
        procs[u] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
    out = {}
    for u, p in procs.items():
        try:
            so, se = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs.values():
                q.kill()
            raise AssertionError("ffprobe %s hung for %ss" % (u, timeout))
        assert p.returncode == 0, "ffprobe %s failed: %s" % (u, se.decode(errors="replace"))
        out[u] = json.loads(so)
    return out


def test_publish_and_probe_rtmp_and_flv(weir, publish):
    """a) ffprobe on RTMP play and HTTP-FLV reports h264 1280x720 + aac 44100 Hz."""
    s = weir()
    pub = publish(s, "live+x")
    wait_live(s, "live+x", pub)
    urls = [s.rtmp_play_url("live+x"), s.flv_url("live+x")]
    for u, info in probe_all(urls).items():
        assert_av(info, u, 1280, 720, 44100)
    assert pub.alive(), "publisher died: " + pub.log()[-2000:]


def test_record_ten_seconds(weir, publish, tmp_path):
    """b) ffmpeg -t 10 -c copy from both URLs: ~10 s files, DTS never decreasing."""
    s = weir()
    pub = publish(s, "live+rec")
    wait_live(s, "live+rec", pub)
    jobs = {}
    for kind, url in (("rtmp", s.rtmp_play_url("live+rec")), ("flv", s.flv_url("live+rec"))):
        out = str(tmp_path / ("rec-%s.flv" % kind))
        cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning",
               "-rw_timeout", media.RW_TIMEOUT_US, "-i", url, "-t", "10", "-c", "copy",
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
        err = err.decode(errors="replace")
        assert p.returncode == 0, "ffmpeg recording %s failed: %s" % (url, err[-2000:])
        # ffmpeg repairs bad input timestamps when muxing, but says so.
        for bad in ("Non-monotonous DTS", "non monotonically increasing dts",
                    "Invalid data found", "corrupt"):
            assert bad.lower() not in err.lower(), "%s: ffmpeg complained %r:\n%s" % (
                url, bad, err[-2000:])
        info = media.probe(out)
        dur = float(info["format"]["duration"])
        assert abs(dur - 10.0) <= 0.5, "%s: recorded duration %.3f s, want 10±0.5" % (url, dur)
        assert_av(info, out, 1280, 720, 44100)
        pk = media.packets(out)
        nv = sum(1 for _, k, _ in pk if k == "video")
        assert nv >= 280, "%s: only %d video packets in 10 s at 30 fps" % (url, nv)
        reg = media.dts_regressions(pk)
        assert not reg, "%s: DTS went backwards (stream, prev, cur): %r" % (url, reg[:10])
        assert os.path.getsize(out) > 100000
    assert pub.alive(), "publisher died: " + pub.log()[-2000:]


def test_two_streams_do_not_mix(weir, publish):
    """d) live+a (1280x720, 44100 Hz) and live+b (640x360, 48000 Hz) at once."""
    s = weir()
    pa = publish(s, "live+a", clip="720p")
    pb = publish(s, "live+b", clip="360p")
    wait_live(s, "live+a", pa)
    wait_live(s, "live+b", pb)
    want = {
        s.rtmp_play_url("live+a"): (1280, 720, 44100),
        s.flv_url("live+a"): (1280, 720, 44100),
        s.rtmp_play_url("live+b"): (640, 360, 48000),
        s.flv_url("live+b"): (640, 360, 48000),
    }
    for u, info in probe_all(list(want)).items():
        assert_av(info, u, *want[u])
    assert pa.alive() and pb.alive()
