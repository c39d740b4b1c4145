"""Many viewers, publisher disconnect, a second publisher (issue items c, e, f)."""

import signal
import socket
import time

import pytest

from conftest import tracks_of, wait_live
from helpers import media


def test_twenty_viewers(weir, publish, viewer):
    """c) 20 simultaneous viewers, half RTMP, half HTTP-FLV, each gets >= 100
    video frames in 5 s of media."""
    s = weir()
    pub = publish(s, "live+many")
    wait_live(s, "live+many", pub)
    vs = []
    for i in range(20):
        url = s.rtmp_play_url("live+many") if i % 2 else s.flv_url("live+many")
        vs.append(viewer(url, seconds=5, name="v%02d" % i))
    results = []
    deadline = time.monotonic() + 60
    for v in vs:
        rc = v.wait(max(1.0, deadline - time.monotonic()))
        results.append((v.url, rc, v.count("video"), v.count("audio")))
    bad = [r for r in results if r[1] != 0 or r[2] < 100 or r[3] < 50]
    assert not bad, "viewers with exit code != 0 or too few frames (url, rc, video, audio):\n" + \
        "\n".join(map(repr, bad)) + "\nfirst failing viewer log:\n" + \
        [v for v in vs if (v.url, v.proc.returncode) == bad[0][:2]][0].log()[-2000:]
    assert pub.alive(), "publisher died: " + pub.log()[-2000:]


def check_stream_info(info):
    tracks = tracks_of(info)
    assert tracks, "json_ info has no meta.tracks: %r" % (info,)
    for t in tracks:
        assert "codec" in t and "type" in t, "track without codec/type: %r" % (t,)
    video = [t for t in tracks if t.get("type") == "video"]
    audio = [t for t in tracks if t.get("type") == "audio"]
    assert len(video) == 1 and len(audio) == 1, "tracks: %r" % (tracks,)
    v, a = video[0], audio[0]
    assert str(v["codec"]).upper() == "H264", v
    assert (v.get("width"), v.get("height")) == (1280, 720), v
    assert str(a["codec"]).upper() == "AAC", a
    assert a.get("rate") == 44100 and a.get("channels") == 1, a
    src = info.get("source")
    assert isinstance(src, list) and src, "json_ info has no source[]: %r" % (info,)
    for e in src:
        assert isinstance(e, dict) and e.get("url") and e.get("type"), "bad source entry %r" % (e,)
    assert not info.get("error"), info


@pytest.mark.parametrize("how", ["graceful", "abrupt"])
def test_publisher_disconnect(weir, publish, viewer, how):
    """e) viewers end cleanly when the publisher leaves; json_ says offline
    after the grace period; the name can be published again."""
    s = weir()
    pub = publish(s, "live+e")
    wait_live(s, "live+e", pub)
    check_stream_info(s.stream_info("live+e"))
    # No I/O timeout: ffmpeg would end a stalled read "normally" and hide a
    # server that never closes the viewers.
    vs = [viewer(s.flv_url("live+e"), name="flv%d" % i, rw_timeout=False) for i in range(3)]
    rv = viewer(s.rtmp_play_url("live+e"), name="rtmp", rw_timeout=False)
    for v in vs + [rv]:
        assert v.wait_frames(30, 15), "viewer %s got %d frames:\n%s" % (
            v.url, v.count(), v.log()[-2000:])

    t0 = time.monotonic()
    pub.stop(signal.SIGTERM if how == "graceful" else signal.SIGKILL)
    for v in vs + [rv]:
        rc = v.wait(max(1.0, 20 - (time.monotonic() - t0)))
        assert rc is not None, "viewer %s still running %.1f s after the publisher left" % (
            v.url, time.monotonic() - t0)
        if v in vs:
            assert rc == 0, "HTTP-FLV viewer exit code %s:\n%s" % (rc, v.log()[-2000:])

    info = None
    while time.monotonic() - t0 < 20:
        info = s.stream_info("live+e")
        if info.get("error") == "Stream is offline":
            break
        time.sleep(0.25)
    assert info.get("error") == "Stream is offline", \
        "json_ info 20 s after the publisher left: %r" % (info,)

    # The same name can be published again and plays.
    pub2 = publish(s, "live+e")
    wait_live(s, "live+e", pub2)
    v2 = viewer(s.flv_url("live+e"), seconds=2, name="again")
    assert v2.wait(20) == 0 and v2.count() >= 40, "viewer after republish got %d frames:\n%s" % (
        v2.count(), v2.log()[-2000:])


def test_second_publisher_refused(weir, publish, viewer):
    """f) a second publisher to a live stream is refused; the first keeps going."""
    s = weir()
    p1 = publish(s, "live+f", clip="720p")
    wait_live(s, "live+f", p1)
    p2 = publish(s, "live+f", clip="360p")
    rc = p2.wait(15)
    assert rc is not None, "second publisher still running after 15 s:\n" + p2.log()[-2000:]
    assert rc != 0, "second publisher exited 0 (it should have been refused):\n" + p2.log()
    assert p1.alive(), "first publisher died: " + p1.log()[-2000:]
    v = viewer(s.flv_url("live+f"), seconds=3)
    assert v.wait(20) == 0 and v.count() >= 60, "viewer got %d frames:\n%s" % (
        v.count(), v.log()[-2000:])
    info = media.probe(s.flv_url("live+f"))
    vid = media.streams_by_type(info)["video"][0]
    assert (vid["width"], vid["height"]) == (1280, 720), "the second publisher's video leaked in"
    assert p1.alive()


def test_stalled_viewer_does_not_block_others(weir, publish, viewer):
    """A viewer that stops reading must not slow the publisher or other
    viewers (bounded per-viewer queues)."""
    s = weir()
    pub = publish(s, "live+slow")
    wait_live(s, "live+slow", pub)
    stalled = []
    for url_path in ("/live+slow.flv",):
        for _ in range(3):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", s.http_port))
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % url_path.encode())
            stalled.append(sock)  # never read from
    v = viewer(s.flv_url("live+slow"), name="healthy")
    assert v.wait_frames(30, 15), v.log()[-2000:]
    time.sleep(3)  # the stalled sockets' buffers are full by now
    t0 = time.monotonic()
    time.sleep(8)
    n = v.count(since=t0)
    assert n >= 8 * 30 * 0.8, "a healthy viewer got %d frames in 8 s next to stalled ones" % n
    assert pub.alive(), pub.log()[-2000:]
    info = s.stream_info("live+slow")
    assert not info.get("error"), info
    for sock in stalled:
        sock.close()


def test_push_policy(weir, publish):
    """push:// sources decide who may publish: a host allow-list (localhost
    not on it is refused) or a password given as the RTMP application."""
    s = weir(config={"streams": {
        "locked": {"name": "locked", "source": "push://10.9.8.7"},
        "pw": {"name": "pw", "source": "push://@s3cret"},
        "file": {"name": "file", "source": "/nonexistent/file.mp4"},
    }})
    refused = [publish(s, "locked"), publish(s, "pw", app="wrong"), publish(s, "file"),
               publish(s, "nosuchstream")]
    for p in refused:
        rc = p.wait(15)
        assert rc is not None and rc != 0, "publish to %s was accepted:\n%s" % (p.url, p.log())
    ok = publish(s, "pw", app="s3cret")
    wait_live(s, "pw", ok)
    assert ok.alive()
