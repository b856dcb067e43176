"""TLS record framing: one direction's in-order bytes → (record header, body) pairs.

The splitter does not interpret records. A `keep_body` policy decides per header whether the
body is worth copying; bulk application data is skipped by its length, never buffered. After a
loss it resynchronises at the next plausible record header.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from parsers.constants import ContentType

CHANGE_CIPHER_SPEC, ALERT = ContentType.change_cipher_spec, ContentType.alert
HANDSHAKE, APPLICATION_DATA = ContentType.handshake, ContentType.application_data
CONTENT_TYPES = (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA)
HEADER_SIZE = 5
MAX_RECORD = (1 << 14) + 2048  # the largest ciphertext TLS allows


def plausible_header(data: bytes | bytearray, pos: int = 0) -> bool:
    """Five bytes at `pos` that a TLS record header could be: the one check, used everywhere."""
    return (
        data[pos] in CONTENT_TYPES
        and data[pos + 1] == 3
        and data[pos + 2] <= 4
        and ((data[pos + 3] << 8) | data[pos + 4]) <= MAX_RECORD
    )


#: the header of the record an SSLv2-format ClientHello crosses as (handshake, "version 0.2")
SSLV2_HELLO = b"\x16\x00\x02"


def sslv2_hello_length(data: bytes, i: int) -> int:
    """The length of the SSLv2-format ClientHello whose 2-byte header is at `i`, whole in
    `data` (message type 1, client version SSL 3.0 - TLS 1.3); 0 when there is none."""
    if len(data) - i < 5 or not data[i] & 0x80:
        return 0
    length = ((data[i] & 0x7F) << 8) | data[i + 1]
    if data[i + 2] != 1 or data[i + 3] != 3 or data[i + 4] > 4 or length < 9 or len(data) - i < 2 + length:
        return 0
    return length


#: the first three bytes `plausible_header` accepts (content type, version 3.0-3.4): a
#: regular expression finds candidates at C speed (after a loss, the bytes up to the next
#: header, often most of a 16 KiB record, were scanned in Python one position at a time)
_HEADER_START = re.compile(rb"[\x14-\x17]\x03[\x00-\x04]")


def find_header(data: bytes) -> int:
    """Offset of the first plausible record header in `data` (all five bytes in it), -1 if none."""
    last = len(data) - HEADER_SIZE
    for match in _HEADER_START.finditer(data):
        pos = match.start()
        if pos > last:
            break
        if plausible_header(data, pos):
            return pos
    return -1


#: (content type, length) → copy this record's body?
KeepBodyFn = Callable[[int, int], bool]
#: (header, body or None when it was skipped)
RecordFn = Callable[[bytes, "bytes | None"], None]
#: (the bytes, where the stream's first record starts) → is this TLS at all? True: records
#: start here; False: never (the direction is dropped); None: plaintext before TLS (STARTTLS, a
#: proxy's CONNECT): these bytes are passed over and the next delivery is asked again
GateFn = Callable[[bytes, int], "bool | None"]
#: the detail of a malformed-header Problem
MalformedFn = Callable[[str], None]


class RecordSplitter:
    """A `parsers.tcp.ByteSink`. Once it meets something that is not a record header, the
    rest of the direction is skipped (`dead`)."""

    def __init__(self, keep_body: KeepBodyFn, on_record: RecordFn, on_malformed: MalformedFn) -> None:
        self.keep_body = keep_body
        self.on_record = on_record
        self.on_malformed = on_malformed
        #: asked about the first bytes until it says yes (set by the connection)
        self.gate: GateFn | None = None
        self.header = bytearray()  # a record header split across segments
        self.need = 0  # bytes of the current record's body still to come
        self.body: bytearray | None = None  # None while skipping the current body
        self.record_header = b""
        self.resync = False
        self.dead = False
        self.fresh = True  # no record read yet: the first may be an SSLv2-format ClientHello

    @property
    def inside_record(self) -> bool:
        return bool(self.need or self.header)

    def lost(self) -> None:
        self.header.clear()
        self.need = 0
        self.body = None
        self.resync = True

    def skippable(self) -> int:
        """Bytes ahead that need not be seen: the rest of a record whose body is skipped."""
        return self.need if self.body is None and not self.dead else 0

    def data(self, data: bytes, skipped: int = 0) -> int:
        """A `parsers.tcp.ByteSink`: returns how many bytes after these it need not see."""
        self.need -= skipped  # passed by unseen, as the last call allowed
        if self.dead:
            return 0
        n = len(data)
        if self.need > n and self.body is None:
            self.need -= n  # the middle of a record we skip (bulk data)
            return self.need
        i = 0
        if self.resync:
            i = find_header(data)
            if i < 0:
                return 0
            self.resync = False
        if self.gate is not None and not self.header:
            verdict = self.gate(data, i)
            if verdict is None:
                return 0  # plaintext before TLS
            if not verdict:
                self.dead = True
                return 0
            self.gate = None
        while i < n:
            if self.need == 0:
                if self.fresh and not self.header:
                    self.fresh = False
                    v2 = sslv2_hello_length(data, i)
                    if v2:
                        # an SSLv2-format ClientHello: crosses as one record whose header says
                        # version 0.2 (SSLV2_HELLO), its body the SSLv2 message
                        self.on_record(SSLV2_HELLO + v2.to_bytes(2, "big"), bytes(data[i + 2 : i + 2 + v2]))
                        i += 2 + v2
                        continue
                if not self.header and n - i >= HEADER_SIZE:  # the usual case: a whole header here
                    header = data[i : i + HEADER_SIZE]
                    i += HEADER_SIZE
                else:
                    take = min(HEADER_SIZE - len(self.header), n - i)
                    self.header += data[i : i + take]
                    i += take
                    if len(self.header) < HEADER_SIZE:
                        return 0
                    header = bytes(self.header)
                    self.header.clear()
                if not plausible_header(header):
                    self.on_malformed(
                        f"not a TLS record header ({header.hex(' ')}); the rest of this direction is skipped"
                    )
                    self.dead = True
                    return 0
                length = (header[3] << 8) | header[4]
                self.record_header = header
                self.need = length
                self.body = bytearray() if self.keep_body(header[0], length) else None
                if length == 0:
                    self.body = None
                    self.on_record(header, b"")
                    continue
            take = min(self.need, n - i)
            if self.body is not None and not self.body and take == self.need:
                # the whole body in this segment (the usual case): one copy, not three
                self.body = None
                i += take
                self.need = 0
                self.on_record(self.record_header, bytes(data[i - take : i]))
                continue
            if self.body is not None:
                self.body += data[i : i + take]
            i += take
            self.need -= take
            if self.need == 0:
                body = bytes(self.body) if self.body is not None else None
                self.body = None
                self.on_record(self.record_header, body)
        return self.skippable()
