"""A small ISO-BMFF (MP4/CMAF) box reader for the e2e tests: enough to walk
init segments and fragments (moov/trak/mdhd, moof/traf/tfdt/trun, mdat)."""

import struct

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf",
              b"edts", b"dinf", b"udta"}


def boxes(data, start=0, end=None):
    """[(type bytes, payload start, payload end)] of the boxes in data[start:end].
    Raises ValueError on a truncated or malformed box."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos < end:
        if end - pos < 8:
            raise ValueError("truncated box header at %d" % pos)
        size, typ = struct.unpack_from(">I4s", data, pos)
        hdr = 8
        if size == 1:
            if end - pos < 16:
                raise ValueError("truncated large box header at %d" % pos)
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            raise ValueError("box %r at %d has bad size %d (%d bytes left)"
                             % (typ, pos, size, end - pos))
        out.append((typ, pos + hdr, pos + size))
        pos += size
    return out


def top_types(data):
    return [t.decode("latin-1") for t, _, _ in boxes(data)]


def find(data, path, start=0, end=None):
    """All payload ranges for a box path like "moof/traf/tfdt"."""
    names = [p.encode() for p in path.split("/")]
    found = []

    def walk(s, e, i):
        for t, ps, pe in boxes(data, s, e):
            if t != names[i]:
                continue
            if i == len(names) - 1:
                found.append((ps, pe))
            else:
                walk(ps, pe, i + 1)

    walk(start, end if end is not None else len(data), 0)
    return found


def full_box(data, ps):
    """(version, flags) of a full box whose payload starts at ps."""
    v = data[ps]
    flags = int.from_bytes(data[ps + 1:ps + 4], "big")
    return v, flags


def init_tracks(init):
    """{track_id: {"handler": "vide"/"soun", "timescale": int}} from an init segment."""
    out = {}
    for ps, pe in find(init, "moov/trak"):
        tid = None
        for t, a, b in boxes(init, ps, pe):
            if t == b"tkhd":
                v, _ = full_box(init, a)
                tid = struct.unpack_from(">I", init, a + (20 if v == 1 else 12))[0]
        mdhd = find(init, "mdia/mdhd", ps, pe)
        hdlr = find(init, "mdia/hdlr", ps, pe)
        ts = None
        if mdhd:
            a = mdhd[0][0]
            v, _ = full_box(init, a)
            ts = struct.unpack_from(">I", init, a + (20 if v == 1 else 12))[0]
        handler = init[hdlr[0][0] + 8:hdlr[0][0] + 12].decode("latin-1") if hdlr else None
        out[tid] = {"handler": handler, "timescale": ts}
    return out


def fragments(data):
    """For each moof in data: {"track_id", "tfdt", "duration" (sum of sample
    durations, using tfhd default when trun has none), "samples",
    "first_flags"} (one entry per traf)."""
    out = []
    for mps, mpe in find(data, "moof"):
        for tps, tpe in find(data, "traf", mps, mpe):
            frag = {"track_id": None, "tfdt": None, "duration": 0, "samples": 0,
                    "first_flags": None}
            default_dur = None
            default_flags = None
            for t, a, b in boxes(data, tps, tpe):
                if t == b"tfhd":
                    _, fl = full_box(data, a)
                    frag["track_id"] = struct.unpack_from(">I", data, a + 4)[0]
                    p = a + 8
                    if fl & 0x1:
                        p += 8
                    if fl & 0x2:
                        p += 4
                    if fl & 0x8:
                        default_dur = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    if fl & 0x10:
                        p += 4
                    if fl & 0x20:
                        default_flags = struct.unpack_from(">I", data, p)[0]
                elif t == b"tfdt":
                    v, _ = full_box(data, a)
                    frag["tfdt"] = (struct.unpack_from(">Q", data, a + 4)[0] if v == 1
                                    else struct.unpack_from(">I", data, a + 4)[0])
                elif t == b"trun":
                    _, fl = full_box(data, a)
                    n = struct.unpack_from(">I", data, a + 4)[0]
                    p = a + 8
                    if fl & 0x1:
                        p += 4
                    first_flags = None
                    if fl & 0x4:
                        first_flags = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    for i in range(n):
                        d = default_dur
                        sflags = None
                        if fl & 0x100:
                            d = struct.unpack_from(">I", data, p)[0]
                            p += 4
                        if fl & 0x200:
                            p += 4
                        if fl & 0x400:
                            sflags = struct.unpack_from(">I", data, p)[0]
                            p += 4
                        if fl & 0x800:
                            p += 4
                        if i == 0 and frag["samples"] == 0:
                            ff = first_flags if first_flags is not None else sflags
                            frag["first_flags"] = ff if ff is not None else default_flags
                        frag["duration"] += d or 0
                    frag["samples"] += n
            out.append(frag)
    return out


def is_sync_flags(flags):
    """sample_is_non_sync_sample bit (0x10000) clear."""
    return flags is not None and not (flags & 0x10000)
