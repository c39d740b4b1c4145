"""Small socket helpers: free ports, waiting for listeners, raw HTTP."""

import json
import socket
import time
import urllib.error
import urllib.request


def free_ports(n):
    """Returns n distinct TCP ports that were free a moment ago on 127.0.0.1.

    All sockets are held open until every port is chosen so the kernel does
    not hand out the same port twice."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def can_connect(port, host="127.0.0.1", timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(port, timeout=10.0, host="127.0.0.1", alive=None):
    """Waits until something accepts on port. `alive` is an optional callable
    returning False when waiting is pointless (e.g. the server exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if can_connect(port, host, timeout=0.5):
            return True
        if alive is not None and not alive():
            return False
        time.sleep(0.05)
    return False


def wait_port_closed(port, timeout=10.0, host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not can_connect(port, host, timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def http_get(url, timeout=5.0, headers=None):
    """GET url; returns (status, headers dict, body bytes). HTTP errors are
    returned, not raised; connection errors raise OSError."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers or {}), e.read()


def http_get_json(url, timeout=5.0):
    """GET url and parse JSON; tolerates a JSONP-style wrapper."""
    status, _, body = http_get(url, timeout=timeout)
    text = body.decode("utf-8", "replace").strip()
    try:
        return status, json.loads(text)
    except ValueError:
        # Tolerate "callback({...});" or "var x = {...};"
        a, b = text.find("{"), text.rfind("}")
        if a >= 0 and b > a:
            return status, json.loads(text[a:b + 1])
        raise AssertionError("not JSON from %s (HTTP %s): %r" % (url, status, text[:300]))


def recv_some(sock, timeout=2.0, limit=1 << 20):
    """Reads whatever arrives within timeout (until EOF or limit). Never raises."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while len(data) < limit and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data
