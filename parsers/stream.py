"""Bytes recorded on a live connection → the same Transcript a capture gives, and a pcap of them.

The probe records every byte it sends and receives; feeding them through the same TCP/TLS
decoder as a capture keeps one set of rules for both sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from parsers import framing
from parsers.keylog import KeyLog
from parsers.model import Direction, Endpoint, Transcript
from parsers.pcapfile import PcapWriter
from parsers.tls import TlsConnection

Chunk = tuple[Direction, float, bytes]  # direction, absolute time, bytes
CLIENT_ISN, SERVER_ISN = 1_000_000, 2_000_000
MSS = 1448


class LiveDecoder:
    """Decodes a live connection as its bytes pass, so the probe can act on the server's
    CertificateRequest before OpenSSL answers it. The key log may grow meanwhile: OpenSSL logs
    each secret as it derives it, and the decoder retries the keys it was missing."""

    def __init__(
        self, client: Endpoint, server: Endpoint, keylog: KeyLog | None, start_time: float, lean: bool = True
    ) -> None:
        self.transcript = Transcript(index=1, client=client, server=server, start_time=start_time)
        self.conn = TlsConnection(self.transcript, keylog, lean)
        self.conn.segment(Direction.CLIENT, CLIENT_ISN - 1, 0x02, b"", 1, start_time)
        self.conn.segment(Direction.SERVER, SERVER_ISN - 1, 0x12, b"", 2, start_time)
        self.seq = {Direction.CLIENT: CLIENT_ISN, Direction.SERVER: SERVER_ISN}
        self.last = (start_time, 2)

    def feed(self, direction: Direction, when: float, frame: int, data: bytes) -> None:
        self.conn.refresh_keys()
        self.conn.segment(direction, self.seq[direction], 0x18, data, frame, when)
        self.seq[direction] += len(data)
        self.last = (when, frame)

    def close(self, closed_by: Direction | None, reset_by: Direction | None) -> Transcript:
        when, frame = self.last[0], self.last[1] + 1
        self.conn.refresh_keys()
        if reset_by is not None:
            self.conn.segment(reset_by, self.seq[reset_by], 0x04, b"", frame, when)
        elif closed_by is not None:
            self.conn.segment(closed_by, self.seq[closed_by], 0x11, b"", frame, when)
        self.conn.finish()
        return self.transcript


def transcript_from_chunks(
    chunks: Sequence[Chunk],
    client: Endpoint,
    server: Endpoint,
    keylog: KeyLog | None,
    start_time: float,
    closed_by: Direction | None,
    reset_by: Direction | None = None,
    lean: bool = True,
) -> Transcript:
    """Recorded chunks (frames numbered from 3, after the SYN pair) → a Transcript."""
    decoder = LiveDecoder(client, server, keylog, start_time, lean)
    for frame, (direction, when, data) in enumerate(chunks, 3):
        decoder.feed(direction, when, frame, data)
    return decoder.close(closed_by, reset_by)


def write_pcap(
    handle: BinaryIO, chunks: Sequence[Chunk], client: Endpoint, server: Endpoint, start_time: float
) -> None:
    """A pcap Wireshark/tshark open and reassemble: SYN handshake, data segmented to an MSS
    with consistent sequence and acknowledgement numbers, FIN at the end. The caller opens the
    file (it holds secrets: inspector/system/private_files.py)."""
    writer = PcapWriter(handle)
    c, s = client, server
    cseq, sseq = CLIENT_ISN - 1, SERVER_ISN - 1

    def pkt(
        when: float, src: Endpoint, dst: Endpoint, seq: int, ack: int, flags: int, data: bytes = b""
    ) -> None:
        writer.write(when, framing.tcp_packet(src.ip, dst.ip, src.port, dst.port, seq, ack, flags, data))

    pkt(start_time, c, s, cseq, 0, framing.SYN)
    pkt(start_time, s, c, sseq, cseq + 1, framing.SYN | framing.ACK)
    cseq, sseq = cseq + 1, sseq + 1
    pkt(start_time, c, s, cseq, sseq, framing.ACK)
    last = start_time
    for direction, when, data in chunks:
        last = max(last, when)
        for i in range(0, len(data), MSS):
            piece = data[i : i + MSS]
            if direction is Direction.CLIENT:
                pkt(when, c, s, cseq, sseq, framing.ACK | framing.PSH, piece)
                cseq += len(piece)
            else:
                pkt(when, s, c, sseq, cseq, framing.ACK | framing.PSH, piece)
                sseq += len(piece)
    pkt(last, c, s, cseq, sseq, framing.FIN | framing.ACK)
    pkt(last, s, c, sseq, cseq + 1, framing.FIN | framing.ACK)
    pkt(last, c, s, cseq + 1, sseq + 1, framing.ACK)
