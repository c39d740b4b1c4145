"""Long-running live checks (test_http_long.py): a live encoder whose
pictures and sound carry a sync mark, readers that decode a live URL for N
seconds of media, and followers for LL-HLS TS parts and the DASH MPD.

The source is generated live by ffmpeg (lavfi), so its timestamps are
those of a real encoder: continuous, no loop points. Once a second, frame
13 (t = n + 0.52 s) is white and a 880 Hz beep starts at the same instant;
`negate,blackdetect` finds the white frames and `silencedetect` the beep
onsets in whatever a reader decoded, so audio/video sync is measured on
the content, not only on timestamps."""

import bisect
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse

from . import hls, media, mp4
from .server import WeirServer

FPS = 25
RATE = 48000
GOP = 2 * FPS
FLASH_AT = 13.0 / FPS  # within each second
AUDIO_FRAME = 1024  # AAC samples
SYNC_FILTERS = ["-vf", "negate,blackdetect=d=0:pic_th=0.95:pix_th=0.10",
                "-af", "silencedetect=n=-30dB:d=0.3"]


# -- the source ------------------------------------------------------------------


def source_args(codec="h264", size="640x360"):
    """ffmpeg input + encoder arguments for the marked live source."""
    video = ("testsrc2=size=%s:rate=%d,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:"
             "enable='eq(mod(n\\,%d)\\,13)'" % (size, FPS, FPS))
    audio = ("aevalsrc='0.5*sin(2*PI*880*t)*between(mod(t\\,1)\\,%.2f\\,%.2f)':s=%d"
             % (FLASH_AT, FLASH_AT + 0.1, RATE))
    args = ["-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio]
    if codec == "h264":
        # zerolatency: no B-frames, as low-latency encoders are set up
        args += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                 "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0"]
    elif codec == "hevc":
        args += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                 "keyint=%d:min-keyint=%d:scenecut=0:log-level=error" % (GOP, GOP)]
    else:
        raise ValueError(codec)
    return args + ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "1"]


def publisher_cmd(codec, url, fmt, readrate=1.0):
    """ffmpeg encoding the marked source live and sending it to url as fmt
    ("flv" for RTMP, "mpegts" for SRT), at readrate x real time."""
    return ([media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning",
             "-readrate", "%g" % readrate] + source_args(codec) +
            ["-f", fmt] + (["-flvflags", "no_duration_filesize"] if fmt == "flv" else []) +
            [url])


class LiveRun:
    """One weir (optionally with an SRT listener) and live publishers, for a
    whole test module; close() stops everything and returns the problems
    (bad exit, bad log lines, a publisher that died)."""

    def __init__(self, weir_bin, workdir, srt=False):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.server = WeirServer(weir_bin, os.path.join(workdir, "weir"),
                                 config={"streams": {}})
        if srt:
            self.server.srt_port = udp_port()
            self.server.config["config"]["protocols"].append(
                {"connector": "SRT", "port": self.server.srt_port})
        self.server.start()
        self.pubs = {}

    def publish(self, stream, codec="h264", ingest="rtmp", readrate=1.0):
        s = self.server
        if ingest == "rtmp":
            url, fmt = s.rtmp_publish_url(stream), "flv"
        else:
            url = "srt://127.0.0.1:%d?streamid=#!::r=%s,m=publish" % (s.srt_port, stream)
            fmt = "mpegts"
        p = Child(publisher_cmd(codec, url, fmt, readrate), self.workdir, "pub-" + stream)
        self.pubs[stream] = p
        return p

    def url(self, path):
        return self.server.http_url(path)

    def close(self):
        problems = []
        for name, p in self.pubs.items():
            if not p.alive():
                problems.append("publisher %s died (rc %s): %s"
                                % (name, p.proc.returncode, p.log()[-1500:]))
            p.stop()
        return problems + hls.stop_server(self.server)


def udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Child:
    """A child process with stderr in a log file; stop() never hangs."""

    def __init__(self, cmd, logdir, name, stdout=None):
        self.cmd = cmd
        self.name = name
        self.log_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.time() * 1e6)))
        self._log = open(self.log_path, "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=stdout or subprocess.DEVNULL, stderr=self._log)

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.elapsed = time.monotonic() - self.t0
        return rc

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


# -- readers -----------------------------------------------------------------------


def decode_cmd(url, seconds, out, level="info"):
    """Full decode of `seconds` of media from url, with the sync filters,
    one framecrc line per decoded frame to out; every log line carries its
    level ("[error]", "[warning]", "[info]")."""
    return [media.FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+" + level,
            "-rw_timeout", media.RW_TIMEOUT_US, "-i", url, "-t", str(seconds)] + \
        SYNC_FILTERS + ["-f", "framecrc", "-y", out]


def record_cmd(url, seconds, out):
    """-c copy of `seconds` of url, one framecrc line per packet."""
    return [media.FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+warning",
            "-rw_timeout", media.RW_TIMEOUT_US, "-i", url, "-t", str(seconds), "-map", "0",
            "-c", "copy", "-f", "framecrc", "-y", out]


_DASH_REQ = re.compile(r"DASH request for url '[^']*/([^/']+)/(\d+)\.m4s'")


def dash_rerequest_line(log):
    """Index of the first line of a level+verbose ffmpeg log where its DASH
    demuxer requests a segment number it had already requested for that
    Representation (ffmpeg 5.1's dashdec goes back to the window's start
    after some manifest refreshes), or None."""
    last = {}
    for i, line in enumerate(log.splitlines()):
        m = _DASH_REQ.search(line)
        if m:
            rid, num = m.group(1), int(m.group(2))
            if rid in last and num <= last[rid]:
                return i
            last[rid] = num
    return None


def log_lines(text, level):
    """Lines of a level+... ffmpeg log at `level` ("error" also takes fatal
    and panic)."""
    tags = {"error": ("[error]", "[fatal]", "[panic]"), "warning": ("[warning]",)}[level]
    return [line for line in text.splitlines() if any(t in line for t in tags)]


def parse_framecrc(path):
    """{stream index: {"type", "tb" (float seconds per tick), "rows":
    [(dts, pts, duration)]}} from a framecrc file."""
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("#tb "):
                idx, tb = line[4:].split(":")
                num, den = tb.strip().split("/")
                out.setdefault(int(idx), {"rows": []})["tb"] = int(num) / int(den)
            elif line.startswith("#media_type "):
                idx, kind = line[len("#media_type "):].split(":")
                out.setdefault(int(idx), {"rows": []})["type"] = kind.strip()
            elif line and not line.startswith("#"):
                f_ = [x.strip() for x in line.split(",")]
                if len(f_) >= 4:
                    out.setdefault(int(f_[0]), {"rows": []})["rows"].append(
                        (int(f_[1]), int(f_[2]), int(f_[3])))
    return out


def of_type(streams, kind):
    got = [s for s in streams.values() if s.get("type") == kind]
    return got[0] if len(got) == 1 else None


def steps(values, expected, tol=1):
    """Deltas of consecutive values that are not expected (+-tol):
    {"gaps": [(prev, cur)], "dups": [(prev, cur)]} (dups: <= 0 or short)."""
    gaps, dups = [], []
    for a, b in zip(values, values[1:]):
        d = b - a
        if d > expected + tol:
            gaps.append((a, b))
        elif d < expected - tol:
            dups.append((a, b))
    return {"gaps": gaps, "dups": dups}


_BLACK = re.compile(r"black_start:\s*(-?[\d.]+)")
_SOUND = re.compile(r"silence_end:\s*(-?[\d.]+)")


def sync_marks(log):
    """(flash times, beep onset times) in seconds from the sync filters' log."""
    return ([float(x) for x in _BLACK.findall(log)], [float(x) for x in _SOUND.findall(log)])


def av_offsets(flashes, onsets, window=0.5):
    """For each flash, the beep onset nearest to it within window:
    [(flash time, onset - flash)]; flashes without a beep get None."""
    out = []
    for t in flashes:
        near = [o - t for o in onsets if abs(o - t) <= window]
        out.append((t, min(near, key=abs) if near else None))
    return out


class Reader:
    """A decode/record child writing framecrc to a file."""

    def __init__(self, cmd, out, logdir, name, url):
        self.url = url
        self.out = out
        self.child = Child(cmd, logdir, name)

    def wait(self, timeout):
        rc = self.child.wait(timeout)
        if rc is None:
            self.child.stop()
            raise AssertionError("%s: ffmpeg still running after %.0f s:\n%s"
                                 % (self.url, timeout, self.child.log()[-1500:]))
        self.rc = rc
        self.elapsed = self.child.elapsed
        self.log = self.child.log()
        self.streams = parse_framecrc(self.out) if os.path.exists(self.out) else {}
        return self


# -- LL-HLS TS parts ---------------------------------------------------------------


def follow_ts_parts(media_url, media_seconds, timeout):
    """Fetches consecutive LL-HLS parts of a TS media playlist, starting at
    the newest independent part, following blocking playlist reloads
    (_HLS_msn/_HLS_part) until media_seconds of parts (by their DURATION)
    are in. Asserts that no part is skipped. Returns [(name, bytes)]."""
    deadline = time.monotonic() + timeout
    got, last, total = [], None, 0.0
    m = hls.Media(hls.get_ok(media_url).text)
    while total < media_seconds:
        assert time.monotonic() < deadline, \
            "%.1f s of parts after %.0f s (want %.0f s)" % (total, timeout, media_seconds)
        parts = [(msn, i, p) for msn, i, p in m.all_parts()]
        listed = {}
        for msn, i, _ in parts:
            listed[msn] = max(listed.get(msn, -1), i)
        if last is None:
            starts = [(msn, i) for msn, i, p in parts if p["INDEPENDENT"]]
            assert starts, "no independent part listed:\n" + m.text
            last = (starts[-1][0], starts[-1][1] - 1)
        for msn, i, p in parts:
            if (msn, i) <= last:
                continue
            want_same = (msn, i) == (last[0], last[1] + 1)
            want_next = msn == last[0] + 1 and i == 0 and listed.get(last[0], -1) == last[1]
            assert want_same or want_next, \
                "part %d.%d follows %d.%d: parts were skipped (or the listing lost them):\n%s" % (
                    msn, i, last[0], last[1], m.text[-2500:])
            r = hls.get(hls.join(media_url, p["URI"]))
            assert r.status == 200, "GET part %s: HTTP %s after %.2f s" % (
                p["URI"], r.status, r.elapsed)
            got.append((p["URI"], r.body))
            total += p["DURATION"]
            last = (msn, i)
        nmsn, npart = m.next_part()
        q = "_HLS_msn=%d&_HLS_part=%d" % (nmsn, npart)
        r = hls.get(media_url + ("&" if "?" in media_url else "?") + q, timeout=15)
        assert r.status == 200, "blocking reload %s: HTTP %s (%r)" % (q, r.status, r.body[:200])
        m = hls.Media(r.text)
    return got


def probe_ts_packets(path, timeout=60):
    """[{"type", "pts", "dts" (90 kHz ticks), "pos"}] of a TS file."""
    r = media.run([media.FFPROBE, "-v", "error", "-show_entries",
                   "packet=codec_type,pts,dts,pos", "-of", "json", path], timeout)
    assert r.returncode == 0, "ffprobe %s: %s" % (path, r.stderr[-1500:])
    out = []
    for p in json.loads(r.stdout or "{}").get("packets", []):
        out.append({"type": p.get("codec_type"), "pts": int(p["pts"]), "dts": int(p["dts"]),
                    "pos": int(p["pos"])})
    return out


def split_by_part(packets, offsets):
    """Groups packets by the part their first byte came from: a list (one
    entry per part) of {"video": [pts], "audio": [pts]}."""
    per = [{"video": [], "audio": []} for _ in offsets]
    for p in packets:
        i = bisect.bisect_right(offsets, p["pos"]) - 1
        if p["type"] in ("video", "audio"):
            per[i][p["type"]].append(p["pts"])
    return per


def sync_scan(path, timeout=120, extra_in=()):
    """Decodes path (and extra inputs) with the sync filters; returns
    (error lines, flashes, onsets). Timestamps are kept as they are."""
    cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
           "-copyts", "-i", path]
    for e in extra_in:
        cmd += ["-copyts", "-i", e]
    if extra_in:
        cmd += ["-map", "0:v:0", "-map", "1:a:0"]
    r = media.run(cmd + SYNC_FILTERS + ["-f", "null", "-"], timeout)
    errs = log_lines(r.stderr, "error") + ([] if r.returncode == 0 else ["rc %d" % r.returncode])
    fl, on = sync_marks(r.stderr)
    return errs, fl, on


# -- DASH --------------------------------------------------------------------------


class DashFollower(threading.Thread):
    """Polls a live MPD for `seconds`, fetching every new segment of every
    Representation (from the newest two on), as a DASH player does. Keeps
    per representation: init bytes, [(number, t, d, bytes)], and problems
    (a number skipped, a timeline hole, a tfdt that disagrees)."""

    def __init__(self, mpd_url, seconds, period=1.0):
        super().__init__(daemon=True)
        self.url = mpd_url
        self.seconds = seconds
        self.period = period
        self.reps = {}
        self.problems = []
        self.error = None

    def run(self):
        try:
            self._run()
        except BaseException as e:  # reported by the test
            self.error = e

    def _run(self):
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            root = hls.parse_mpd(hls.get_ok(self.url).text)
            for rep in hls.mpd_reps(root):
                self._rep(rep)
            time.sleep(self.period)

    def _rep(self, rep):
        rid = rep["rep"]["id"]
        st = self.reps.get(rid)
        if st is None:
            init = hls.get_ok(urllib.parse.urljoin(self.url, hls.fill_template(
                rep["initialization"], rid))).body
            st = self.reps[rid] = {"type": rep["contentType"], "timescale": rep["timescale"],
                                   "init": init, "segs": []}
        tl = rep["timeline"]
        numbered = [(rep["startNumber"] + i, t, d) for i, (t, d) in enumerate(tl)]
        if not st["segs"]:
            numbered = numbered[-2:]
        for num, t, d in numbered:
            if st["segs"] and num <= st["segs"][-1][0]:
                continue
            if st["segs"]:
                pn, pt, pd, _ = st["segs"][-1]
                if num != pn + 1:
                    self.problems.append("%s: segment %d follows %d" % (rid, num, pn))
                if t != pt + pd:
                    self.problems.append("%s: segment %d starts at %d, previous ends at %d"
                                         % (rid, num, t, pt + pd))
            body = hls.get_ok(urllib.parse.urljoin(self.url, hls.fill_template(
                rep["media"], rid, num))).body
            fr = mp4.fragments(body)
            if not fr or fr[0]["tfdt"] != t:
                self.problems.append("%s: segment %d tfdt %r, timeline t %d"
                                     % (rid, num, fr[0]["tfdt"] if fr else None, t))
            st["segs"].append((num, t, d, body))

    def save(self, rid, path):
        st = self.reps[rid]
        with open(path, "wb") as f:
            f.write(st["init"])
            for _, _, _, body in st["segs"]:
                f.write(body)
        return path
