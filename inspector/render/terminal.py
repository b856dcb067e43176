"""Standard output as any terminal or file can take it: the last guard between input-derived text
and the reader.

Every report line goes through `SafeStream` (cli.py installs it under the colour wrapper, so our
own colour codes are added after it): a control or format character that came from input (an
ESC or an OSC title sequence in a file name, a CR) is shown as backslash-hex as `escape_text`
shows it on stderr; a byte of a file name that is not UTF-8 (Python hands it over as a lone
surrogate) is shown as that byte, `\\E9`; and on an output that cannot encode a character (a
Latin-1 locale, a Windows redirect in cp1252) our arrows and rules fall back to ASCII and any
other character to `\\u{...}`. JSON keeps its syntax: there each such character becomes a `\\uXXXX`
escape, which every JSON reader reads back.
"""

from __future__ import annotations

import codecs
import io
from typing import TextIO

#: what our own symbols become on an output that cannot encode them
ASCII_FALLBACK = {
    "→": "->",
    "—": "--",
    "–": "-",
    "─": "-",
    "━": "=",
    "…": "...",
    "✗": "x",
    "✓": "v",
    "◄": "<",
    "►": ">",
    "µ": "u",
}


def _is_utf(encoding: str | None) -> bool:
    """None: a stream of str with no encoding of its own (io.StringIO) takes any character."""
    if not encoding:
        return True
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-16", "utf-32")
    except LookupError:
        return False


def shown(text: str, encoding: str | None = "utf-8") -> str:
    """`text` made safe for a text report on an output in `encoding`; newlines and tabs kept."""
    if text.replace("\n", "").replace("\t", "").isprintable() and (
        text.isascii() or _is_utf(encoding) or _encodes(text, encoding)
    ):
        return text
    utf = _is_utf(encoding)
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":  # a byte of a non-UTF-8 file name (surrogateescape)
            out.append(f"\\{ord(ch) - 0xDC00:02X}")
        elif not ch.isprintable():
            out.append("".join(f"\\{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        elif utf or ch.isascii() or _encodes(ch, encoding):
            out.append(ch)
        else:
            out.append(ASCII_FALLBACK.get(ch, f"\\u{{{ord(ch):04x}}}"))
    return "".join(out)


def shown_json(text: str, encoding: str | None = "utf-8") -> str:
    """JSON text (control characters already escaped by the encoder) with lone surrogates and
    characters the output cannot encode written as \\uXXXX escapes."""
    utf = _is_utf(encoding)
    if text.isascii() or (utf and _encodes(text, "utf-8")) or (not utf and _encodes(text, encoding)):
        return text
    out = []
    for ch in text:
        surrogate = "\ud800" <= ch <= "\udfff"
        if ch.isascii() or (not surrogate and (utf or _encodes(ch, encoding))):
            out.append(ch)
        elif ord(ch) > 0xFFFF:
            code = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def _encodes(text: str, encoding: str | None) -> bool:
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class SafeStream(io.TextIOBase):
    """sys.stdout for a report: every write passes through `shown` (or `shown_json`)."""

    def __init__(
        self, target: TextIO | io.TextIOBase, json_mode: bool = False, encoding: str | None = None
    ) -> None:
        super().__init__()
        self._target = target
        self._json = json_mode
        self._encoding: str | None = encoding or getattr(target, "encoding", None)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding or "utf-8"

    def write(self, text: str) -> int:
        if self._json:
            self._target.write(shown_json(text, self._encoding))
        else:
            self._target.write(shown(text, self._encoding))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()

    def writable(self) -> bool:
        return True
