"""Handshake message assembly: one direction's handshake bytes (plaintext, in record order) →
complete messages, header included. Messages may span records; a record may hold several."""

from __future__ import annotations

from collections.abc import Iterator

HEADER_SIZE = 4
MAX_HANDSHAKE_MESSAGE = 1 << 20  # a bigger message is absurd: reported, not buffered


class AbsurdLength(Exception):
    """A message header announced more than MAX_HANDSHAKE_MESSAGE bytes."""

    def __init__(self, length: int) -> None:
        super().__init__(f"handshake message of {length} bytes announced: absurd, skipped")
        self.length = length


class HandshakeAssembler:
    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Each message completed by `data`, as soon as it is complete (the caller may change
        how later records are read after one, e.g. at a ServerHello). Raises AbsurdLength and
        forgets what it held."""
        buf = self.buffer
        buf += data
        while len(buf) >= HEADER_SIZE:
            length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
            if length > MAX_HANDSHAKE_MESSAGE:
                buf.clear()
                raise AbsurdLength(length)
            if len(buf) < HEADER_SIZE + length:
                return
            raw = bytes(buf[: HEADER_SIZE + length])
            del buf[: HEADER_SIZE + length]
            yield raw
