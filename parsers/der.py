"""DER read and written by hand, for the few places that must see a certificate's bytes as
they are (a subject value cryptography refuses, re-encoded the way keytool shows it): the
element at a position, the elements inside one, an element built, an OID's dotted form."""

from __future__ import annotations

#: (tag, element start, contents start, end)
Child = tuple[int, int, int, int]


def tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end) of the DER element at `pos`; ValueError when it overruns."""
    if pos + 2 > len(data):
        raise ValueError("DER element overruns its container")
    tag, length = data[pos], data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("DER element overruns its container")
    return tag, start, start + length


def children(data: bytes, start: int, end: int) -> list[Child]:
    """(tag, element start, contents start, end) of each element between start and end."""
    out, pos = [], start
    while pos < end:
        tag, body, stop = tlv(data, pos)
        out.append((tag, pos, body, stop))
        pos = stop
    return out


def element(tag: int, contents: bytes) -> bytes:
    size = len(contents)
    if size < 0x80:
        return bytes([tag, size]) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + contents


def dotted_oid(body: bytes) -> str:
    """An OBJECT IDENTIFIER's contents as "2.5.4.3"; ValueError when empty."""
    parts, value = [], 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if not parts:
        raise ValueError("empty OID")
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first, *parts[1:]])
