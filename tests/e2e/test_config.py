"""Config loading, default config, SIGHUP reload, SIGTERM (issue items i, j)."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import wait_live
from helpers import api as apimod
from helpers import net
from helpers.server import SANITIZER_ENV, SANITIZER_PATTERNS


def run_to_exit(cmd, cwd, timeout=15):
    env = dict(os.environ)
    for k, v in SANITIZER_ENV.items():
        env.setdefault(k, v)
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise AssertionError("weir kept running %ss with a bad config: %s" % (timeout, e.stderr))


BAD_CONFIGS = {
    # name: (mutator of the config dict or raw text, text that must be in stderr)
    "dvr-type": (lambda c: c["streams"]["live"].__setitem__("DVR", "big"), "streams.live.DVR"),
    "protocols-type": (lambda c: c["config"].__setitem__("protocols", "all"), "protocols"),
    "not-json": ('{"config": {"controller": {"port": 1}, ', None),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_refused_and_untouched(weir, case):
    """i) a config with a type error: non-zero exit naming the key, file
    byte-identical afterwards."""
    s = weir(start=False)
    mut, key = BAD_CONFIGS[case]
    if isinstance(mut, str):
        with open(s.cfg_path, "w") as f:
            f.write(mut)
    else:
        mut(s.config)
        s.save_config()
    before = open(s.cfg_path, "rb").read()
    mtime = os.stat(s.cfg_path).st_mtime_ns
    r = run_to_exit(s.command(), s.workdir)
    assert r.returncode != 0, "weir accepted a bad config (%s); stderr:\n%s" % (case, r.stderr)
    if key:
        assert key in r.stderr, "stderr does not name %r:\n%s" % (key, r.stderr[-3000:])
    san = [ln for ln in r.stderr.splitlines() if any(p in ln for p in SANITIZER_PATTERNS)]
    assert not san, "sanitizer report on the bad-config path:\n" + r.stderr[-5000:]
    assert open(s.cfg_path, "rb").read() == before, "the bad config file was modified"
    assert os.stat(s.cfg_path).st_mtime_ns == mtime, "the bad config file was rewritten"
    assert not net.can_connect(s.api_port)


# Default protocols listen on well-known ports that may be taken on a shared
# machine; failing to bind them is expected here.
@pytest.mark.allow_log(r"(?i)(bind|listen|in use|EADDRINUSE|port)")
def test_missing_config_writes_default(weir):
    """i) no config file: weir writes the default (streams.live from
    push://127.0.0.1) to ./weir.json and serves the API."""
    s = weir(start=False, write_config=False)
    assert not os.path.exists(s.cfg_path)
    s.command = lambda: [s.binary, "-p", str(s.api_port), "-i", "127.0.0.1", "-d", "4"]
    s.start(wait=False)
    s.wait_ready(ports=[s.api_port])
    deadline = time.monotonic() + 5
    while not os.path.exists(s.cfg_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(s.cfg_path), "no default ./weir.json written"
    cfg = json.load(open(s.cfg_path))
    assert cfg["streams"]["live"]["source"] == "push://127.0.0.1", cfg.get("streams")
    ans = apimod.post_json(s.api_port, {"active_streams": True})
    assert "active_streams" in ans, ans


def test_sighup_reload_and_sigterm(weir, publish, viewer):
    """j) SIGHUP picks up a stream added to the file; SIGTERM with a publisher
    and a viewer connected exits 0 within 5 s."""
    s = weir()
    refused = publish(s, "extra")
    rc = refused.wait(15)
    assert rc is not None and rc != 0, "publishing to an unconfigured stream was accepted"

    s.config["streams"]["extra"] = {"name": "extra", "source": "push://127.0.0.1"}
    s.save_config()
    s.reload()
    deadline = time.monotonic() + 5
    streams = {}
    while time.monotonic() < deadline:
        streams = apimod.post_json(s.api_port, {}).get("streams") or {}
        if "extra" in streams:
            break
        time.sleep(0.2)
    assert "extra" in streams, "SIGHUP did not load the new stream; API streams: %r" % (streams,)
    assert s.alive()

    pub = publish(s, "extra")
    wait_live(s, "extra", pub)
    v = viewer(s.flv_url("extra"))
    assert v.wait_frames(30, 15), v.log()[-2000:]

    rc, secs = s.stop(timeout=10)
    assert rc == 0 and secs < 5, "SIGTERM: rc %s after %.1f s" % (rc, secs)


@pytest.mark.allow_log(r"(?i)(config|DVR|reload)")
def test_sighup_with_bad_config_keeps_running(weir, publish):
    """A reload with a broken file keeps the running config (and the file)."""
    s = weir()
    pub = publish(s, "live+r")
    wait_live(s, "live+r", pub)
    s.config["streams"]["live"]["DVR"] = "big"
    s.save_config()
    before = open(s.cfg_path, "rb").read()
    s.signal(signal.SIGHUP)
    time.sleep(1.5)
    assert s.alive(), "weir died on a bad reload:\n" + s.log_tail()
    assert open(s.cfg_path, "rb").read() == before
    assert pub.alive(), "the publisher was dropped by a failed reload"
    info = s.stream_info("live+r")
    assert not info.get("error"), info
