"""A bare RTMP client for abuse tests: just enough to complete the simple
(unencrypted, digest-less) handshake and send hand-made chunks."""

import os
import socket
import struct
import time


def recv_exact(sock, n, timeout=5.0):
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def handshake(port, host="127.0.0.1", timeout=5.0):
    """Connects and performs C0C1 / S0S1S2 / C2. Returns the socket."""
    s = socket.create_connection((host, port), timeout=timeout)
    c1 = struct.pack(">II", int(time.time()) & 0xFFFFFFFF, 0) + os.urandom(1528)
    s.sendall(b"\x03" + c1)
    s0s1s2 = recv_exact(s, 1 + 1536 + 1536, timeout)
    assert s0s1s2[0] == 3, "S0 version %d" % s0s1s2[0]
    s1 = s0s1s2[1:1537]
    s.sendall(s1)  # C2 echoes S1
    return s


def chunk_fmt0(csid, msg_type, length, stream_id=0, timestamp=0, payload=b""):
    """Chunk basic header fmt 0 (csid < 64) + 11-byte message header + payload.
    `length` is the message length field, which may lie about the payload."""
    assert 2 <= csid < 64
    hdr = bytes([csid])
    hdr += timestamp.to_bytes(3, "big") + length.to_bytes(3, "big") + bytes([msg_type])
    hdr += struct.pack("<I", stream_id)
    return hdr + payload
