"""HLS / LL-HLS / DASH helpers for the e2e tests: timed HTTP GETs, m3u8
parsing, MPD parsing, TS packet checks, ffprobe wrappers, and a shared
server+publisher for a whole test module (the conftest fixtures are
function-scoped; these tests need a stream that has been live for a while)."""

import datetime
import http.client
import json
import os
import re
import signal
import time
import urllib.parse
import xml.etree.ElementTree as ET

from . import media
from .server import WeirServer

# -- HTTP ---------------------------------------------------------------------


class Resp:
    def __init__(self, status, headers, body, elapsed, url):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body
        self.elapsed = elapsed
        self.url = url

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%s %s %.3fs %d bytes>" % (self.url, self.status, self.elapsed, len(self.body))


def get(url, timeout=10.0, headers=None):
    """GET url on a fresh connection; returns Resp (any status), timing the
    whole exchange. Raises AssertionError on connection problems/timeouts."""
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    t0 = time.monotonic()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return Resp(r.status, hdrs, body, time.monotonic() - t0, url)
    except OSError as e:
        raise AssertionError("GET %s failed after %.2fs: %r" % (url, time.monotonic() - t0, e))
    finally:
        c.close()


def get_ok(url, timeout=10.0):
    r = get(url, timeout=timeout)
    assert r.status == 200, "GET %s: HTTP %s (%r)" % (url, r.status, r.body[:200])
    return r


def join(base, ref):
    return urllib.parse.urljoin(base, ref)


# -- m3u8 ---------------------------------------------------------------------

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attrs(s):
    """Attribute list -> dict (quotes stripped)."""
    out = {}
    for k, v in _ATTR.findall(s):
        out[k] = v[1:-1] if v.startswith('"') else v
    return out


def parse_pdt(s):
    """ISO-8601 date-time -> unix seconds (float)."""
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(s).timestamp()


class Master:
    def __init__(self, text):
        self.text = text
        self.lines = [line.strip() for line in text.splitlines() if line.strip()]
        self.variants = []  # (attrs, uri)
        self.media = []  # attrs of EXT-X-MEDIA
        self.version = None
        for i, line in enumerate(self.lines):
            if line.startswith("#EXT-X-STREAM-INF:"):
                uri = self.lines[i + 1] if i + 1 < len(self.lines) else None
                self.variants.append((attrs(line.split(":", 1)[1]), uri))
            elif line.startswith("#EXT-X-MEDIA:"):
                self.media.append(attrs(line.split(":", 1)[1]))
            elif line.startswith("#EXT-X-VERSION:"):
                self.version = int(line.split(":", 1)[1])


class Segment:
    def __init__(self, msn):
        self.msn = msn
        self.duration = None  # EXTINF; None for the segment in progress
        self.uri = None
        self.pdt = None
        self.parts = []  # dicts: DURATION (float), URI, INDEPENDENT (bool)
        self.discontinuity = False
        self.map = None

    def __repr__(self):
        return "Seg(%d, %s, %s, %d parts)" % (self.msn, self.duration, self.uri, len(self.parts))


class Media:
    """A parsed media playlist. `segments` holds complete segments (with an
    EXTINF) and, last, the segment in progress when it has parts listed."""

    def __init__(self, text):
        self.text = text
        self.lines = [line.strip() for line in text.splitlines() if line.strip()]
        self.version = None
        self.target = None
        self.media_sequence = 0
        self.part_target = None
        self.server_control = {}
        self.preload_hint = None
        self.skip = None
        self.reports = []
        self.endlist = False
        self.segments = []
        self.tags = []
        assert self.lines and self.lines[0] == "#EXTM3U", \
            "playlist does not start with #EXTM3U:\n" + text[:500]
        cur = None
        pending_pdt = None
        pending_map = None
        pending_disc = False
        skipped = 0
        for line in self.lines[1:]:
            if line.startswith("#"):
                name, _, val = line.partition(":")
                self.tags.append(name)
            else:
                name, val = None, None
            if name == "#EXT-X-VERSION":
                self.version = int(val)
            elif name == "#EXT-X-TARGETDURATION":
                self.target = int(val)
            elif name == "#EXT-X-MEDIA-SEQUENCE":
                self.media_sequence = int(val)
            elif name == "#EXT-X-PART-INF":
                self.part_target = float(attrs(val)["PART-TARGET"])
            elif name == "#EXT-X-SERVER-CONTROL":
                self.server_control = attrs(val)
            elif name == "#EXT-X-PRELOAD-HINT":
                self.preload_hint = attrs(val)
            elif name == "#EXT-X-SKIP":
                self.skip = attrs(val)
                skipped = int(self.skip.get("SKIPPED-SEGMENTS", "0"))
            elif name == "#EXT-X-RENDITION-REPORT":
                self.reports.append(attrs(val))
            elif name == "#EXT-X-ENDLIST":
                self.endlist = True
            elif name == "#EXT-X-PROGRAM-DATE-TIME":
                pending_pdt = parse_pdt(val)
            elif name == "#EXT-X-MAP":
                pending_map = attrs(val).get("URI")
            elif name == "#EXT-X-DISCONTINUITY":
                pending_disc = True
            elif name in ("#EXT-X-PART", "#EXTINF") or name is None:
                if cur is None:
                    cur = Segment(self.media_sequence + skipped + len(self.segments))
                    cur.pdt, pending_pdt = pending_pdt, None
                    cur.map, pending_map = pending_map, None
                    cur.discontinuity, pending_disc = pending_disc, False
                if name == "#EXT-X-PART":
                    a = attrs(val)
                    cur.parts.append({"DURATION": float(a["DURATION"]), "URI": a["URI"],
                                      "INDEPENDENT": a.get("INDEPENDENT") == "YES"})
                elif name == "#EXTINF":
                    cur.duration = float(val.split(",")[0])
                else:
                    cur.uri = line
                    self.segments.append(cur)
                    cur = None
        if cur is not None:
            self.segments.append(cur)

    @property
    def complete(self):
        return [s for s in self.segments if s.uri is not None]

    @property
    def partial(self):
        """The segment in progress (parts only), or None."""
        return self.segments[-1] if self.segments and self.segments[-1].uri is None else None

    def count(self, tag):
        return sum(1 for t in self.tags if t == tag)

    def all_parts(self):
        """[(msn, part index, part dict)] in order."""
        return [(s.msn, i, p) for s in self.segments for i, p in enumerate(s.parts)]

    def next_part(self):
        """(msn, part) the next part to appear should have."""
        p = self.partial
        if p is not None:
            return p.msn, len(p.parts)
        last = self.segments[-1].msn if self.segments else self.media_sequence - 1
        return last + 1, 0

    def last_msn(self):
        return self.segments[-1].msn if self.segments else None


PART_NAME = re.compile(r"^(\d+)\.(\d+)\.(ts|m4s)$")
SEG_NAME = re.compile(r"^(\d+)\.(ts|m4s)$")


# -- MPD ----------------------------------------------------------------------

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}

_DUR = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                  r"(?:(\d+(?:\.\d+)?)S)?)?$")


def iso_duration(s):
    m = _DUR.match(s or "")
    assert m and s not in ("P", "PT"), "not an ISO-8601 duration: %r" % s
    d, h, mi, sec = (float(x) if x else 0.0 for x in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + sec


def timeline(stl):
    """SegmentTimeline element -> [(t, d)] with r expanded and t carried."""
    out = []
    t = None
    for s in stl.findall("d:S", NS):
        if "t" in s.attrib:
            t = int(s.attrib["t"])
        assert t is not None, "first S has no t"
        d = int(s.attrib["d"])
        r = int(s.attrib.get("r", "0"))
        for _ in range(r + 1):
            out.append((t, d))
            t += d
    return out


def mpd_reps(root):
    """[{contentType, mime, rep attrs, timescale, startNumber, media,
    initialization, timeline [(t, d)], raw_S [(attrs)]}] of the first Period."""
    out = []
    period = root.find("d:Period", NS)
    assert period is not None, "MPD has no Period"
    for aset in period.findall("d:AdaptationSet", NS):
        for rep in aset.findall("d:Representation", NS):
            st = rep.find("d:SegmentTemplate", NS)
            if st is None:
                st = aset.find("d:SegmentTemplate", NS)
            assert st is not None, "Representation %s has no SegmentTemplate" % rep.attrib
            stl = st.find("d:SegmentTimeline", NS)
            assert stl is not None, "SegmentTemplate without SegmentTimeline"
            out.append({
                "contentType": aset.attrib.get("contentType"),
                "mimeType": rep.attrib.get("mimeType", aset.attrib.get("mimeType")),
                "rep": dict(rep.attrib),
                "timescale": int(st.attrib.get("timescale", "1")),
                "startNumber": int(st.attrib.get("startNumber", "1")),
                "pto": int(st.attrib.get("presentationTimeOffset", "0")),
                "media": st.attrib.get("media"),
                "initialization": st.attrib.get("initialization"),
                "timeline": timeline(stl),
                "raw_S": [dict(s.attrib) for s in stl.findall("d:S", NS)],
            })
    return out


def fill_template(tpl, rep_id, number=None):
    s = tpl.replace("$RepresentationID$", rep_id)
    if number is not None:
        s = s.replace("$Number$", str(number))
    return s


def parse_mpd(text):
    try:
        return ET.fromstring(text)
    except ET.ParseError as e:
        raise AssertionError("MPD is not well-formed XML (%s):\n%s" % (e, text[:1500]))


# -- TS -----------------------------------------------------------------------


def ts_problems(data):
    """Reasons why data is not a clean run of 188-byte TS packets (or [])."""
    bad = []
    if not data:
        return ["empty"]
    if len(data) % 188:
        bad.append("length %d is not a multiple of 188" % len(data))
    off = [i for i in range(0, len(data) - len(data) % 188, 188) if data[i] != 0x47]
    if off:
        bad.append("%d packet(s) without 0x47 sync byte, first at offset %d" % (len(off), off[0]))
    pids = {((data[i + 1] & 0x1F) << 8) | data[i + 2] for i in range(0, len(data) - 187, 188)}
    if 0 not in pids:
        bad.append("no PAT (pid 0)")
    return bad


# -- ffprobe ------------------------------------------------------------------


def probe_packets(path, timeout=60):
    """[{"type": "video"/"audio", "pts": float s, "dts": float s, "dur": float s,
    "key": bool}] in file order."""
    entries = "packet=codec_type,pts_time,dts_time,duration_time,flags:stream=index,codec_type"
    r = media.run([media.FFPROBE, "-v", "quiet", "-show_entries", entries, "-of", "json", path],
                  timeout)
    assert r.returncode == 0, "ffprobe -show_packets %s failed: %s" % (path, r.stderr[-1500:])
    info = json.loads(r.stdout or "{}")
    kinds = {s["index"]: s.get("codec_type") for s in info.get("streams", [])}
    out = []

    def f(x):
        return None if x in (None, "", "N/A") else float(x)

    for p in info.get("packets", []):
        out.append({"type": p.get("codec_type") or kinds.get(p.get("stream_index")),
                    "pts": f(p.get("pts_time")), "dts": f(p.get("dts_time")),
                    "dur": f(p.get("duration_time")), "key": "K" in (p.get("flags") or "")})
    return out


def first_video_frame(path, timeout=60):
    """{"key_frame": int, "pict_type": str} of the first decoded video frame."""
    r = media.run([media.FFPROBE, "-v", "error", "-select_streams", "v:0", "-read_intervals",
                   "%+#1", "-show_entries", "frame=key_frame,pict_type", "-of", "json", path],
                  timeout)
    assert r.returncode == 0, "ffprobe -show_frames %s failed: %s" % (path, r.stderr[-1500:])
    frames = json.loads(r.stdout or "{}").get("frames", [])
    assert frames, "ffprobe decoded no video frame from %s: %s" % (path, r.stderr[-1500:])
    return frames[0]


def decode_errors(path, timeout=60):
    """Decodes everything (ffmpeg -f null); returns the error output."""
    r = media.run([media.FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-i", path,
                   "-f", "null", "-"], timeout)
    return (r.stderr.strip() + ("" if r.returncode == 0 else " (rc %d)" % r.returncode)).strip()


# -- shared live server for a module -----------------------------------------


class Live:
    """One weir and one looping 720p publisher per test module."""

    def __init__(self, weir_bin, clip, workdir, stream="live+hls", config=None):
        self.stream = stream
        self.workdir = workdir
        self.server = WeirServer(weir_bin, os.path.join(workdir, "weir"), config=config)
        self.server.start()
        self.pub = media.Publisher(clip, self.server.rtmp_publish_url(stream), workdir,
                                   name="pub-" + stream)
        self.seen = {}  # playlist url -> [Media] in order fetched
        self.t0 = time.monotonic()

    def url(self, path):
        return self.server.http_url(path)

    def media(self, url, **kw):
        """GET and parse a media playlist (must be 200); remembers it."""
        r = get_ok(url, **kw)
        m = Media(r.text)
        m.resp = r
        base = url.split("?")[0]
        self.seen.setdefault(base, []).append(m)
        return m

    def wait_segments(self, url, n, timeout=30.0):
        """Waits until the media playlist at url lists >= n complete segments."""
        deadline = time.monotonic() + timeout
        m = None
        while time.monotonic() < deadline:
            r = get(url)
            if r.status == 200:
                m = Media(r.text)
                m.resp = r
                self.seen.setdefault(url.split("?")[0], []).append(m)
                if len(m.complete) >= n:
                    return m
            time.sleep(0.25)
        raise AssertionError("%s: fewer than %d complete segments after %.0fs; last:\n%s"
                             % (url, n, timeout, m.text if m else None))

    def close(self):
        """Stops everything; returns a list of problems (bad exit, bad log)."""
        problems = []
        if not self.pub.alive():
            problems.append("publisher died (rc %s): %s" % (self.pub.proc.returncode,
                                                             self.pub.log()[-1500:]))
        self.pub.stop(signal.SIGTERM)
        return problems + stop_server(self.server)


def stop_server(s):
    """Stops weir with SIGTERM; returns problems: it exited early, did not
    exit cleanly, or its log has bad lines."""
    problems = []
    if s.proc.poll() is not None and not s.stopped:
        problems.append("weir exited during the tests with rc %s" % s.proc.poll())
    else:
        rc, secs = s.stop()
        if rc is None:
            problems.append("weir did not exit within %.0fs of SIGTERM" % secs)
        elif rc != 0:
            problems.append("weir exited with rc %s after SIGTERM" % rc)
    bad = s.bad_log_lines()
    if bad:
        problems.append("server log has %d bad line(s):\n  %s"
                        % (len(bad), "\n  ".join(bad[:40])))
    return problems
