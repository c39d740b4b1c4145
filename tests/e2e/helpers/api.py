"""MistServer-style JSON API client (POST /api with a JSON object of commands)."""

import hashlib
import http.client
import json


def md5hex(s):
    return hashlib.md5(s.encode()).hexdigest()


def auth_proof(password, challenge):
    """MistServer's proof: MD5(MD5(password) + challenge), hex."""
    return md5hex(md5hex(password) + challenge)


def _parse(body, what):
    text = body.decode("utf-8", "replace").strip()
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError("API answer to %s is not JSON: %r" % (what, text[:300]))


def post_json(port, cmds, timeout=10.0, path="/api", headers=None):
    """One request on a fresh connection; returns the parsed answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return ApiConnection(c, path).call(cmds, headers=headers)
    finally:
        c.close()


class ApiConnection:
    """One keep-alive HTTP connection to the API."""

    def __init__(self, conn, path="/api"):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, port, timeout=10.0, path="/api"):
        return cls(http.client.HTTPConnection("127.0.0.1", port, timeout=timeout), path)

    def call(self, cmds, headers=None):
        body = json.dumps(cmds).encode()
        h = {"Content-Type": "application/json", "Connection": "keep-alive"}
        h.update(headers or {})
        try:
            self.conn.request("POST", self.path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
        except TimeoutError:
            raise AssertionError("API request %s got no answer within %ss (http.client sends "
                                 "the head and the body in separate writes)"
                                 % (body[:200].decode(errors="replace"), self.conn.timeout))
        assert r.status == 200, "API HTTP status %d for %r: %r" % (r.status, cmds, data[:300])
        return _parse(data, cmds)

    def close(self):
        self.conn.close()


class AuthedApi:
    """Logs in with MistServer's challenge/response and keeps the connection.

    Works whether the server remembers the login per connection (MistServer)
    or asks again: when an answer carries a new CHALL, it answers it with a
    fresh proof and repeats the request once."""

    def __init__(self, port, username, password, timeout=10.0):
        self.username = username
        self.password = password
        self.conn = ApiConnection.open(port, timeout=timeout)
        self.last_proof = None
        self.last_challenge = None

    def _authorize(self, challenge):
        self.last_challenge = challenge
        self.last_proof = {"username": self.username,
                           "password": auth_proof(self.password, challenge)}
        return self.last_proof

    def login(self):
        first = self.conn.call({})
        a = first.get("authorize", {})
        assert a.get("status") == "CHALL" and a.get("challenge"), \
            "expected a CHALL challenge for an anonymous request, got %r" % (first,)
        ans = self.conn.call({"authorize": self._authorize(a["challenge"])})
        status = ans.get("authorize", {}).get("status")
        assert status == "OK", "login with a correct proof failed: %r" % (ans,)
        return first, ans

    def call(self, cmds):
        ans = self.conn.call(cmds)
        a = ans.get("authorize") if isinstance(ans, dict) else None
        if isinstance(a, dict) and a.get("status") == "CHALL" and a.get("challenge"):
            req = dict(cmds)
            req["authorize"] = self._authorize(a["challenge"])
            ans = self.conn.call(req)
        return ans

    def close(self):
        self.conn.close()


def rows(answer):
    """Normalizes a MistServer table answer ({fields:[..], data:[[..],..]}) or a
    list of objects into a list of dicts."""
    if isinstance(answer, dict) and "fields" in answer and "data" in answer:
        return [dict(zip(answer["fields"], row)) for row in answer["data"]]
    if isinstance(answer, list):
        return [r for r in answer if isinstance(r, dict)]
    if isinstance(answer, dict):
        return [dict(v, _key=k) for k, v in answer.items() if isinstance(v, dict)]
    return []


def names(answer):
    """Stream names in an active_streams answer (list of names, object keyed by
    name, or a fields/data table)."""
    if isinstance(answer, list):
        return [x if isinstance(x, str) else x.get("name") for x in answer]
    if isinstance(answer, dict):
        if "fields" in answer and "data" in answer:
            return [r.get("name") or r.get("stream") for r in rows(answer)]
        return list(answer.keys())
    return []
