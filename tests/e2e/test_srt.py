"""SRT (src/proto/srt): the single SRT port, srt:// inputs and pushes, with
real clients (ffmpeg's srt:// protocol, srt-live-transmit).

- ffmpeg publishes H.264+AAC over the SRT port (streamid=live+srt): HTTP-FLV
  and RTMP play see h264 + aac; HEVC+AAC (libx265) comes out of HLS as hevc.
- srt-live-transmit pulls with streamid=#!::r=...,m=request (and without
  m=, from a stream that already has a publisher): the TS has h264 + aac.
- a passphrase on the SRT listener: a wrong or missing one is refused, the
  right one publishes.
- a stream that does not accept pushes is refused with a clear log line.
- srt:// inputs (listener and caller, always_on) and srt:// pushes
  (listener pulled by srt-live-transmit, caller to a listening
  srt-live-transmit); an unknown SRT option is a clear input error.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import wait_live
from helpers import media

SRT_LIVE_TRANSMIT = shutil.which("srt-live-transmit")
PASSPHRASE = "0123456789secret"

pytestmark = pytest.mark.skipif(SRT_LIVE_TRANSMIT is None, reason="srt-live-transmit missing")


# -- helpers -----------------------------------------------------------------

def udp_ports(n):
    """n distinct UDP ports that were free a moment ago on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def srt_server(weir, listener=None, streams=None):
    """A started weir with an SRT listener (extra config keys in `listener`)
    on a free UDP port, kept in server.srt_port."""
    s = weir(config={"streams": streams or {}}, start=False)
    s.srt_port = udp_ports(1)[0]
    entry = {"connector": "SRT", "port": s.srt_port}
    entry.update(listener or {})
    s.config["config"]["protocols"].append(entry)
    s.start()
    return s


def srt_url(server, streamid, **opts):
    q = "streamid=" + streamid
    for k, v in opts.items():
        q += "&%s=%s" % (k, v)
    return "srt://127.0.0.1:%d?%s" % (server.srt_port, q)


class Proc:
    """A client process with a log file; stopped at teardown."""

    def __init__(self, cmd, logdir, name, stdout=None):
        self.cmd = cmd
        self.log_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.time() * 1e6)))
        self._log = open(self.log_path, "wb")
        self._out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._log)

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            if self.wait(5) is None:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        if self._out is not subprocess.DEVNULL:
            self._out.close()
        return self.proc.returncode


@pytest.fixture
def procs(tmp_path):
    """Factory: procs(cmd, name, stdout=None) -> Proc (stopped at teardown)."""
    made = []

    def make(cmd, name, stdout=None):
        p = Proc(cmd, str(tmp_path), name, stdout)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def ffmpeg_ts(src_args, url, seconds=None):
    """ffmpeg sending MPEG-TS to an srt:// URL (looped, real time)."""
    cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning", "-re"]
    cmd += src_args
    if seconds:
        cmd += ["-t", str(seconds)]
    return cmd + ["-f", "mpegts", url]


def clip_args(clip):
    return ["-stream_loop", "-1", "-i", clip, "-c", "copy"]


def hevc_args():
    return ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-c:v", "libx265", "-preset", "ultrafast",
            "-x265-params", "keyint=50:log-level=error", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k"]


def codecs(info):
    st = media.streams_by_type(info)
    return ([s.get("codec_name") for s in st.get("video", [])],
            [s.get("codec_name") for s in st.get("audio", [])])


def assert_av(info, what, video="h264", audio="aac"):
    v, a = codecs(info)
    assert v == [video] and a == [audio], "%s: expected %s + %s, got video %r audio %r" % (
        what, video, audio, v, a)


def pull_ts(procs, url, out, seconds=5.0, name="slt"):
    """srt-live-transmit url -> out for `seconds`; returns the Proc."""
    p = procs([SRT_LIVE_TRANSMIT, "-q", url, "file://con"], name, stdout=out)
    time.sleep(seconds)
    p.stop()
    return p


def probe_file(path, what):
    assert os.path.exists(path) and os.path.getsize(path) > 100 * 188, \
        "%s: got %d bytes" % (what, os.path.getsize(path) if os.path.exists(path) else -1)
    return media.probe(path)


def probe_retry(url, timeout=30.0):
    """ffprobe url until it answers with a video stream (HLS needs a first
    segment); returns the last info or raises with the last error."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            info = media.probe(url, timeout=20)
            if media.streams_by_type(info).get("video"):
                return info
            last = info
        except AssertionError as e:
            last = e
        time.sleep(1)
    raise AssertionError("ffprobe %s: no video within %ss: %s" % (url, timeout, last))


def log_has(server, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log_text():
            return True
        time.sleep(0.1)
    return False


# -- the single SRT port -----------------------------------------------------

def test_publish_h264_play_flv_and_rtmp(weir, procs, clips):
    s = srt_server(weir)
    pub = procs(ffmpeg_ts(clip_args(clips["720p"]), srt_url(s, "live+srt")), "pub")
    wait_live(s, "live+srt", pub)
    for url in (s.flv_url("live+srt"), s.rtmp_play_url("live+srt")):
        assert_av(media.probe(url), url)
    assert pub.alive(), "publisher died: " + pub.log()[-2000:]
    assert log_has(s, "SRT publish from 127.0.0.1")


def test_publish_hevc_play_hls(weir, procs):
    s = srt_server(weir)
    url = srt_url(s, "#!::r=live+hevc,m=publish")
    pub = procs(ffmpeg_ts(hevc_args(), url), "pub-hevc")
    wait_live(s, "live+hevc", pub)
    info = probe_retry(s.http_url("hls/live+hevc/index.m3u8"))
    assert_av(info, "HLS", video="hevc")


def test_request_mode_and_both(weir, procs, clips, tmp_path):
    s = srt_server(weir)
    pub = procs(ffmpeg_ts(clip_args(clips["720p"]), srt_url(s, "live+srt")), "pub")
    wait_live(s, "live+srt", pub)
    out = str(tmp_path / "request.ts")
    pull_ts(procs, srt_url(s, "#!::r=live+srt,m=request"), out)
    assert_av(probe_file(out, "m=request"), "srt-live-transmit m=request")
    # no m=: the stream already has a publisher, so the port sends at once
    out2 = str(tmp_path / "both.ts")
    pull_ts(procs, srt_url(s, "live+srt"), out2, name="slt-both")
    assert_av(probe_file(out2, "no m="), "srt-live-transmit without m=")
    ans = s.api({"clients": True})
    assert "SRT" in str(ans.get("clients")), ans.get("clients")


def test_both_silence_turns_into_request(weir, procs, clips, tmp_path):
    """Without m= on a push stream that is not live, the port listens first;
    after ~3 s of silence it sends the stream once it goes live."""
    s = srt_server(weir)
    out = str(tmp_path / "later.ts")
    rx = procs([SRT_LIVE_TRANSMIT, "-q", srt_url(s, "live+later"), "file://con"], "slt-later",
               stdout=out)
    time.sleep(4)  # the viewer's 3 s of silence are over: the name is free to publish
    pub = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "#!::r=live+later,m=publish")),
                "pub-later")
    wait_live(s, "live+later", pub)
    time.sleep(4)
    rx.stop()
    assert_av(probe_file(out, "both"), "srt-live-transmit after silence")


def test_passphrase(weir, procs, clips):
    s = srt_server(weir, listener={"passphrase": PASSPHRASE})
    for name, opts in (("wrong", {"passphrase": "not-the-right-one"}), ("none", {})):
        p = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "live+pw", **opts),
                            seconds=3), "pub-" + name)
        rc = p.wait(15)
        assert rc not in (None, 0), "%s passphrase: ffmpeg rc %r" % (name, rc)
    assert log_has(s, "SRT handshake failed")
    pub = procs(ffmpeg_ts(clip_args(clips["360p"]),
                          srt_url(s, "live+pw", passphrase=PASSPHRASE)), "pub-right")
    wait_live(s, "live+pw", pub)
    assert_av(media.probe(s.flv_url("live+pw")), "FLV")


def test_refusals(weir, procs, clips):
    s = srt_server(weir, streams={
        "pulled": {"name": "pulled", "source": "srt://127.0.0.1:9?latency=100"}})
    # a stream that does not accept pushes
    p = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "#!::r=pulled,m=publish"),
                        seconds=2), "pub-pulled")
    assert p.wait(15) not in (None, 0)
    assert log_has(s, 'SRT: refused publish of "pulled" from 127.0.0.1: stream pulled does '
                      'not accept pushes (reject 1403')
    # an unknown stream, without m=
    p = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "nosuch"), seconds=2), "pub-ns")
    assert p.wait(15) not in (None, 0)
    assert log_has(s, "(reject 1404")
    # a second publisher
    pub = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "live+one")), "pub-one")
    wait_live(s, "live+one", pub)
    p = procs(ffmpeg_ts(clip_args(clips["360p"]), srt_url(s, "#!::r=live+one,m=publish"),
                        seconds=2), "pub-two")
    assert p.wait(15) not in (None, 0)
    assert log_has(s, "(reject 1409")
    assert pub.alive()


# -- srt:// inputs and pushes ------------------------------------------------

def test_inputs_listener_and_caller(weir, procs, clips):
    p_listen, p_call = udp_ports(2)
    s = srt_server(weir, streams={
        "srtin": {"name": "srtin", "source": "srt://:%d?latency=200" % p_listen,
                  "always_on": True},
        "srtcall": {"name": "srtcall", "source": "srt://127.0.0.1:%d" % p_call,
                    "always_on": True},
        "badopt": {"name": "badopt", "source": "srt://:%d?xyz=1" % udp_ports(1)[0],
                   "always_on": True},
    })
    s.allow_log(r"unknown SRT option 'xyz'")
    # to the listening input; from a listening sender to the calling one
    a = procs(ffmpeg_ts(clip_args(clips["720p"]), "srt://127.0.0.1:%d" % p_listen), "to-in")
    b = procs(ffmpeg_ts(clip_args(clips["360p"]), "srt://127.0.0.1:%d?mode=listener" % p_call),
              "caller-src")
    wait_live(s, "srtin", a, timeout=30)
    wait_live(s, "srtcall", b, timeout=30)
    assert_av(media.probe(s.flv_url("srtin")), "srtin FLV")
    assert_av(media.probe(s.flv_url("srtcall")), "srtcall FLV")
    ans = s.api({"streams": True})
    err = ans["streams"]["badopt"].get("error", "")
    assert "unknown SRT option 'xyz'" in err, err


def test_pushes_listener_and_caller(weir, procs, clips, tmp_path):
    s = srt_server(weir)
    pub = procs(ffmpeg_ts(clip_args(clips["720p"]), srt_url(s, "live+p")), "pub")
    wait_live(s, "live+p", pub)
    p_listen, p_call = udp_ports(2)
    ans = s.api({"push_start": ["live+p", "srt://:%d" % p_listen]})
    assert "id" in (ans.get("push_start") or {}), ans.get("push_start")
    time.sleep(0.5)
    out = str(tmp_path / "push-listener.ts")
    pull_ts(procs, "srt://127.0.0.1:%d" % p_listen, out)
    assert_av(probe_file(out, "push listener"), "push listener")
    # a caller push to a listening srt-live-transmit
    out2 = str(tmp_path / "push-caller.ts")
    rx = procs([SRT_LIVE_TRANSMIT, "-q", "srt://:%d" % p_call, "file://con"], "slt-rx",
               stdout=out2)
    time.sleep(0.5)
    ans = s.api({"push_start": ["live+p", "srt://127.0.0.1:%d?latency=100" % p_call]})
    assert "id" in (ans.get("push_start") or {}), ans.get("push_start")
    assert log_has(s, "SRT push connected to srt://127.0.0.1:%d" % p_call, timeout=10)
    time.sleep(5)
    rx.stop()
    assert_av(probe_file(out2, "push caller"), "push caller")


# -- a TS input whose audio starts before its video -----------------------------

def audio_first_ts(path, lead_s=1.5):
    """An MPEG-TS file whose audio starts lead_s before the first video
    frame (-itsoffset on the video input): 8 s of H.264 + AAC."""
    if not os.path.exists(path):
        subprocess.run([media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                        "-itsoffset", str(lead_s),
                        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "8",
                        "-map", "1:v", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast",
                        "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
                        "-f", "mpegts", path], check=True, timeout=60)
    return path


def watch_track_sets(server, stream, seconds):
    """Polls json_<stream>.js for `seconds`; returns the track kinds of every
    answer that described a live stream (in order)."""
    from conftest import tracks_of
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            info = server.stream_info(stream, timeout=1)
            kinds = sorted(t.get("type") for t in tracks_of(info))
            if kinds and (not seen or seen[-1] != kinds):
                seen.append(kinds)
        except (OSError, AssertionError, ValueError):
            pass
        time.sleep(0.03)
    return seen


def test_audio_before_video_announced_together(weir, procs, tmp_path):
    """A TS publisher whose audio precedes the first video frame by 1.5 s:
    the stream is never live with audio only (the TS input holds audio
    until the video keyframe, then announces both tracks), and players see
    both tracks."""
    s = srt_server(weir)
    ts = audio_first_ts(str(tmp_path / "audio-first.ts"))
    cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning", "-re", "-i", ts,
           "-c", "copy", "-map", "0", "-f", "mpegts", srt_url(s, "live+af")]
    procs(cmd, "pub-af")
    seen = watch_track_sets(s, "live+af", 6.0)
    assert seen, "the stream never went live: %s" % s.log_tail(20)
    assert ["audio"] not in seen, "live with audio only first: %r" % seen
    assert seen[0] == ["audio", "video"], seen
    assert_av(media.probe(s.flv_url("live+af")), "HTTP-FLV")
