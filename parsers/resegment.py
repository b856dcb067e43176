"""Rewrite a loopback capture (64 KB super-segments) to a real MSS, optionally delivering one
segment out of order and retransmitting another, so TCP reassembly meets what real networks do.
Used by captures/make_captures.py; reads Ethernet/IPv4/IPv6 TCP captures."""

from __future__ import annotations

from pathlib import Path

from parsers import framing, packets
from parsers.pcapfile import CaptureFile, PcapWriter


def resegment(src: Path, dst: Path, mss: int = 1448, reorder: bool = False, retransmit: bool = False) -> int:
    """Returns the number of packets written."""
    out: list[tuple[float, bytes]] = []
    reordered = retransmitted = False
    for frame in CaptureFile(src).frames():
        seg = packets.decode(frame.linktype, frame.data)
        if seg is None:
            continue
        src_ip, dst_ip = packets.ip_text(seg.src), packets.ip_text(seg.dst)
        ack = 0  # the original ack is not needed by any reader; keep the ACK flag
        pieces = [seg.payload[i : i + mss] for i in range(0, len(seg.payload), mss)] or [b""]
        frames = []
        offset = 0
        for n, piece in enumerate(pieces):
            flags = seg.flags if n == len(pieces) - 1 else (seg.flags & ~(framing.FIN | framing.PSH))
            frames.append(
                framing.tcp_packet(
                    src_ip,
                    dst_ip,
                    seg.sport,
                    seg.dport,
                    seg.seq + offset,
                    ack,
                    flags | framing.ACK if not seg.flags & framing.SYN else flags,
                    piece,
                )
            )
            offset += len(piece)
        if reorder and not reordered and len(frames) >= 3:
            frames[0], frames[1] = frames[1], frames[0]
            reordered = True
        if retransmit and not retransmitted and len(frames) >= 2:
            frames.insert(2, frames[0])
            retransmitted = True
        out += [(frame.time + i * 1e-6, f) for i, f in enumerate(frames)]
    with dst.open("wb") as handle:
        writer = PcapWriter(handle)
        for time, data in out:
            writer.write(time, data)
    return len(out)
