"""Soak and leak checks: many short-lived streams and viewers must not
leave memory, file descriptors or stream objects behind; a short session
under valgrind memcheck has no definite leaks and no invalid accesses."""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from helpers import api as apimod
from helpers import rtmp_pub

CYCLES = int(os.environ.get("WEIR_SOAK_CYCLES", "1000"))
VIEWERS = int(os.environ.get("WEIR_SOAK_VIEWERS", "5000"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def active(server):
    ans = apimod.post_json(server.api_port, {"active_streams": True})
    return apimod.names(ans.get("active_streams"))


def is_sanitized(binary):
    out = subprocess.run(["nm", "-D", binary], capture_output=True, text=True).stdout
    return "__asan_init" in out or "__ubsan" in out


def flv_viewer(port, stream, mode):
    """One HTTP-FLV viewer: reads a little and leaves, leaves abruptly
    (RST), or never reads at all."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(("GET /%s.flv HTTP/1.1\r\nHost: x\r\n\r\n" % stream).encode())
    if mode == "read":
        got = 0
        while got < 20000:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
        assert got >= 13, "viewer got %d bytes" % got
    if mode in ("rst", "noread"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_soak_publish_and_viewer_cycles(weir, clips, publish):
    """Memory is checked on the normal build (the sanitizer build holds freed
    memory in quarantine); descriptors and streams on both."""
    s = weir(config={"streams": {"soak": {"name": "soak", "source": "push://127.0.0.1",
                                          "pushgrace": 0, "DVR": 5000}}})
    pid = s.proc.pid
    tags = rtmp_pub.read_flv_tags(clips["360p"], max_ms=1000)
    assert any(t[0] == 9 for t in tags) and any(t[0] == 8 for t in tags)
    base_fds = fd_count(pid)

    def cycle(i):
        p = rtmp_pub.Publisher(s.rtmp_port, "live", "soak+c%d" % i)
        p.send_tags(tags)
        p.drain()
        p.close(abrupt=(i % 7 == 0))

    rss_100 = None
    t0 = time.time()
    for i in range(CYCLES):
        cycle(i)
        if i == 99:
            time.sleep(0.5)
            rss_100 = rss_kb(pid)
    pub_secs = time.time() - t0

    # Viewers against one live stream: read, reset, or never read.
    pub = publish(s, "soak+v", clip="360p")
    deadline = time.time() + 20
    while "soak+v" not in active(s) and time.time() < deadline:
        time.sleep(0.2)
    assert "soak+v" in active(s), "publisher never went live"
    time.sleep(1.5)
    modes = ("read", "rst", "read", "noread", "close")
    t1 = time.time()
    for i in range(VIEWERS):
        flv_viewer(s.http_port, "soak+v", modes[i % len(modes)])
    view_secs = time.time() - t1
    pub.stop()

    # Everything must drain: no streams, descriptors back to the baseline.
    deadline = time.time() + 20
    while time.time() < deadline and active(s):
        time.sleep(0.25)
    left = active(s)
    assert not left, "streams still active after the soak: %r" % left[:10]
    # (no API calls from here on: their own connection would count)
    while time.time() < deadline and fd_count(pid) > base_fds:
        time.sleep(0.1)
    fds = fd_count(pid)
    assert fds <= base_fds, "fd count %d, baseline %d" % (fds, base_fds)
    rss_end = rss_kb(pid)
    print("soak: %d publish cycles in %.1fs, %d viewers in %.1fs; RSS after 100 cycles "
          "%d KB, at the end %d KB; fds %d (baseline %d)"
          % (CYCLES, pub_secs, VIEWERS, view_secs, rss_100, rss_end, fds, base_fds))
    if is_sanitized(s.binary):
        return  # ASan's quarantine keeps freed memory: RSS says nothing there
    assert rss_end - rss_100 < 5 * 1024, \
        "RSS grew by %d KB between cycle 100 and the end" % (rss_end - rss_100)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_valgrind_publish_play(weir, weir_bin, clips, tmp_path):
    if is_sanitized(weir_bin):
        pytest.skip("sanitizer build: memory errors are checked by ASan instead")
    vlog = str(tmp_path / "valgrind.log")
    s = weir(start=False)
    s.binary = "valgrind"
    s.args = []
    orig = s.command

    def command():
        cmd = orig()
        return ["valgrind", "--error-exitcode=0", "--leak-check=full",
                "--show-leak-kinds=definite", "--log-file=" + vlog, weir_bin] + cmd[1:]
    s.command = command
    s.start(timeout=60)
    tags = rtmp_pub.read_flv_tags(clips["360p"], max_ms=3000)
    p = rtmp_pub.Publisher(s.rtmp_port, "live", "live+vg", timeout=20)
    # A viewer on each protocol while the publisher pushes its tags.
    p.send_tags(tags[: len(tags) // 2])
    time.sleep(2)
    v = socket.create_connection(("127.0.0.1", s.http_port), timeout=20)
    v.sendall(b"GET /live+vg.flv HTTP/1.1\r\nHost: x\r\n\r\n")
    h = socket.create_connection(("127.0.0.1", s.http_port), timeout=20)
    h.sendall(b"GET /hls/live+vg/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")
    p.send_tags(tags[len(tags) // 2:])
    time.sleep(2)
    assert v.recv(4096), "FLV viewer under valgrind got nothing"
    v.close()
    h.close()
    p.close()
    rc, _ = s.stop(timeout=60)
    assert rc == 0, "weir under valgrind exited with %r" % rc
    text = open(vlog).read()
    m = re.search(r"definitely lost: ([\d,]+) bytes", text)
    lost = int(m.group(1).replace(",", "")) if m else 0
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    assert errors, "no valgrind summary:\n" + text[-2000:]
    assert lost == 0, "valgrind: %d bytes definitely lost\n%s" % (lost, text[-4000:])
    assert int(errors.group(1)) == 0, "valgrind reports errors:\n" + text[-6000:]
