"""Before anything is drawn: control characters made visible, and anything secret-shaped removed.

The JSON documents carry no passwords, keys or key-log secrets; this is the second lock, for a
hand-edited or future document. Autoescaping stops markup; this stops terminal escapes and
secrets that would otherwise be shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_PEM_SECRET = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
_KEYLOG_LINE = re.compile(
    r"\b(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|"
    r"CLIENT_TRAFFIC_SECRET_\d+|SERVER_TRAFFIC_SECRET_\d+|EXPORTER_SECRET|EARLY_EXPORTER_SECRET|"
    r"CLIENT_EARLY_TRAFFIC_SECRET|RSA)\s+[0-9A-Fa-f]{16,}\s+[0-9A-Fa-f]{32,}"
)
SECRET_REMOVED = "[secret removed]"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str) -> str:
    text = _PEM_SECRET.sub(SECRET_REMOVED, text)
    text = _KEYLOG_LINE.sub(SECRET_REMOVED, text)
    return _CONTROL.sub(_visible, text)


def clean_json(text: str) -> bool:
    """Whether every string of this JSON text is clean as it is (clean_text would change none):
    without a backslash each decoded string is a piece of the text, so a text with nothing to
    clean has no string with anything to clean."""
    if "\\" in text or "-----BEGIN" in text or _CONTROL.search(text) is not None:
        return False
    # every key-log label has one of these words: the pattern is searched only where it may match
    labelled = "SECRET" in text or "CLIENT_RANDOM" in text or "RSA" in text
    return not labelled or _KEYLOG_LINE.search(text) is None


MEMO_MAX = 50_000  # distinct strings remembered across the parts of one document


def map_strings(value: Any, fn: Callable[[str], str], done: dict[str, str] | None = None) -> Any:
    """A copy of a JSON value with `fn` applied to every string value (keys are left alone).

    Each distinct string is transformed once: a capture's document repeats the same texts
    (messages, explanations) thousands of times. `done`: the memo of `fn`, shared by the parts
    of one document (emptied past MEMO_MAX strings)."""
    if done is None:
        done = {}
    elif len(done) > MEMO_MAX:
        done.clear()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            found = done.get(item)
            if found is None:
                found = done[item] = fn(item)
            return found
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        return item

    return walk(value)
