"""A tiny RFC 6455 WebSocket client on a plain socket, for the e2e tests.

It can also misbehave on purpose: send raw bytes, unmasked frames, reserved
opcodes, or simply stop reading."""

import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class HandshakeError(AssertionError):
    def __init__(self, status, head):
        AssertionError.__init__(self, "WebSocket handshake refused: %s\n%s" % (status, head))
        self.status = status
        self.head = head


class Closed(Exception):
    """The server closed the TCP connection."""


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class WsClient:
    def __init__(self, port, path, host="127.0.0.1", timeout=10.0, rcvbuf=None, version="13"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n"
               "Origin: http://%s:%d\r\n\r\n" % (path, host, port, key, version, host, port))
        self.sock.sendall(req.encode())
        head = self._read_head()
        lines = head.split("\r\n")
        status = lines[0]
        self.status = int(status.split(" ")[1]) if len(status.split(" ")) > 1 else 0
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        if self.status != 101:
            self.body = self.buf
            raise HandshakeError(self.status, head)
        assert self.headers.get("sec-websocket-accept") == accept_key(key), head
        assert self.headers.get("upgrade", "").lower() == "websocket", head

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise Closed("closed during the handshake: %r" % self.buf)
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head.decode("latin-1")

    # -- sending ------------------------------------------------------------

    @staticmethod
    def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if not mask:
            return hdr + payload
        key = os.urandom(4)
        return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))

    def send(self, opcode, payload=b"", **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_json(self, obj):
        self.send(OP_TEXT, json.dumps(obj))

    def close(self, code=1000, reason=""):
        try:
            self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass

    def shutdown(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- receiving ----------------------------------------------------------

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete frame in time")
            self.sock.settimeout(left)
            d = self.sock.recv(262144)
            if not d:
                raise Closed("server closed the connection")
            self.buf += d

    def recv_frame(self, timeout=10.0):
        """(fin, opcode, payload) of the next frame; server frames must not
        be masked."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not (b1 & 0x80), "server sent a masked frame"
        assert not (b0 & 0x70), "server set RSV bits"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self, timeout=10.0):
        """(opcode, payload) of the next data or control message
        (continuations joined)."""
        fin, op, data = self.recv_frame(timeout)
        if op >= OP_CLOSE:
            return op, data
        while not fin:
            fin, cop, more = self.recv_frame(timeout)
            assert cop == OP_CONT, "expected a continuation, got opcode %d" % cop
            data += more
        return op, data


def parse_close(payload):
    """(code, reason) of a close payload; (1005, "") when empty."""
    if len(payload) < 2:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")


def boxes(data):
    """Top-level MP4 box types of data, in order."""
    out, off = [], 0
    while off + 8 <= len(data):
        size, kind = struct.unpack("!I4s", data[off:off + 8])
        if size == 1:
            size = struct.unpack("!Q", data[off + 8:off + 16])[0]
        if size < 8:
            break
        out.append(kind.decode("latin-1"))
        off += size
    return out
