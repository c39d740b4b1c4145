"""Fixtures for weir's end-to-end tests.

Nothing is built here: the binary under test is $WEIR_BIN (default
build/weir). Each test starts its own weir on free ports with a generated
config, drives it with real clients (ffmpeg, ffprobe, raw sockets) and, at
teardown, stops it with SIGTERM and fails if it did not exit 0 promptly or if
its log holds FAIL/ERROR lines or sanitizer reports. A test that expects some
error lines declares them with @pytest.mark.allow_log(r"regex", ...) or
server.allow_log(...).
"""

import os
import signal
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import api as apimod  # noqa: E402
from helpers import media  # noqa: E402
from helpers.server import WeirServer  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log(*regexes): server log lines matching these are expected")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def weir_bin():
    b = os.environ.get("WEIR_BIN", os.path.join(REPO, "build", "weir"))
    b = os.path.abspath(os.path.join(REPO, b)) if not os.path.isabs(b) else b
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        pytest.fail("weir binary not found at %s (set WEIR_BIN or build first)" % b,
                    pytrace=False)
    return b


@pytest.fixture(scope="session")
def clips():
    cache = os.environ.get("WEIR_E2E_CACHE",
                           os.path.join(tempfile.gettempdir(), "weir-e2e-media"))
    return media.make_clips(cache)


@pytest.fixture
def weir(weir_bin, tmp_path, request):
    """Factory: weir(config=None, args=(), trust_loopback=True, start=True).

    `config` is deep-merged into the base config (a None value deletes a key).
    Returns a started WeirServer."""
    servers = []
    marker_allowed = []
    for m in request.node.iter_markers("allow_log"):
        marker_allowed.extend(m.args)

    def make(config=None, args=(), trust_loopback=True, start=True, write_config=True):
        s = WeirServer(weir_bin, str(tmp_path / ("weir%d" % len(servers))), config=config,
                       args=args, trust_loopback=trust_loopback, write_config=write_config)
        servers.append(s)
        if start:
            s.start()
        return s

    yield make

    problems = []
    for s in servers:
        if s.proc is None:
            continue
        died = s.proc.poll()
        if died is not None:
            if not s.stopped and not s.expect_exit:
                problems.append("weir exited during the test with rc %s" % died)
        else:
            rc, secs = s.stop()
            if rc is None:
                problems.append("weir did not exit within %.0fs of SIGTERM" % secs)
            elif rc != 0:
                problems.append("weir exited with rc %s after SIGTERM" % rc)
        bad = s.bad_log_lines(marker_allowed)
        if bad:
            problems.append("server log has %d bad line(s):\n  %s"
                            % (len(bad), "\n  ".join(bad[:40])))
    failed = any(getattr(request.node, "rep_" + w, None) is not None and
                 getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    if failed or problems:
        for s in servers:
            print("---- %s (last lines) ----\n%s" % (s.log_path, s.log_tail(80)))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def publish(weir, clips, tmp_path):
    """Factory: publish(server, stream, clip="720p", loop=True) -> Publisher."""
    pubs = []

    def make(server, stream, clip="720p", loop=True, app="live"):
        p = media.Publisher(clips[clip], server.rtmp_publish_url(stream, app), str(tmp_path),
                            loop=loop, name="pub-" + stream)
        pubs.append(p)
        return p

    yield make
    for p in pubs:
        p.stop(signal.SIGTERM)


@pytest.fixture
def viewer(weir, tmp_path):
    """Factory: viewer(url, seconds=None) -> Viewer (framecrc per packet)."""
    vs = []

    def make(url, seconds=None, name="viewer", rw_timeout=True):
        v = media.Viewer(url, seconds=seconds, logdir=str(tmp_path), name=name,
                         rw_timeout=rw_timeout)
        vs.append(v)
        return v

    yield make
    for v in vs:
        v.stop()


def tracks_of(info):
    """The track objects of a json_<stream>.js answer (dict or list form)."""
    t = (info.get("meta") or {}).get("tracks") if isinstance(info, dict) else None
    if isinstance(t, dict):
        return list(t.values())
    if isinstance(t, list):
        return t
    return []


def wait_live(server, stream, pub=None, timeout=20.0, ntracks=2):
    """Waits until `stream` is live with at least ntracks tracks, judged by
    /json_<stream>.js (or, failing that, by the API's active_streams plus a
    second for the tracks to settle)."""
    deadline = time.monotonic() + timeout
    listed_at = None
    last = None
    while time.monotonic() < deadline:
        if pub is not None and not pub.alive():
            raise AssertionError("publisher to %s exited (rc %s):\n%s"
                                 % (stream, pub.proc.returncode, pub.log()[-2000:]))
        try:
            last = server.stream_info(stream, timeout=2)
            if len(tracks_of(last)) >= ntracks:
                return last
        except (OSError, AssertionError, ValueError) as e:
            last = e
        try:
            ans = server.api({"active_streams": True}, timeout=2)
            if stream in apimod.names(ans.get("active_streams")):
                listed_at = listed_at or time.monotonic()
                if time.monotonic() - listed_at > 1.5:
                    return last
        except (OSError, AssertionError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("stream %s not live within %.0fs; last json_ answer: %r; publisher log:"
                         "\n%s" % (stream, timeout, last, pub.log()[-2000:] if pub else ""))
