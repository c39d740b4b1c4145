"""The MistServer-compatible JSON API (issue items g, k, l)."""

import socket
import time

from conftest import wait_live
from helpers import api as apimod
from helpers import net, rtmp
from helpers.api import ApiConnection, AuthedApi, md5hex

ACCOUNT = {"account": {"admin": {"password": md5hex("secret")}}}


def authed_server(weir, trust_loopback=False):
    cfg = dict(ACCOUNT)
    cfg["config"] = {"trust_loopback": trust_loopback}
    return weir(config=cfg, trust_loopback=trust_loopback)


def streams_of(api):
    """The stream config as the API reports it after an (empty) authorized request."""
    ans = api.call({})
    assert isinstance(ans.get("streams"), dict), \
        "an authorized request to /api should answer with the streams config: %r" % (ans,)
    return ans["streams"]


def has_error_entry(ans, cmd):
    v = ans.get(cmd)
    if isinstance(v, dict) and ("error" in v or "status" in v):
        return True
    if isinstance(v, str) and v:
        return True
    for key in ("error", "errors", "unknown"):
        if cmd in str(ans.get(key, "")):
            return True
    return False


def test_api_auth_and_stream_commands(weir):
    """g) challenge/response login, addstream/deletestream, replayed proof,
    unknown command next to a valid one."""
    s = authed_server(weir)

    # Anonymous: a challenge, and nothing else leaks out.
    anon = ApiConnection.open(s.api_port)
    first = anon.call({"streams": True, "active_streams": True})
    a = first.get("authorize", {})
    assert a.get("status") == "CHALL" and len(str(a.get("challenge", ""))) >= 16, first
    assert "streams" not in first and "active_streams" not in first, \
        "unauthorized request got data: %r" % (first,)

    # Wrong password: not OK.
    bad = anon.call({"authorize": {"username": "admin",
                                   "password": apimod.auth_proof("wrong", a["challenge"])},
                     "addstream": {"evil": {"source": "push://"}}})
    assert bad.get("authorize", {}).get("status") != "OK", bad
    anon.close()

    api = AuthedApi(s.api_port, "admin", "secret")
    api.login()
    api.call({"addstream": {"foo": {"source": "push://"}}})
    st = streams_of(api)
    assert "foo" in st and st["foo"].get("source") == "push://", st
    assert "evil" not in st, "a wrong password still added a stream"

    api.call({"deletestream": "foo"})
    st = streams_of(api)
    assert "foo" not in st, st
    assert "live" in st, st

    # Replaying a used proof on a new connection must not log in.
    other = ApiConnection.open(s.api_port)
    rep = other.call({"authorize": api.last_proof, "addstream": {"evil": {"source": "push://"}}})
    assert rep.get("authorize", {}).get("status") == "CHALL", \
        "replayed challenge proof was accepted: %r" % (rep,)
    other.close()
    assert "evil" not in streams_of(api)

    # One unknown command next to a valid one.
    ans = api.call({"frobnicate": {"x": 1}, "active_streams": True})
    assert "active_streams" in ans, ans
    assert has_error_entry(ans, "frobnicate"), \
        "no error entry for the unknown command: %r" % (ans,)
    api.close()


def test_api_proxy_headers_are_not_trusted(weir):
    """Loopback is trusted, but not a loopback request carrying X-Forwarded-For
    or X-Real-IP (it came through a proxy)."""
    s = authed_server(weir, trust_loopback=True)
    ans = apimod.post_json(s.api_port, {"active_streams": True})
    assert "active_streams" in ans and ans.get("authorize", {}).get("status") in (None, "OK"), ans
    for h in ("X-Forwarded-For", "X-Real-IP"):
        ans = apimod.post_json(s.api_port, {"active_streams": True}, headers={h: "203.0.113.7"})
        assert ans.get("authorize", {}).get("status") == "CHALL" and \
            "active_streams" not in ans, "%s request was trusted: %r" % (h, ans)


def test_add_and_delete_protocol(weir):
    """k) addprotocol starts a second RTMP listener, deleteprotocol stops it,
    without a restart."""
    s = weir()
    p2 = net.free_port()
    s.api({"addprotocol": {"connector": "RTMP", "port": p2}})
    assert net.wait_port(p2, timeout=5), "addprotocol did not open port %d" % p2
    sock = rtmp.handshake(p2)  # it speaks RTMP
    sock.close()
    s.api({"deleteprotocol": {"connector": "RTMP", "port": p2}})
    assert net.wait_port_closed(p2, timeout=5), "deleteprotocol left port %d open" % p2
    sock = rtmp.handshake(s.rtmp_port)  # the configured listener is untouched
    sock.close()
    assert s.alive()


def test_clients_and_active_streams(weir, publish, viewer):
    """l) `clients` lists a viewer with its protocol and bytes sent;
    `active_streams` lists the stream while it is published."""
    s = weir()
    pub = publish(s, "live+l")
    wait_live(s, "live+l", pub)
    ans = s.api({"active_streams": True})
    assert "live+l" in apimod.names(ans.get("active_streams")), ans
    v = viewer(s.flv_url("live+l"))
    assert v.wait_frames(30, 15), v.log()[-2000:]
    deadline = time.monotonic() + 8
    rows = []
    while time.monotonic() < deadline:
        ans = s.api({"clients": {}})
        rows = apimod.rows(ans.get("clients"))
        hits = [r for r in rows if r.get("stream") == "live+l" and r.get("protocol")
                and isinstance(r.get("down"), (int, float)) and r["down"] > 100000]
        if hits:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("no viewer of live+l with protocol and down > 100 kB in clients: %r"
                             % (rows,))
    assert pub.alive()


def test_request_body_in_a_later_segment(weir):
    """Real clients (Python http.client, browsers with bigger bodies) send the
    head and the body in separate writes; the server must wait for the body."""
    s = weir()
    head = b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 24\r\n\r\n"
    body = b'{"active_streams": true}'
    for what, parts in (("head|body", [head, body]), ("head+half|half", [head + body[:5],
                                                                          body[5:]])):
        sock = socket.create_connection(("127.0.0.1", s.api_port), timeout=5)
        for p in parts:
            sock.sendall(p)
            time.sleep(0.2)
        reply = net.recv_some(sock, timeout=3)
        sock.close()
        assert reply.startswith(b"HTTP/1.1 200") and b"active_streams" in reply, \
            "request sent as %s got %r" % (what, reply[:200])
