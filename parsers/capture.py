"""A capture file → one Transcript per TLS connection, streaming, with bounded memory."""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parsers import packets
from parsers.keylog import KeyLog
from parsers.model import Direction, Endpoint, Transcript
from parsers.pcapfile import CaptureFile, CaptureFormatError
from parsers.tls import TlsConnection

__all__ = ["CaptureFormatError", "CaptureResult", "read_capture"]


@dataclass
class CaptureResult:
    path: Path
    format: str
    transcripts: list[Transcript] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    frames: int = 0
    tcp_connections: int = 0
    non_tls_connections: int = 0
    undecodable_frames: int = 0
    keylog_entries: int = 0
    embedded_secrets: int = 0
    first_time: float | None = None


ProgressFn = Callable[[int, int], None]


def read_capture(path: Path, keylog: KeyLog | None = None,
                 progress: ProgressFn | None = None) -> CaptureResult:
    """Decode every TLS connection in the file. Raises CaptureFormatError if nothing is readable."""
    cf = CaptureFile(path)
    result = CaptureResult(path=path, format="?")
    keylog = keylog or KeyLog()
    active: dict[tuple[bytes, int, bytes, int], tuple[TlsConnection, Direction]] = {}
    finished: list[TlsConnection] = []
    unsupported: set[int] = set()
    secrets_used = 0
    decode_problems = 0
    last_progress = _time.monotonic()
    decode = packets.decode
    client_dir, server_dir = Direction.CLIENT, Direction.SERVER

    def close(conn: TlsConnection) -> None:
        conn.finish()
        if conn.is_tls:
            finished.append(conn)
        elif conn.is_tls is False:
            result.non_tls_connections += 1

    for frame in cf.frames():
        if len(cf.secrets) > secrets_used:
            for blob in cf.secrets[secrets_used:]:
                keylog.add_text(blob.decode("utf-8", "replace"))
            result.embedded_secrets += len(cf.secrets) - secrets_used
            secrets_used = len(cf.secrets)
        if result.first_time is None:
            result.first_time = frame.time
        if frame.linktype not in packets.SUPPORTED_LINKTYPES:
            if frame.linktype not in unsupported:
                unsupported.add(frame.linktype)
                result.problems.append(f"link type {frame.linktype} is not supported "
                                       "(Ethernet, Linux cooked, raw IP, loopback are)")
            result.undecodable_frames += 1
            continue
        try:
            seg = decode(frame.linktype, frame.data)
        except packets.NotDecodable as exc:
            result.undecodable_frames += 1
            decode_problems += 1
            if decode_problems <= 5:
                result.problems.append(f"frame {frame.number}: {exc}")
            continue
        if seg is None:
            continue
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        found = active.get(key)
        if found is None and not (seg.payload or seg.flags & packets.SYN):
            continue  # a stray ACK/FIN/RST of a connection we no longer track
        if found is None or (seg.flags & packets.SYN and not seg.flags & packets.ACK
                             and found[0].t.events):
            if found is not None:  # port reuse: a new SYN on a used 4-tuple
                close(found[0])
                del active[key], active[(seg.dst, seg.dport, seg.src, seg.sport)]
            client_is_src = not seg.flags & packets.ACK if seg.flags & packets.SYN else seg.sport > seg.dport
            client = (seg.src, seg.sport) if client_is_src else (seg.dst, seg.dport)
            server = (seg.dst, seg.dport) if client_is_src else (seg.src, seg.sport)
            transcript = Transcript(
                index=0, client=Endpoint(packets.ip_text(client[0]), client[1]),
                server=Endpoint(packets.ip_text(server[0]), server[1]), start_time=frame.time)
            conn = TlsConnection(transcript, keylog)
            result.tcp_connections += 1
            active[(client[0], client[1], server[0], server[1])] = (conn, client_dir)
            active[(server[0], server[1], client[0], client[1])] = (conn, server_dir)
            found = active[key]
        conn, direction = found
        conn.segment(direction, seg.seq, seg.flags, seg.payload, frame.number, frame.time,
                     seg.length)
        t = conn.t
        if conn.is_tls is False or t.reset_by is not None or len(t.fin_by) == 2:
            close(conn)
            del active[key], active[(seg.dst, seg.dport, seg.src, seg.sport)]
        if progress is not None and frame.number % 4096 == 0:
            now = _time.monotonic()
            if now - last_progress > 0.5:
                progress(cf.bytes_read, frame.number)
                last_progress = now
    seen: set[int] = set()
    for conn, _ in active.values():
        if id(conn) not in seen:
            seen.add(id(conn))
            close(conn)
    result.format = cf.format
    result.frames = cf.frames_read
    result.problems = cf.problems + result.problems
    result.keylog_entries = len(keylog)
    finished.sort(key=lambda c: c.t.start_time)
    for index, conn in enumerate(finished, 1):
        conn.t.index = index
        result.transcripts.append(conn.t)
    if result.frames == 0 and cf.problems:
        raise CaptureFormatError("; ".join(cf.problems))
    if unsupported and result.undecodable_frames == result.frames and result.frames:
        raise CaptureFormatError(result.problems[0])
    return result
