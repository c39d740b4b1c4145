"""Pushes and pull inputs through the API (src/control/pushes.c, inputs.c).

- push_* commands: MistServer's argument forms, weir's documented answers,
  clear errors for targets no output serves, auto-push rules and settings
  saved in the config file.
- With the TSUDP output: a real push (push_start, push_list, ffprobe on the
  receiving port, push_stop), an auto-push, pushes stopped when their stream
  goes offline.
- With the TSUDP input: an always_on tsudp:// stream whose port is taken is
  restarted with backoff until it can listen, then plays over HTTP-FLV and
  survives its sender restarting; an on-demand tsudp:// stream booted by a
  push and stopped after inputtimeout without readers.
The driver-dependent tests skip (only) when `capabilities` lacks the driver.
"""

import json
import os
import socket
import subprocess
import time

import pytest

from conftest import wait_live
from helpers import media


# -- helpers -----------------------------------------------------------------

def capabilities(server):
    return server.api({"capabilities": True})["capabilities"]


def has_driver(capa, section, scheme):
    """True when capabilities[section] has a driver matching scheme://."""
    key = "source_match" if section == "inputs" else "url_match"
    for d in (capa.get(section) or {}).values():
        if any(str(p).startswith(scheme + "://") for p in d.get(key) or []):
            return True
    return False


def udp_port():
    """A UDP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def stream_status(server, name):
    st = server.api({"streams": True})["streams"].get(name) or {}
    return st.get("online"), st.get("error")


def saved_config(server):
    with open(server.cfg_path) as f:
        return json.load(f)


class TsSender:
    """ffmpeg -re sending a clip (looped) as MPEG-TS over UDP."""

    def __init__(self, clip, port, logdir):
        self.log_path = os.path.join(logdir, "ts-sender-%d.log" % int(time.time() * 1000))
        self._log = open(self.log_path, "wb")
        cmd = [media.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "warning", "-re",
               "-stream_loop", "-1", "-i", clip, "-c", "copy", "-f", "mpegts",
               "udp://127.0.0.1:%d?pkt_size=1316" % port]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def ts_sender(clips, tmp_path):
    senders = []

    def make(port, clip="720p"):
        s = TsSender(clips[clip], port, str(tmp_path))
        senders.append(s)
        return s

    yield make
    for s in senders:
        s.stop()


def assert_av(info, what):
    st = media.streams_by_type(info)
    assert [s.get("codec_name") for s in st.get("video", [])] == ["h264"], (what, info)
    assert [s.get("codec_name") for s in st.get("audio", [])] == ["aac"], (what, info)


# -- API surface (no push driver needed) ---------------------------------------

def test_push_api_errors_and_rules(weir, publish):
    s = weir()
    pub = publish(s, "live")
    wait_live(s, "live", pub)
    capa = capabilities(s)

    if not has_driver(capa, "outputs", "rtmp"):
        ans = s.api({"push_start": ["live", "rtmp://127.0.0.1:1/live/x"], "push_list": True})
        assert ans["push_start"] == {"error": "no output for target rtmp://127.0.0.1:1/live/x"}
        assert ans["push_list"] == []
        ans = s.api({"push_auto_add": {"stream": "live", "target": "rtmp://127.0.0.1:1/x"}})
        assert ans["push_auto_add"] == {"error": "no output for target rtmp://127.0.0.1:1/x"}
    ans = s.api({"push_start": {"stream": "live", "target": "nosuch://x/$stream"}})
    assert ans["push_start"] == {"error": "no output for target nosuch://x/$stream"}
    ans = s.api({"push_start": ["unknown", "nosuch://x"]})
    assert ans["push_start"] == {"error": "stream unknown not configured"}
    ans = s.api({"push_start": ["live"]})
    assert "error" in ans["push_start"]
    ans = s.api({"push_stop": [42]})
    assert ans["push_stop"] == {"stopped": [], "error": "no push with id [42]"}

    ans = s.api({"push_settings": {"wait": 7}})
    assert ans["push_settings"] == {"wait": 7, "maxspeed": 0}
    ans = s.api({"push_settings": {"wait": -1}})
    assert "error" in ans["push_settings"]
    wait_for("push_settings saved",
             lambda: saved_config(s).get("push_settings", {}).get("wait") == 7, 5)

    if has_driver(capa, "outputs", "tsudp"):
        target = "tsudp://127.0.0.1:%d" % udp_port()
        ans = s.api({"push_auto_add": ["Live+", target]})
        assert ans["push_auto_add"] == ["live+", target]
        assert ans["push_auto_list"] == [["live+", target]]
        wait_for("autopushes saved",
                 lambda: saved_config(s).get("autopushes") == [["live+", target]], 5)
        ans = s.api({"push_auto_remove": "live+", "push_auto_list": True})
        assert ans["push_auto_list"] == []
        wait_for("autopushes emptied", lambda: saved_config(s).get("autopushes") == [], 5)
    ans = s.api({"push_auto_remove": ["live", "nosuch://x"]})
    assert ans["push_auto_remove"] == {"error": "no matching auto-push rule"}
    assert pub.alive(), pub.log()[-2000:]


def test_always_on_without_input_driver(weir):
    s = weir(config={"streams": {"bogus": {"source": "nosuch://x", "always_on": True}}})
    online, error = wait_for("the input failure in the API",
                             lambda: (lambda st: st if st[1] and "no input" in st[1] else None)(
                                 stream_status(s, "bogus")), 5)
    assert online == 0
    assert error == "no input for source nosuch://x"
    ans = s.api({"deletestream": "bogus"})
    assert "bogus" not in ans["streams"]


# -- with the TSUDP output -----------------------------------------------------

def test_push_tsudp_list_stop_and_auto(weir, publish):
    s = weir()
    if not has_driver(capabilities(s), "outputs", "tsudp"):
        pytest.skip("no TSUDP push output in capabilities")
    pub = publish(s, "live")
    wait_live(s, "live", pub)

    port = udp_port()
    target = "tsudp://127.0.0.1:%d" % port
    ans = s.api({"push_start": ["live", target], "push_list": True})
    pid = ans["push_start"]["id"]
    rows = ans["push_list"]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row[:4] == [pid, "live", target, target], row
    assert isinstance(row[4], list) and row[4], row
    assert row[5]["output"] == "TSUDP" and row[5]["auto"] is False, row
    assert_av(media.probe("udp://127.0.0.1:%d" % port), target)
    again = s.api({"push_start": {"stream": "live", "target": target}})
    assert again["push_start"] == {"id": pid}  # the same push, not a second one
    ans = s.api({"push_stop": pid, "push_list": True})
    assert ans["push_stop"] == {"stopped": [pid]}
    assert ans["push_list"] == []

    # auto-push: starts at once for the live stream, shows as auto
    port2 = udp_port()
    target2 = "tsudp://127.0.0.1:%d" % port2
    ans = s.api({"push_settings": {"wait": 1}, "push_auto_add": ["live", target2],
                 "push_list": True})
    assert [r[2] for r in ans["push_list"]] == [target2], ans["push_list"]
    assert ans["push_list"][0][5]["auto"] is True
    assert_av(media.probe("udp://127.0.0.1:%d" % port2), target2)

    # the stream goes offline (publisher gone, grace over): pushes stop
    pub.stop()
    wait_for("pushes stopped", lambda: s.api({"push_list": True})["push_list"] == [], 20)


# -- with the TSUDP input ------------------------------------------------------

def test_always_on_tsudp_restarts(weir, ts_sender):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    try:
        s = weir(config={"streams": {"udpin": {
            "source": "tsudp://127.0.0.1:%d" % port, "always_on": True}}})
        if not has_driver(capabilities(s), "inputs", "tsudp"):
            pytest.skip("no TSUDP input in capabilities")
        # the port is taken: the input fails, says why, and is retried
        wait_for("a restart in the log", lambda: "restarting in 1 s" in s.log_text(), 10)
        online, error = stream_status(s, "udpin")
        assert online != 1 and error and "Stream is offline" not in error, (online, error)
    finally:
        blocker.close()
    wait_for("the input to start", lambda: "input TSUDP started" in s.log_text(), 25)

    sender = ts_sender(port)
    wait_live(s, "udpin", timeout=30)
    assert_av(media.probe(s.flv_url("udpin")), "udpin.flv")
    assert stream_status(s, "udpin") == (1, None)

    # the sender restarts: the always_on input keeps (or regains) the stream
    sender.stop()
    time.sleep(3)
    ts_sender(port)
    wait_live(s, "udpin", timeout=30)
    assert_av(media.probe(s.flv_url("udpin")), "udpin.flv after the sender restarted")


def test_on_demand_tsudp_booted_by_push(weir, ts_sender):
    in_port, out_port = udp_port(), udp_port()
    s = weir(config={"streams": {"od": {
        "source": "tsudp://127.0.0.1:%d" % in_port, "inputtimeout": 3}}})
    capa = capabilities(s)
    if not (has_driver(capa, "inputs", "tsudp") and has_driver(capa, "outputs", "tsudp")):
        pytest.skip("no TSUDP input and output in capabilities")
    assert "input TSUDP started" not in s.log_text()  # on demand: nothing yet

    target = "tsudp://127.0.0.1:%d" % out_port
    pid = s.api({"push_start": ["od", target]})["push_start"]["id"]
    wait_for("the on-demand input", lambda: "input TSUDP started" in s.log_text(), 5)
    online, _ = stream_status(s, "od")
    assert online == 2
    ts_sender(in_port)
    assert_av(media.probe("udp://127.0.0.1:%d" % out_port), target)
    assert s.api({"push_list": True})["push_list"][0][5]["state"] == "active"

    # no readers left: stopped after inputtimeout (3 s)
    s.api({"push_stop": pid})
    wait_for("the idle stop", lambda: "no viewers for 3 s" in s.log_text(), 15)
