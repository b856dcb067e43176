"""Writes an endless-looking pcap to stdout: copies of real captured handshakes, one after another.

    python -m tests.pcap_stream_generator --bytes 1100000000 > /dev/stdout

Each connection is a copy of a real loopback capture in captures/ with its own client port and
timestamps (checksums are not recomputed: the reader does not check them):
- most are tls12-success.pcap with `--bulk` bytes of TLS application data inserted after the
  server's first data record (1448-byte segments, 16 KiB records, as over Ethernet), closed by FIN;
- every `UNKNOWN_CA_EVERY`th is tls12-unknown-ca.pcap (the server rejects the client's CA);
- every `NO_FIN_EVERY`th success loses its FINs, so only --idle (capture time) closes it.
The last line on stderr is the count of connections of each kind, for the test to check.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
UNKNOWN_CA_EVERY = 7
NO_FIN_EVERY = 10
SPACING = 0.05  # seconds of capture time between connection starts
MSS = 1448
START = 1_800_000_000
#: tls12-success.pcap: records 0-10 are the handshake and the server's first data record (10);
#: the server's later packets (11: close_notify, 15: FIN) move up by the bulk inserted after 10
INSERT_AFTER = 10
FIN_RECORDS = (14, 15, 16)
_PORTS = struct.Struct(">HH")
_SEQ = struct.Struct(">I")
_TIME = struct.Struct("<II")


def _records(path: Path) -> list[bytearray]:
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", path
    pos, out = 24, []
    while pos < len(data):
        incl = int.from_bytes(data[pos + 8 : pos + 12], "little")
        out.append(bytearray(data[pos : pos + 16 + incl]))
        pos += 16 + incl
    return out


def _frame_time(record: bytes) -> float:
    sec, usec = _TIME.unpack_from(record, 0)
    return sec + usec / 1e6


class Template:
    """One captured connection, ready to be copied with a new client port and start time."""

    def __init__(self, path: Path, bulk: int = 0) -> None:
        self.records = _records(path)
        first = self.records[0]
        self.client_port, self.server_port = _PORTS.unpack_from(first, 16 + 34)
        self.start = _frame_time(first)
        self.offsets = [_frame_time(r) - self.start for r in self.records]
        self.fin_records = set(FIN_RECORDS)
        if bulk:
            self._insert_bulk(bulk)

    def _insert_bulk(self, size: int) -> None:
        """Server → client application data after record INSERT_AFTER, cut at the MSS; the
        server's later packets move up by as many sequence numbers."""
        model = self.records[INSERT_AFTER]
        assert _PORTS.unpack_from(model, 16 + 34)[0] == self.server_port
        tcp_header = (model[16 + 46] >> 4) * 4
        headers = bytes(model[16 : 16 + 34 + tcp_header])
        payload_len = len(model) - 16 - len(headers)
        next_seq = _SEQ.unpack_from(model, 16 + 38)[0] + payload_len
        body = os.urandom(16384 + 17)
        record = b"\x17\x03\x03" + struct.pack(">H", len(body)) + body
        stream = record * max(1, size // len(record))  # whole records: nothing is left cut
        at_time = self.offsets[INSERT_AFTER]
        bulk: list[bytearray] = []
        for k, at in enumerate(range(0, len(stream), MSS)):
            piece = stream[at : at + MSS]
            frame = bytearray(headers + piece)
            struct.pack_into(">H", frame, 16, 20 + tcp_header + len(piece))  # IPv4 total length
            _SEQ.pack_into(frame, 38, (next_seq + at) & 0xFFFFFFFF)
            bulk.append(bytearray(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame))
            self.offsets.insert(INSERT_AFTER + 1 + k, at_time + (k + 1) * 1e-6)
        for record in self.records[INSERT_AFTER + 1 :]:
            if _PORTS.unpack_from(record, 16 + 34)[0] == self.server_port:
                seq = _SEQ.unpack_from(record, 16 + 38)[0]
                _SEQ.pack_into(record, 16 + 38, (seq + len(stream)) & 0xFFFFFFFF)
        self.records[INSERT_AFTER + 1 : INSERT_AFTER + 1] = bulk
        self.fin_records = {f + len(bulk) for f in FIN_RECORDS}

    def copy(self, port: int, start: float, keep_fin: bool = True) -> bytes:
        skip = () if keep_fin else self.fin_records
        parts = []
        for index, (record, offset) in enumerate(zip(self.records, self.offsets, strict=True)):
            if index in skip:
                continue
            when = start + offset
            sec = int(when)
            _TIME.pack_into(record, 0, sec, int((when - sec) * 1e6))
            src, dst = _PORTS.unpack_from(record, 16 + 34)
            if src == self.client_port:
                _PORTS.pack_into(record, 16 + 34, port, dst)
            else:
                _PORTS.pack_into(record, 16 + 34, src, port)
            parts.append(bytes(record))
        self.client_port = port  # the records now carry it
        return b"".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bytes", type=int, required=True, help="stop after this many bytes")
    parser.add_argument("--bulk", type=int, default=512 << 10, help="bulk bytes per successful connection")
    args = parser.parse_args()
    success = Template(CAPTURES / "tls12-success.pcap", args.bulk)
    unknown_ca = Template(CAPTURES / "tls12-unknown-ca.pcap")
    out = sys.stdout.buffer
    header = (CAPTURES / "tls12-success.pcap").read_bytes()[:24]
    out.write(header)
    written, counts = len(header), {"success": 0, "no_fin": 0, "unknown_ca": 0}
    index = 0
    while written < args.bytes:
        index += 1
        port = 10000 + index % 50000
        start = START + index * SPACING
        if index % UNKNOWN_CA_EVERY == 0:
            data = unknown_ca.copy(port, start)
            counts["unknown_ca"] += 1
        elif index % NO_FIN_EVERY == 0:
            data = success.copy(port, start, keep_fin=False)
            counts["no_fin"] += 1
        else:
            data = success.copy(port, start)
            counts["success"] += 1
        out.write(data)
        written += len(data)
    out.flush()
    print(" ".join(f"{k}={v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
