"""A small RTMP publisher in Python: enough of the protocol (simple
handshake, connect, createStream, publish, chunked audio/video messages)
to push FLV tags as fast as the socket takes them. Used where starting
ffmpeg per publish would be too slow (soak tests: 1000 publish cycles)."""

import socket
import struct

from . import rtmp

CHUNK = 60000


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", float(n))


def amf_obj(d):
    out = b"\x03"
    for k, v in d.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb
        out += amf_str(v) if isinstance(v, str) else amf_num(v)
    return out + b"\x00\x00\x09"


AMF_NULL = b"\x05"


def read_flv_tags(path, max_ms=None):
    """[(type, timestamp_ms, body)] of an FLV file (audio 8, video 9, data 18)."""
    data = open(path, "rb").read()
    pos = struct.unpack(">I", data[5:9])[0] + 4
    tags = []
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        body = data[pos + 11:pos + 11 + size]
        if len(body) < size:
            break
        if max_ms is not None and ts > max_ms:
            break
        tags.append((ttype, ts, body))
        pos += 11 + size + 4
    return tags


def message(csid, mtype, body, stream_id=0, ts=0):
    """One message as fmt-0 chunk + type-3 continuations at CHUNK bytes."""
    hdr = bytes([csid]) + min(ts, 0xFFFFFF).to_bytes(3, "big") + len(body).to_bytes(3, "big")
    hdr += bytes([mtype]) + struct.pack("<I", stream_id)
    if ts >= 0xFFFFFF:
        hdr += struct.pack(">I", ts)
    out = hdr + body[:CHUNK]
    for off in range(CHUNK, len(body), CHUNK):
        out += bytes([0xC0 | csid]) + body[off:off + CHUNK]
    return out


class Publisher:
    def __init__(self, port, app, stream, host="127.0.0.1", timeout=5.0):
        self.sock = rtmp.handshake(port, host, timeout)
        self.sock.settimeout(timeout)
        s = self.sock
        s.sendall(message(2, 1, struct.pack(">I", CHUNK)))
        s.sendall(message(3, 20, amf_str("connect") + amf_num(1) + amf_obj(
            {"app": app, "type": "nonprivate", "tcUrl": "rtmp://%s:%d/%s" % (host, port, app)})))
        s.sendall(message(3, 20, amf_str("createStream") + amf_num(2) + AMF_NULL))
        s.sendall(message(3, 20, amf_str("publish") + amf_num(0) + AMF_NULL + amf_str(stream)
                          + amf_str("live"), stream_id=1))

    def send_tags(self, tags):
        buf = bytearray()
        for ttype, ts, body in tags:
            if ttype in (8, 9):
                buf += message(4 if ttype == 8 else 6, ttype, body, stream_id=1, ts=ts)
        self.sock.sendall(bytes(buf))

    def drain(self):
        """Reads whatever the server sent (status messages)."""
        self.sock.settimeout(0.002)
        try:
            while self.sock.recv(65536):
                pass
        except (socket.timeout, BlockingIOError, ConnectionError):
            pass

    def close(self, abrupt=False):
        if abrupt:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
