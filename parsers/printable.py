"""Text that came off the wire or out of a file, made safe to print: nothing from the input may
reach a terminal raw (an ESC in a CA name or an SNI would be a terminal escape sequence)."""

from __future__ import annotations


def escape_text(text: str) -> str:
    """Control, format and unpaired-surrogate characters become backslash-hex of their UTF-8
    bytes, as openssl shows ESC as \\1B; printable text (any script) is left as it is. A byte of
    a file name that is not UTF-8 (Python hands it over as U+DC80..U+DCFF) is that byte, \\E9,
    as the stdout guard shows it."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":
            out.append(f"\\{ord(ch) - 0xDC00:02X}")
        else:
            out.append("".join(f"\\{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out)
