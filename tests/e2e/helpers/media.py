"""Media for the e2e tests: generated clips, publishers and viewers (ffmpeg),
and ffprobe helpers. Every child process gets a timeout; nothing may hang."""

import hashlib
import json
import os
import signal
import subprocess
import threading
import time

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("FFPROBE", "ffprobe")
# Generic protocol I/O timeout for live inputs (microseconds).
RW_TIMEOUT_US = "10000000"

CLIPS = {
    # name: (size, audio sample rate)
    "720p": ("1280x720", 44100),
    "360p": ("640x360", 48000),
}
CLIP_SECONDS = 12


def clip_cmd(size, rate, out):
    return [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=%s:rate=30" % size,
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=%d" % rate,
            "-t", str(CLIP_SECONDS),
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60",
            "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ar", str(rate), "-b:a", "96k",
            "-f", "flv", out]


def make_clips(cache_dir):
    """Generates (once; cached by content of the command) the test clips in
    parallel; returns {name: path}."""
    os.makedirs(cache_dir, exist_ok=True)
    paths, procs = {}, []
    for name, (size, rate) in CLIPS.items():
        key = hashlib.sha1(" ".join(clip_cmd(size, rate, "x")).encode()).hexdigest()[:12]
        path = os.path.join(cache_dir, "clip-%s-%s.flv" % (name, key))
        paths[name] = path
        if os.path.exists(path) and os.path.getsize(path) > 0:
            continue
        tmp = "%s.%d.tmp.flv" % (path, os.getpid())
        procs.append((subprocess.Popen(clip_cmd(size, rate, tmp), stdin=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE), tmp, path))
    for p, tmp, path in procs:
        _, err = p.communicate(timeout=180)
        if p.returncode != 0:
            raise RuntimeError("clip generation failed: %s" % err.decode(errors="replace"))
        os.replace(tmp, path)
    return paths


class Publisher:
    """ffmpeg -re publishing a clip (looped) to an RTMP URL."""

    def __init__(self, clip, url, logdir, loop=True, name="pub"):
        self.url = url
        self.log_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.time() * 1000)))
        cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning", "-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        cmd += ["-i", clip, "-c", "copy", "-f", "flv", "-flvflags", "no_duration_filesize", url]
        self.cmd = cmd
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)

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

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Graceful (SIGTERM: ffmpeg finishes the stream) or abrupt (SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        return self.proc.returncode


def live_input_args(url):
    return ["-rw_timeout", RW_TIMEOUT_US, "-i", url]


class Viewer:
    """ffmpeg reading a live URL and writing one framecrc line per packet to a
    pipe, parsed in a thread: frame counts and DTS as they arrive."""

    def __init__(self, url, seconds=None, logdir=None, name="viewer", rw_timeout=True):
        """rw_timeout=False: no I/O timeout, so a server that keeps the
        connection open without data makes ffmpeg hang (which a test may want
        to detect: with the timeout ffmpeg treats it as a normal end)."""
        self.url = url
        cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning"]
        cmd += live_input_args(url) if rw_timeout else ["-i", url]
        if seconds is not None:
            cmd += ["-t", str(seconds)]
        cmd += ["-map", "0", "-c", "copy", "-f", "framecrc", "-flush_packets", "1", "-"]
        self.cmd = cmd
        self.lock = threading.Lock()
        self.media_type = {}  # stream index -> "video"/"audio"
        self.packets = []  # (monotonic arrival, stream index, dts)
        self.err_path = None
        if logdir:
            self.err_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.time() * 1e6)))
            self._err = open(self.err_path, "wb")
        else:
            self._err = subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._err)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("ascii", "replace").strip()
            if line.startswith("#media_type"):
                # "#media_type 0: video"
                idx, kind = line.split(" ", 1)[1].split(":")
                with self.lock:
                    self.media_type[int(idx)] = kind.strip()
            elif line and not line.startswith("#"):
                f = [x.strip() for x in line.split(",")]
                try:
                    with self.lock:
                        self.packets.append((time.monotonic(), int(f[0]), int(f[1])))
                except (ValueError, IndexError):
                    pass

    def count(self, kind="video", since=None):
        with self.lock:
            idx = {i for i, k in self.media_type.items() if k == kind}
            return sum(1 for t, i, _ in self.packets if i in idx and (since is None or t >= since))

    def wait_frames(self, n, timeout, kind="video"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(kind) >= n:
                return True
            if self.proc.poll() is not None:
                self.thread.join(2)
                return self.count(kind) >= n
            time.sleep(0.05)
        return False

    def wait(self, timeout):
        """Waits for exit; returns the exit code or None on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.thread.join(5)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.thread.join(5)
        if self._err is not subprocess.DEVNULL:
            self._err.close()

    def log(self):
        if not self.err_path:
            return ""
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def run(cmd, timeout):
    """Runs a command with a hard timeout; returns CompletedProcess (text)."""
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise AssertionError("timed out after %ss: %s\nstderr: %s"
                             % (timeout, " ".join(cmd), (e.stderr or b"")[-2000:]))


def probe(url, timeout=30):
    """ffprobe -show_streams -show_format as JSON."""
    cmd = [FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json"]
    if "://" in url:
        cmd += ["-rw_timeout", RW_TIMEOUT_US]
    r = run(cmd + [url], timeout)
    assert r.returncode == 0, "ffprobe %s failed (rc %d): %s" % (url, r.returncode, r.stderr[-2000:])
    return json.loads(r.stdout)


def streams_by_type(info):
    out = {}
    for s in info.get("streams", []):
        out.setdefault(s.get("codec_type"), []).append(s)
    return out


def packets(path, timeout=60):
    """[(stream_index, codec_type, dts int or None)] of a file, in file order."""
    info = probe(path, timeout)
    kinds = {s["index"]: s.get("codec_type") for s in info.get("streams", [])}
    r = run([FFPROBE, "-v", "error", "-show_entries", "packet=stream_index,dts",
             "-of", "csv=p=0", path], timeout)
    assert r.returncode == 0, "ffprobe -show_packets %s failed: %s" % (path, r.stderr[-2000:])
    out = []
    for line in r.stdout.splitlines():
        f = line.strip().split(",")
        if len(f) < 2:
            continue
        idx = int(f[0])
        dts = None if f[1] in ("", "N/A") else int(f[1])
        out.append((idx, kinds.get(idx), dts))
    return out


def dts_regressions(pkts):
    """Per-stream DTS decreases: [(stream, previous, current)]."""
    last, bad = {}, []
    for idx, _, dts in pkts:
        if dts is None:
            continue
        if idx in last and dts < last[idx]:
            bad.append((idx, last[idx], dts))
        last[idx] = dts
    return bad
