"""Capture sets built from one real handshake (captures/tls12-success.pcap) repeated on distinct
client ports, one second apart, cut into files at chosen places; and how a set's JSON compares
with its single file's."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ONE = (ROOT / "captures" / "tls12-success.pcap").read_bytes()


def _packets() -> list[bytes]:
    pos, out = 24, []
    while pos + 16 <= len(ONE):
        size = 16 + struct.unpack_from("<I", ONE, pos + 8)[0]
        out.append(ONE[pos : pos + size])
        pos += size
    return out


PACKETS = _packets()
CLIENT_PORT = struct.unpack_from(">H", PACKETS[0], 16 + 14 + 20)[0]  # Ethernet, IPv4 (no options)


def _copy(k: int) -> list[bytes]:
    """The handshake again, k seconds later, from client port 20000 + k."""
    out = []
    for p in PACKETS:
        b = bytearray(p)
        struct.pack_into("<I", b, 0, struct.unpack_from("<I", b, 0)[0] + k)
        for at in (16 + 34, 16 + 36):
            if struct.unpack_from(">H", b, at)[0] == CLIENT_PORT:
                struct.pack_into(">H", b, at, 20000 + k)
        out.append(bytes(b))
    return out


def build_set(d: Path, whole: list[int], cut_after: set[int]) -> tuple[Path, int]:
    """File i holds whole[i] whole connections; after file i in cut_after, one connection begins
    at its end and ends in file i + 1. Returns the same packets as one file, and the count."""
    d.mkdir()
    k, carry, bodies = 0, [], []
    for i, n in enumerate(whole):
        body, carry = carry, []
        for _ in range(n):
            body += _copy(k)
            k += 1
        if i in cut_after:
            cut = _copy(k)
            k += 1
            body, carry = body + cut[:6], cut[6:]
        (d / f"mtls.pcap{i}").write_bytes(ONE[:24] + b"".join(body))
        bodies.append(b"".join(body))
    single = d.parent / "whole.pcap"
    single.write_bytes(ONE[:24] + b"".join(bodies))
    return single, k


def comparable(value: Any) -> Any:
    """Frame numbers count per file in a set, and a set says which files: the rest is equal."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in ("frame", "files")}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"frame \d+", "frame N", value)
    return value
