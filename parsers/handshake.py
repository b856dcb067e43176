"""Handshake message assembly: one direction's handshake bytes (plaintext, in record order) →
complete messages, header included. Messages may span records; a record may hold several.

What the signatures in those messages cover, and how they are checked, is the business of
handshake_transcript and handshake_signatures; their public names are importable from here too,
so the TLS half can take the handshake layer from one place."""

from __future__ import annotations

from parsers.handshake_signatures import (
    DEFERRED,
    FULL_CHECKS,
    NOT_SEEN,
    DeferredSignatures,
    HandshakeSignatures,
    settle_signatures,
    signature_checker,
)
from parsers.handshake_transcript import MAX_TRANSCRIPT, HandshakeTranscript

__all__ = [
    "DEFERRED",
    "FULL_CHECKS",
    "HEADER_SIZE",
    "MAX_HANDSHAKE_MESSAGE",
    "MAX_TRANSCRIPT",
    "NOT_SEEN",
    "AbsurdLength",
    "DeferredSignatures",
    "HandshakeAssembler",
    "HandshakeSignatures",
    "HandshakeTranscript",
    "settle_signatures",
    "signature_checker",
]

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

    def feed(self, data: bytes) -> tuple[list[bytes], AbsurdLength | None]:
        """The messages `data` completes, in order (framing does not depend on what they say,
        so they can be split before any is read); and, if a header announced an absurd length,
        that error: what was held is then forgotten."""
        buf = self.buffer
        buf += data
        out: list[bytes] = []
        while len(buf) >= HEADER_SIZE:
            length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
            if length > MAX_HANDSHAKE_MESSAGE:
                buf.clear()
                return out, AbsurdLength(length)
            if len(buf) < HEADER_SIZE + length:
                break
            out.append(bytes(buf[: HEADER_SIZE + length]))
            del buf[: HEADER_SIZE + length]
        return out, None
