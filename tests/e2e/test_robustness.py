"""Garbage on every port while a viewer watches (issue item h). The server may
log WARN/INFO about it, never ERROR, and must keep serving."""

import os
import socket
import threading
import time

from conftest import wait_live
from helpers import api as apimod
from helpers import net, rtmp


def blast(port, data, read_s=1.0):
    """Connects, sends data (ignoring resets: the server may hang up early),
    reads what comes back for read_s, closes. Returns the reply bytes."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        raise AssertionError("cannot connect to port %d: %s" % (port, e))
    reply = b""
    try:
        done = threading.Event()

        def reader():
            nonlocal reply
            reply = net.recv_some(s, timeout=read_s + 5)
            done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            s.settimeout(10)
            s.sendall(data)
        except OSError:
            pass
        t.join(read_s + 6)
    finally:
        s.close()
    return reply


def rtmp_after_handshake(port, payload):
    s = rtmp.handshake(port)
    try:
        s.settimeout(5)
        s.sendall(payload)
    except OSError:
        pass
    net.recv_some(s, timeout=1.0)
    s.close()


def assert_not_2xx(reply, what):
    head = reply[:12]
    assert not (head.startswith(b"HTTP/1.") and head[9:10] == b"2"), \
        "%s was answered with success: %r" % (what, reply[:200])


def test_garbage_on_every_port(weir, publish, viewer):
    s = weir()
    pub = publish(s, "live+h")
    wait_live(s, "live+h", pub)
    v = viewer(s.flv_url("live+h"), name="watcher")
    assert v.wait_frames(30, 15), v.log()[-2000:]

    ports = {"rtmp": s.rtmp_port, "http": s.http_port, "api": s.api_port}
    # Half-open sockets that never send anything, held for the whole test.
    idle = [socket.create_connection(("127.0.0.1", p), timeout=5) for p in ports.values()]
    # A truncated RTMP handshake, held open, and one that hangs up.
    partial = socket.create_connection(("127.0.0.1", s.rtmp_port), timeout=5)
    partial.sendall(b"\x03" + os.urandom(100))
    blast(s.rtmp_port, b"\x03" + os.urandom(700), read_s=0.5)

    # Random bytes everywhere.
    for name, p in ports.items():
        reply = blast(p, os.urandom(65536), read_s=0.5)
        if name != "rtmp":
            assert_not_2xx(reply, "random bytes to the %s port" % name)
    # Almost-HTTP garbage.
    for p in (s.http_port, s.api_port):
        blast(p, b"GET / HTTP/1.1\r\n" + os.urandom(4096) + b"\r\n\r\n", read_s=0.5)
        blast(p, b"\r\n" * 10000, read_s=0.5)
        blast(p, b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n", read_s=0.5)
        blast(p, b"POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{",
              read_s=0.5)
        blast(p, b"POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"fffffffffffffff\r\nabc", read_s=0.5)
    # A 1 MB header.
    for p in (s.http_port, s.api_port):
        big = b"GET /live+h.flv HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
        assert_not_2xx(blast(p, big, read_s=1.0), "a 1 MB header on port %d" % p)

    # RTMP: valid handshake, then a chunk announcing a 16 MB message, and more.
    rtmp_after_handshake(s.rtmp_port, rtmp.chunk_fmt0(3, 0x14, 0xFFFFFF, payload=os.urandom(4096))
                         + os.urandom(65536))
    # Set Chunk Size 0, then a chunk.
    rtmp_after_handshake(s.rtmp_port, rtmp.chunk_fmt0(2, 1, 4, payload=b"\x00\x00\x00\x00")
                         + rtmp.chunk_fmt0(3, 0x14, 100, payload=os.urandom(100)))
    # Set Chunk Size 2^31-1, then an absurd message.
    rtmp_after_handshake(s.rtmp_port, rtmp.chunk_fmt0(2, 1, 4, payload=b"\x7f\xff\xff\xff")
                         + rtmp.chunk_fmt0(3, 0x14, 0xFFFFFF, payload=os.urandom(60000)))
    # A continuation chunk (fmt 3) on a chunk stream never started, and an
    # extended chunk stream id, then junk AMF.
    rtmp_after_handshake(s.rtmp_port, b"\xc5" + os.urandom(300) + b"\x01\xff"
                         + os.urandom(2000))
    rtmp_after_handshake(s.rtmp_port, rtmp.chunk_fmt0(3, 0x14, 40, payload=b"\x02\xff\xff"
                                                      + os.urandom(37)))

    t_after = time.monotonic()
    assert s.alive(), "weir died from garbage:\n" + s.log_tail()
    deadline = time.monotonic() + 10
    while v.count(since=t_after) < 30 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert v.count(since=t_after) >= 30, \
        "the existing viewer stalled: %d frames after the garbage (rc %s)\n%s" % (
            v.count(since=t_after), v.proc.poll(), v.log()[-2000:])
    v2 = viewer(s.rtmp_play_url("live+h"), seconds=2, name="newcomer")
    assert v2.wait(20) == 0 and v2.count() >= 40, "a new viewer got %d frames:\n%s" % (
        v2.count(), v2.log()[-2000:])
    ans = apimod.post_json(s.api_port, {"active_streams": True})
    assert "live+h" in apimod.names(ans.get("active_streams")), ans
    for sock in idle + [partial]:
        sock.close()
    assert pub.alive(), pub.log()[-2000:]
