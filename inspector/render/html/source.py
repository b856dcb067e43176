"""A document read part by part: its two long lists (connections, findings) can be read again
and again, one item at a time, so the page of a capture of thousands of connections is drawn
without ever holding the whole document (a pcap report keeps them on disk: render/spool.py).

An item is a dict, or (read from a spool) its compact JSON text, decoded only when it is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

LISTS = ("connections", "findings")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class DocumentSource:
    head: dict[str, Any]  # every other member, in the document's order
    order: tuple[str, ...]  # every member's name in the document's order, the two lists' too
    connections: Callable[[], Iterable[Any]]
    findings: Callable[[], Iterable[Any]]


def source_of(document: dict[str, Any]) -> DocumentSource:
    """A document already in memory (the `report` command, every other command's --html)."""
    # the lists' items that are objects: in memory a string is a string, never a JSON text
    lists = {
        name: [item for item in document[name] if isinstance(item, dict)]
        for name in LISTS
        if isinstance(document.get(name), list)
    }
    head = {key: value for key, value in document.items() if key not in lists}
    return DocumentSource(
        head,
        tuple(document),
        lambda: lists.get("connections", []),
        lambda: lists.get("findings", []),
    )


def load(item: Any) -> Any:
    """An item as a JSON value."""
    return json.loads(item) if isinstance(item, str) else item


def brief(item: Any) -> tuple[Any, Any] | None:
    """A connection's `index` and `outcome` (None: not an object), without decoding the rest of
    its text: in a compact connection object both come before any nested object
    (connection_json.py), so the first `"outcome":` is the connection's own. Anything else is
    decoded whole."""
    if isinstance(item, str) and item.startswith('{"index":'):
        at = item.find('"outcome":')
        if at > 0 and item.find("{", 1, at) < 0:
            try:
                index = _DECODER.raw_decode(item, 9)[0]
                return index, _DECODER.raw_decode(item, at + 10)[0]
            except json.JSONDecodeError:
                pass
    value = load(item)
    if not isinstance(value, dict):
        return None
    return value.get("index"), value.get("outcome")


@dataclass(frozen=True, slots=True)
class FindingBrief:
    """What the page counts of a finding it does not draw: its code, its severity as written,
    the connection it is about."""

    code: str
    severity: str
    connection: int | None


def finding_brief(item: Any) -> FindingBrief | None:
    """The brief of a finding's compact text, its members read up to `location` and the long
    rest (evidence, explanation, fix) left undecoded; None when the text is not laid out as
    finding_dict writes it (decode it whole), or when the finding names a key entry (an alias is
    text the page cleans and masks)."""
    if not isinstance(item, str) or not item.startswith('{"code":'):
        return None
    try:
        code, at = _DECODER.raw_decode(item, 8)
        if not item.startswith(',"severity":', at):
            return None
        severity, at = _DECODER.raw_decode(item, at + 12)
        if not item.startswith(',"summary":', at):
            return None
        at = _DECODER.raw_decode(item, at + 11)[1]
        if not item.startswith(',"location":', at):
            return None
        location = _DECODER.raw_decode(item, at + 12)[0]
    except json.JSONDecodeError:
        return None
    if not (isinstance(code, str) and isinstance(severity, str) and isinstance(location, dict)):
        return None
    connection = location.get("connection")
    if "alias" in location or not (connection is None or type(connection) is int):
        return None
    return FindingBrief(code, severity, connection)


def objects(items: Iterable[Any]) -> Iterator[str | dict[str, Any]]:
    """Items that are objects: a dict, or a text that is one (decoded later, once)."""
    for item in items:
        if isinstance(item, str) and item.startswith("{"):
            yield item
        else:
            value = load(item)
            if isinstance(value, dict):
                yield value


def dicts(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Decoded items that are objects (a hand-edited document may hold anything)."""
    for item in items:
        value = load(item)
        if isinstance(value, dict):
            yield value


def has_chain(item: Any) -> bool:
    """Whether a connection shows a certificate: an event with a chain. In compact JSON a key
    is the only place `"chain":[{` can appear (a string's quotes are escaped), and events are
    the only members with that key."""
    if isinstance(item, str):
        return '"chain":[{' in item
    events = item.get("events") if isinstance(item, dict) else None
    return isinstance(events, list) and any(
        isinstance(e, dict)
        and isinstance(e.get("chain"), list)
        and any(isinstance(c, dict) for c in e["chain"])
        for e in events
    )
