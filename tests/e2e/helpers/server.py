"""Starting and stopping a real weir process on free ports, and judging its log.

Log lines look like `2026-11-28 23:10:00.123 INFO [stream] message`: the level
is the third space-separated field. FAIL and ERROR lines and any sanitizer
report fail the test unless the test declared the pattern as expected."""

import copy
import json
import os
import re
import signal
import subprocess
import time

from . import net

BAD_LEVELS = ("FAIL", "ERROR")
SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "LeakSanitizer",
    "runtime error:",
    "ThreadSanitizer",
    "MemorySanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
)

# Sanitizer settings for the child; test.sh sets the same, these are defaults
# for running pytest by hand.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

STOP_TIMEOUT_S = 15.0


def base_config(api_port, http_port, rtmp_port, trust_loopback=True):
    return {
        "config": {
            "controller": {"port": api_port, "interface": "127.0.0.1"},
            "protocols": [
                {"connector": "HTTP", "port": http_port},
                {"connector": "RTMP", "port": rtmp_port},
            ],
            "serverid": "test",
            "debug": 4,
            "trust_loopback": trust_loopback,
        },
        "streams": {"live": {"name": "live", "source": "push://127.0.0.1"}},
    }


def deep_merge(dst, src):
    """Merges dict src into dst recursively; a None value deletes the key."""
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def scan_log(text, allowed=()):
    """Returns the log lines that make a test fail (bad levels, sanitizer
    reports), ignoring lines that match any regex in `allowed`."""
    pats = [re.compile(a) for a in allowed]
    bad = []
    in_sanitizer = False
    for line in text.splitlines():
        fields = line.split(" ")
        level_bad = len(fields) >= 3 and fields[2] in BAD_LEVELS
        san = any(p in line for p in SANITIZER_PATTERNS)
        if san:
            in_sanitizer = True
        if (level_bad or san) and not any(p.search(line) for p in pats):
            bad.append(line)
    if in_sanitizer:
        # Keep a sanitizer report whole: it is never "expected".
        bad = [line for line in text.splitlines()
               if any(p in line for p in SANITIZER_PATTERNS)] + \
              [line for line in bad if not any(p in line for p in SANITIZER_PATTERNS)]
    return bad


class WeirServer:
    """One weir process. Created by the `weir` fixture factory in conftest."""

    def __init__(self, binary, workdir, config=None, args=(), trust_loopback=True,
                 write_config=True, debug=4):
        self.binary = binary
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.api_port, self.http_port, self.rtmp_port = net.free_ports(3)
        self.cfg_path = os.path.join(workdir, "weir.json")
        self.log_path = os.path.join(workdir, "weir.log")
        self.config = base_config(self.api_port, self.http_port, self.rtmp_port,
                                  trust_loopback=trust_loopback)
        if config:
            deep_merge(self.config, config)
        self.write_config = write_config
        self.args = list(args)
        self.debug = debug
        self.proc = None
        self.allowed_log = []
        self.stopped_rc = None
        self.stopped = False  # stop() was called
        self.expect_exit = False  # the test expects weir to exit by itself
        self._logf = None

    # -- lifecycle -----------------------------------------------------------

    def save_config(self, cfg=None):
        if cfg is not None:
            self.config = cfg
        tmp = self.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.config, f, indent=2)
        os.replace(tmp, self.cfg_path)

    def command(self):
        return [self.binary, "-c", self.cfg_path, "-d", str(self.debug)] + self.args

    def start(self, wait=True, timeout=15.0):
        if self.write_config:
            self.save_config()
        env = dict(os.environ)
        for k, v in SANITIZER_ENV.items():
            env.setdefault(k, v)
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready(timeout)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=15.0, ports=None):
        ports = ports or [self.api_port, self.http_port, self.rtmp_port]
        for p in ports:
            if not net.wait_port(p, timeout=timeout, alive=self.alive):
                raise AssertionError(
                    "weir did not start listening on port %d (rc=%s); log:\n%s"
                    % (p, self.proc.poll(), self.log_tail()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        self.signal(signal.SIGHUP)

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM and wait; returns (rc, seconds). Kills after timeout (rc None)."""
        if self.proc is None:
            return None, 0.0
        self.stopped = True
        if self.proc.poll() is not None:
            self._close_log()
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            rc = None
        self.stopped_rc = rc
        self._close_log()
        return rc, time.monotonic() - t0

    def _close_log(self):
        if self._logf:
            self._logf.close()
            self._logf = None

    # -- log -----------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def allow_log(self, *patterns):
        """Declares log lines matching these regexes as expected (not failures)."""
        self.allowed_log.extend(patterns)

    def bad_log_lines(self, extra_allowed=()):
        return scan_log(self.log_text(), list(self.allowed_log) + list(extra_allowed))

    # -- URLs ----------------------------------------------------------------

    def rtmp_publish_url(self, stream, app="live"):
        return "rtmp://127.0.0.1:%d/%s/%s" % (self.rtmp_port, app, stream)

    def rtmp_play_url(self, stream):
        return "rtmp://127.0.0.1:%d/play/%s" % (self.rtmp_port, stream)

    def flv_url(self, stream):
        return "http://127.0.0.1:%d/%s.flv" % (self.http_port, stream)

    def http_url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.http_port, path.lstrip("/"))

    def api_url(self, path="api"):
        return "http://127.0.0.1:%d/%s" % (self.api_port, path.lstrip("/"))

    def stream_info(self, stream, timeout=5.0):
        """GET /json_<stream>.js and return the parsed JSON."""
        _, data = net.http_get_json(self.http_url("json_%s.js" % stream), timeout=timeout)
        return data

    def api(self, cmds, timeout=10.0):
        """One unauthenticated (trusted loopback) API request; returns the JSON answer."""
        from .api import post_json
        return post_json(self.api_port, cmds, timeout=timeout)
