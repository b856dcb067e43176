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
from parsers.tls import RecordRecorder, TlsConnection, _Direction

__all__ = ["CaptureFormatError", "CaptureResult", "read_capture"]


@dataclass
class CaptureResult:
    path: Path
    format: str
    transcripts: list[Transcript] = field(default_factory=list)  # empty with on_transcript
    tls_connections: int = 0
    problems: list[str] = field(default_factory=list)
    frames: int = 0
    tcp_connections: int = 0
    non_tls_connections: int = 0
    undecodable_frames: int = 0
    keylog_entries: int = 0
    embedded_secrets: int = 0
    first_time: float | None = None


ProgressFn = Callable[[int, int], None]
TranscriptFn = Callable[[Transcript], None]


def read_capture(
    path: Path,
    keylog: KeyLog | None = None,
    progress: ProgressFn | None = None,
    on_transcript: TranscriptFn | None = None,
    record_only: bool = False,
    lean: bool = False,
) -> CaptureResult:
    """Decode every TLS connection in the file. Raises CaptureFormatError if nothing is readable.

    Connections are numbered in the order their first TLS record appears. With `on_transcript`,
    each transcript is handed over as soon as its connection ends and is not kept: memory then
    stays bounded by the connections open at one time, whatever the file size. With
    `record_only`, TLS is not interpreted: each transcript carries its records in `recorded`
    for TlsConnection.replay (parsers.parallel). `lean` reads Certificate and CertificateRequest
    by hand instead of through scapy (parsers/lean.py).
    """
    cf = CaptureFile(path)
    result = CaptureResult(path=path, format="?")
    keylog = keylog if keylog is not None else KeyLog()
    # key: src + dst + ports, the raw bytes of the IP and TCP headers (one slice per packet)
    active: dict[bytes, tuple[TlsConnection, Direction, _Direction]] = {}
    finished: list[Transcript] = []
    tls_count = 0
    unsupported: set[int] = set()
    secrets_used = 0
    decode_problems = 0
    last_progress = _time.monotonic()
    decode = packets.decode
    client_dir, server_dir = Direction.CLIENT, Direction.SERVER

    def close(conn: TlsConnection) -> None:
        conn.finish()
        if isinstance(conn, RecordRecorder):
            conn.t.recorded = conn.records
        if conn.is_tls:
            result.tls_connections += 1
            if on_transcript is not None:
                on_transcript(conn.t)
            else:
                finished.append(conn.t)
        elif conn.is_tls is False:
            result.non_tls_connections += 1

    # Ethernet type, IPv4 total length, flags+fragment offset, protocol, TCP seq, offset, flags
    unpack_eth_ip_tcp = packets.ETH_IPV4_TCP.unpack_from
    first_time: float | None = None
    number = 0
    for buf, linktype, records in cf.chunks():
        if first_time is None:
            first_time = records[0][2]
        if len(cf.secrets) > secrets_used:
            for blob in cf.secrets[secrets_used:]:
                keylog.add_text(blob.decode("utf-8", "replace"))
            result.embedded_secrets += len(cf.secrets) - secrets_used
            secrets_used = len(cf.secrets)
        ethernet = linktype == 1
        for o, incl, ftime, _orig in records:
            number += 1
            # Fast path, read in place: Ethernet / IPv4 without options, not fragmented / TCP.
            if ethernet and incl >= 54:
                etype, ip_total, fragment, proto, seq, doff, flags = unpack_eth_ip_tcp(buf, o)
            else:
                etype = 0
            if etype == 0x0800 and proto == 6 and buf[o + 14] == 0x45 and not fragment & 0x3FFF:
                header = (doff >> 4) * 4
                wire_payload = ip_total - 20 - header
                if wire_payload <= 0 and not flags & 0x07:
                    continue  # a pure ACK: nothing for TLS, nothing for the connection's state
                key = buf[o + 26 : o + 38]
                start = o + 34 + header
                size = o + incl - start  # what the capture kept of the payload
                if size > wire_payload:
                    size = wire_payload
                payload = b""
            else:
                if linktype not in packets.SUPPORTED_LINKTYPES:
                    if linktype not in unsupported:
                        unsupported.add(linktype)
                        result.problems.append(
                            f"link type {linktype} is not supported "
                            "(Ethernet, Linux cooked, raw IP, loopback are)"
                        )
                    result.undecodable_frames += 1
                    continue
                try:
                    seg = decode(linktype, buf[o : o + incl])
                except packets.NotDecodable as exc:
                    result.undecodable_frames += 1
                    decode_problems += 1
                    if decode_problems <= 5:
                        result.problems.append(f"frame {number}: {exc}")
                    continue
                if seg is None:
                    continue
                key = seg.src + seg.dst + packets.PORTS.pack(seg.sport, seg.dport)
                seq, flags, payload = seg.seq, seg.flags, seg.payload
                size = len(payload)
                wire_payload = seg.length
                start = -1
            if size <= 0 and not flags & 0x07:
                continue  # a pure ACK: nothing for TLS, nothing for the connection's state
            found = active.get(key)
            if found is None or (flags & packets.SYN and not flags & packets.ACK and found[0].has_data):
                if found is None and not (size > 0 or flags & packets.SYN):
                    continue  # a stray ACK/FIN/RST of a connection we no longer track
                half = len(key) // 2 - 2
                src, dst = key[:half], key[half : 2 * half]
                sport, dport = packets.PORTS.unpack(key[-4:])
                reverse = dst + src + packets.PORTS.pack(dport, sport)
                if found is not None:  # port reuse: a new SYN on a used 4-tuple
                    close(found[0])
                    del active[key], active[reverse]
                client_is_src = (not flags & packets.ACK) if flags & packets.SYN else sport > dport
                client, server = (
                    ((src, sport), (dst, dport)) if client_is_src else ((dst, dport), (src, sport))
                )
                transcript = Transcript(
                    index=0,
                    client=Endpoint(packets.ip_text(client[0]), client[1]),
                    server=Endpoint(packets.ip_text(server[0]), server[1]),
                    start_time=ftime,
                )
                conn = (
                    RecordRecorder(transcript, keep_app_data=bool(len(keylog)) or cf.format == "pcapng")
                    if record_only
                    else TlsConnection(transcript, keylog, lean)
                )
                result.tcp_connections += 1
                mine, theirs = (client_dir, server_dir) if client_is_src else (server_dir, client_dir)
                active[key] = (conn, mine, conn.dirs[mine])
                active[reverse] = (conn, theirs, conn.dirs[theirs])
                found = active[key]
            conn, direction, state = found
            if (
                state.need > size
                and state.next_seq == seq
                and state.body is None
                and not flags & 0x07
                and size == wire_payload
                and not state.pending
            ):
                # Fast path: the middle of a record whose body we skip (bulk data). Same effect
                # as conn.segment(), without three calls per packet.
                state.need -= size
                state.next_seq = (seq + size) & 0xFFFFFFFF
                continue
            if start >= 0:
                payload = buf[start : start + size] if size > 0 else b""
            conn.segment(direction, seq, flags, payload, number, ftime, wire_payload)
            t = conn.t
            if not t.index and conn.is_tls:
                tls_count += 1
                t.index = tls_count
            if conn.is_tls is False or t.reset_by is not None or len(t.fin_by) == 2:
                close(conn)
                half = len(key) // 2 - 2
                del active[key], active[key[half : 2 * half] + key[:half] + key[-2:] + key[-4:-2]]
            if progress is not None and number % 4096 == 0:
                now = _time.monotonic()
                if now - last_progress > 0.5:
                    progress(cf.bytes_read, number)
                    last_progress = now
    seen: set[int] = set()
    for conn, _, _ in active.values():
        if id(conn) not in seen:
            seen.add(id(conn))
            close(conn)
    result.format = cf.format
    result.first_time = first_time
    result.frames = cf.frames_read
    result.problems = cf.problems + result.problems
    result.keylog_entries = len(keylog)
    result.transcripts = sorted(finished, key=lambda t: t.index)
    if result.frames == 0 and cf.problems:
        raise CaptureFormatError("; ".join(cf.problems))
    if unsupported and result.undecodable_frames == result.frames and result.frames:
        raise CaptureFormatError(result.problems[0])
    return result
