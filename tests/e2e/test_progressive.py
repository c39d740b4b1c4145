"""Progressive outputs (.mp4/.fmp4, .ts, .aac, .mp3, .flv track selection)
and MP4 over WebSocket, checked with ffprobe/ffmpeg and a raw WebSocket
client."""

import http.client
import json
import os
import socket
import threading
import time

import pytest

from conftest import wait_live
from helpers import media
from helpers.ws import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Closed, HandshakeError,
                        WsClient, boxes, parse_close)


def http_head(server, path, method="GET", read=4096, timeout=10.0):
    """(status, headers dict lower-cased, first bytes of the body)."""
    c = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        body = r.read(read) if method != "HEAD" else b""
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def live(weir, publish, stream, clip="720p"):
    s = weir()
    pub = publish(s, stream, clip=clip)
    wait_live(s, stream, pub)
    return s, pub


def one(streams, kind):
    got = streams.get(kind, [])
    assert len(got) == 1, "expected one %s stream, got %r" % (kind, got)
    return got[0]


def check_av(info, width=1280, height=720, rate=44100):
    st = media.streams_by_type(info)
    v, a = one(st, "video"), one(st, "audio")
    assert v["codec_name"] == "h264" and (v["width"], v["height"]) == (width, height), v
    assert a["codec_name"] == "aac" and int(a["sample_rate"]) == rate, a


def test_probe_every_output(weir, publish):
    s, _ = live(weir, publish, "live+p")
    for ext in ("mp4", "fmp4", "ts"):
        check_av(media.probe(s.http_url("live+p.%s" % ext)))
    st = media.streams_by_type(media.probe(s.http_url("live+p.flv?video=none")))
    assert "video" not in st, st
    assert one(st, "audio")["codec_name"] == "aac"
    st = media.streams_by_type(media.probe(s.http_url("live+p.aac")))
    assert "video" not in st and int(one(st, "audio")["sample_rate"]) == 44100, st
    st = media.streams_by_type(media.probe(s.http_url("live+p.mp4?audio=none")))
    assert "audio" not in st and one(st, "video")["codec_name"] == "h264", st
    st = media.streams_by_type(media.probe(s.http_url("live+p.ts?video=none")))
    assert "video" not in st and one(st, "audio")["codec_name"] == "aac", st


def test_http_surface(weir, publish):
    s, _ = live(weir, publish, "live+h", clip="360p")
    types = {"mp4": "video/mp4", "fmp4": "video/mp4", "ts": "video/mp2t", "aac": "audio/aac"}
    for ext, ctype in types.items():
        status, hdr, body = http_head(s, "/live+h.%s" % ext)
        assert status == 200 and hdr.get("content-type") == ctype, (ext, status, hdr)
        assert body, ext
        status, hdr, body = http_head(s, "/live+h.%s" % ext, method="HEAD")
        assert status == 200 and hdr.get("content-type") == ctype and not body, (ext, hdr)
        status, _, _ = http_head(s, "/live+h.%s" % ext, method="POST")
        assert status == 405, (ext, status)
        status, _, body = http_head(s, "/nosuch.%s" % ext)
        assert status == 404 and b"Stream is offline" in body, (ext, status, body)
    status, _, body = http_head(s, "/live+h.mp3")
    assert status == 404 and b"no MP3 track" in body, (status, body)
    status, _, body = http_head(s, "/live+h.mp4")
    assert boxes(body[:4096])[:1] == ["ftyp"], boxes(body)
    status, _, body = http_head(s, "/live+h.ts", read=188 * 3)
    assert body[0] == 0x47 and body[188] == 0x47, body[:8]
    status, _, body = http_head(s, "/live+h.aac", read=2)
    assert body[0] == 0xFF and body[1] & 0xF0 == 0xF0, body


def test_mp3_stream(weir, clips, tmp_path):
    """A stream with MP3 audio: .mp3 carries it, .aac is 404, MP4 and TS
    carry H.264 + MP3."""
    clip = str(tmp_path / "mp3clip.flv")
    r = media.run([media.FFMPEG, "-nostdin", "-v", "error", "-y", "-i", clips["360p"],
                   "-c:v", "copy", "-c:a", "libmp3lame", "-ar", "44100", "-b:a", "128k",
                   "-f", "flv", clip], 120)
    assert r.returncode == 0, r.stderr[-2000:]
    s = weir()
    pub = media.Publisher(clip, s.rtmp_publish_url("live+m"), str(tmp_path), name="pub-mp3")
    try:
        wait_live(s, "live+m", pub)
        st = media.streams_by_type(media.probe(s.http_url("live+m.mp3")))
        a = one(st, "audio")
        assert "video" not in st and a["codec_name"] == "mp3", st
        assert int(a["sample_rate"]) == 44100, a
        status, hdr, body = http_head(s, "/live+m.mp3", read=4)
        assert status == 200 and hdr["content-type"] == "audio/mpeg", hdr
        assert body[0] == 0xFF and body[1] & 0xE0 == 0xE0, body
        status, _, body = http_head(s, "/live+m.aac")
        assert status == 404 and b"no AAC track" in body, (status, body)
        for ext in ("mp4", "ts"):
            st = media.streams_by_type(media.probe(s.http_url("live+m.%s" % ext)))
            assert one(st, "video")["codec_name"] == "h264", (ext, st)
            assert one(st, "audio")["codec_name"] == "mp3", (ext, st)
    finally:
        pub.stop()


@pytest.mark.parametrize("path", [
    "/live+s.mp4?video=none&audio=none",
    "/live+s.mp4?video=1920x1080&audio=none",
    "/live+s.ts?video=5&audio=none",
    "/live+s.fmp4?audio=mp3&video=none",
    "/live+s.flv?video=none&audio=none",
    "/live+s.flv?video=%3Cfoo",
    "/live+s.aac?audio=7",
    "/live+s.mp4?video=%3Cxyz",
])
def test_selector_matching_nothing(weir, publish, path):
    s, _ = live(weir, publish, "live+s", clip="360p")
    status, _, body = http_head(s, path)
    assert status == 400, (path, status, body)
    assert body.strip(), "400 without a reason"


def test_mp4_copy_five_seconds(weir, publish, tmp_path):
    s, _ = live(weir, publish, "live+c")
    out = str(tmp_path / "out.mp4")
    r = media.run([media.FFMPEG, "-nostdin", "-v", "error", "-rw_timeout", media.RW_TIMEOUT_US,
                   "-i", s.http_url("live+c.mp4"), "-t", "5", "-c", "copy", "-y", out], 60)
    assert r.returncode == 0, r.stderr[-2000:]
    info = media.probe(out)
    check_av(info)
    dur = float(info["format"]["duration"])
    assert abs(dur - 5.0) <= 0.5, "duration %.3f" % dur
    pk = media.packets(out)
    assert not media.dts_regressions(pk), media.dts_regressions(pk)[:5]
    assert sum(1 for p in pk if p[1] == "video") >= 130, len(pk)


# ---------------------------------------------------------------- WebSocket


def read_ws(c, seconds, limit=None):
    """Messages for `seconds`: ([(op, payload)], concatenated binary)."""
    msgs, data = [], b""
    end = time.monotonic() + seconds
    while time.monotonic() < end and (limit is None or len(msgs) < limit):
        try:
            op, p = c.recv_message(timeout=max(0.1, end - time.monotonic()))
        except socket.timeout:
            break
        msgs.append((op, p))
        if op == OP_BINARY:
            data += p
        if op == OP_CLOSE:
            break
    return msgs, data


def texts(msgs, kind=None):
    out = []
    for op, p in msgs:
        if op == OP_TEXT:
            j = json.loads(p)
            if kind is None or j.get("type") == kind:
                out.append(j)
    return out


def media_seconds(path):
    """Span of the video dts in a file, seconds (first to last packet)."""
    info = media.probe(path)
    tb = {st["index"]: st["time_base"] for st in info["streams"]}
    pk = [p for p in media.packets(path) if p[1] == "video" and p[2] is not None]
    num, den = map(int, tb[pk[0][0]].split("/"))
    return (pk[-1][2] - pk[0][2]) * num / den


def test_ws_mp4_stream(weir, publish, tmp_path):
    s, _ = live(weir, publish, "live+w")
    c = WsClient(s.http_port, "/live+w.mp4")
    op, p = c.recv_message()
    assert op == OP_TEXT, (op, p[:100])
    cd = json.loads(p)
    assert cd["type"] == "codec_data", cd
    assert cd["codecs"][0].startswith("avc1.") and cd["codecs"][1] == "mp4a.40.2", cd
    assert cd["tracks"] == [0, 1] and cd["data"]["codecs"] == cd["codecs"], cd
    op, init = c.recv_message()
    assert op == OP_BINARY and boxes(init) == ["ftyp", "moov"], boxes(init)
    msgs, data = read_ws(c, 6)
    frags = [p for op, p in msgs if op == OP_BINARY]
    assert len(frags) >= 10 and all(boxes(f) == ["moof", "mdat"] for f in frags), \
        [boxes(f) for f in frags[:5]]
    times = texts(msgs, "on_time")
    assert len(times) >= 4, texts(msgs)
    d = times[-1]["data"]
    assert d["begin"] <= d["current"] <= d["end"] + 1000, d
    path = str(tmp_path / "ws.mp4")
    with open(path, "wb") as f:
        f.write(init + data)
    check_av(media.probe(path))
    secs = media_seconds(path)
    assert 4.5 <= secs <= 12, "media span %.2f s in 6 s of reading" % secs

    # control messages
    c.send_json({"type": "request_codec_data"})
    c.send(OP_PING, b"hi")
    c.send_json({"type": "set_speed", "play_rate": 2})
    c.send_json({"type": "seek", "seek_time": 1234})
    c.send_json({"type": "seek", "seek_time": "live"})
    msgs, _ = read_ws(c, 3)
    assert (OP_PONG, b"hi") in msgs, [m for m in msgs if m[0] != OP_BINARY]
    types = [j["type"] for j in texts(msgs)]
    for t in ("codec_data", "set_speed", "error", "seek", "on_time"):
        assert t in types, (t, types)
    assert "live only" in texts(msgs, "error")[0]["data"]

    # hold: no more media; play: media again
    c.send_json({"type": "hold"})
    msgs, _ = read_ws(c, 1.5)
    assert texts(msgs, "pause"), texts(msgs)
    msgs, _ = read_ws(c, 2)
    assert not [m for m in msgs if m[0] == OP_BINARY], "media while held"
    c.send_json({"type": "play"})
    msgs, _ = read_ws(c, 2)
    assert [m for m in msgs if m[0] == OP_BINARY], "no media after play"

    # track switch: audio only, announced, new init
    c.send_json({"type": "tracks", "video": "none"})
    msgs, data = read_ws(c, 3)
    t = texts(msgs, "tracks")
    assert t and t[0]["codecs"] == ["mp4a.40.2"] and t[0]["tracks"] == [1], texts(msgs)
    bins = [p for op, p in msgs if op == OP_BINARY]
    inits = [i for i, b in enumerate(bins) if boxes(b) == ["ftyp", "moov"]]
    assert inits, [boxes(b) for b in bins[:5]]
    path = str(tmp_path / "ws-audio.mp4")
    with open(path, "wb") as f:
        f.write(b"".join(bins[inits[-1]:]))
    st = media.streams_by_type(media.probe(path))
    assert "video" not in st and one(st, "audio")["codec_name"] == "aac", st
    c.send_json({"type": "tracks", "video": "nosuchcodec"})
    msgs, _ = read_ws(c, 1)
    assert texts(msgs, "error"), texts(msgs)

    # close handshake: our close is echoed, then the server closes
    c.close(1000, "bye")
    while True:
        op, p = c.recv_message()
        if op == OP_CLOSE:
            assert parse_close(p)[0] == 1000, p
            break
    with pytest.raises(Closed):
        c.recv_frame(timeout=5)


@pytest.mark.parametrize("what,frame,code", [
    ("reserved opcode", WsClient.frame(0x3, b"x"), 1002),
    ("unmasked frame", WsClient.frame(OP_TEXT, b"{}", mask=False), 1002),
    ("rsv bits", WsClient.frame(OP_TEXT, b"{}", rsv=4), 1002),
    ("continuation first", WsClient.frame(0x0, b"x"), 1002),
    ("binary message", WsClient.frame(OP_BINARY, b"\x00\x01"), 1003),
    ("bad utf-8", WsClient.frame(OP_TEXT, b"\xff\xfe"), 1007),
    ("long ping", WsClient.frame(OP_PING, b"p" * 200), 1002),
    ("garbage", b"\x13\x37" * 40, 1002),
])
def test_ws_garbage(weir, publish, viewer, what, frame, code):
    s, _ = live(weir, publish, "live+g", clip="360p")
    other = WsClient(s.http_port, "/live+g.mp4")
    bad = WsClient(s.http_port, "/live+g.mp4")
    bad.send_raw(frame)
    got = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        op, p = bad.recv_message()
        if op == OP_CLOSE:
            got = parse_close(p)[0]
            break
    assert got == code, "%s: close code %r, expected %d" % (what, got, code)
    with pytest.raises((Closed, ConnectionResetError)):
        bad.recv_frame(timeout=5)
    # the others keep being served
    msgs, _ = read_ws(other, 2)
    assert sum(1 for op, _ in msgs if op == OP_BINARY) >= 3, what
    v = viewer(s.flv_url("live+g"), seconds=2)
    assert v.wait(20) == 0 and v.count("video") >= 40, v.log()[-2000:]


def test_ws_handshake_refusals(weir, publish):
    s, _ = live(weir, publish, "live+r", clip="360p")
    with pytest.raises(HandshakeError) as e:
        WsClient(s.http_port, "/nosuch.mp4")
    assert e.value.status == 404
    with pytest.raises(HandshakeError) as e:
        WsClient(s.http_port, "/live+r.mp4?video=none&audio=none")
    assert e.value.status == 400
    with pytest.raises(HandshakeError) as e:
        WsClient(s.http_port, "/live+r.mp4", version="8")
    assert e.value.status == 426


def test_ws_reader_that_never_reads(weir, publish):
    """A WebSocket client that stops reading is dropped (the log says so)
    within ~30 s while another viewer keeps receiving."""
    s, _ = live(weir, publish, "live+slow")
    stuck = WsClient(s.http_port, "/live+slow.mp4", rcvbuf=4096)
    good = WsClient(s.http_port, "/live+slow.mp4")
    counts = {"bin": 0, "last": time.monotonic()}
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                op, _ = good.recv_message(timeout=5)
            except (socket.timeout, Closed, OSError):
                return
            if op == OP_BINARY:
                counts["bin"] += 1
                counts["last"] = time.monotonic()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t0 = time.monotonic()
    dropped = False
    while time.monotonic() - t0 < 40:
        log = s.log_text()
        if "peer stopped reading" in log or "too slow, dropped" in log:
            dropped = True
            break
        time.sleep(0.5)
    took = time.monotonic() - t0
    assert dropped, "the stuck client was not dropped within 40 s:\n" + s.log_tail(30)
    assert took <= 35, "dropped only after %.1f s" % took
    assert t.is_alive() and time.monotonic() - counts["last"] < 3, \
        "the good viewer stalled (%d fragments)" % counts["bin"]
    assert counts["bin"] >= took, counts
    stop.set()
    t.join(10)
    stuck.shutdown()
    good.shutdown()
