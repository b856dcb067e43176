"""From a document read part by part (source.py) to the page's values, in memory bounded by what
the page shows, not by what the document holds.

The parts are read a few times: the connections' numbers and outcomes and the findings'
severities first (which connections earn a place on the page), then, with --redact, every
listed part for the names to mask, then the findings, then the listed connections one by one
as the page is written (`ConnectionRows`). Every string is cleaned (sanitize.py) and masked
(redact.py) as it is read, exactly as the whole document would be.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from inspector.render.html.build import HEADING, KNOWN, connection_view, finding_view, outcome_class, verdict
from inspector.render.html.build import server_verdict_view as verdict_row
from inspector.render.html.chains import CertIndex
from inspector.render.html.coerce import as_dict, as_dicts, as_int, as_str
from inspector.render.html.model import CertView, ConnectionView, Fact, Page
from inspector.render.html.redact import Redactor
from inspector.render.html.sanitize import clean_json, clean_text, map_strings
from inspector.render.html.sections import capture_view, keystore_view, probe_view, selection_view
from inspector.render.html.source import DocumentSource, brief, finding_brief, has_chain, load, objects
from inspector.render.html.tally import FindingTally

MAX_DETAILED = 100  # connections drawn in full; the rest are rows of the table
MAX_TABLE_ROWS = 1000  # beyond this a table is no longer read, and the page opens slowly
UNLISTED_OUTCOMES = 10


@dataclass(frozen=True)
class Plan:
    """Which connections the page lists (positions in the document), and which it draws."""

    numbers: list[int]
    outcomes: list[Any]  # each connection's outcome as the document has it
    listed: list[int]  # positions, in the document's order
    detailed: set[int]  # positions
    trimmed: bool  # connections beyond the table are read as their number and outcome alone
    with_chain: bytearray  # 1 where a connection shows a certificate


ERRORS, WARNINGS, OTHERS = 0, 1, 2  # the order in which connections earn a place on the page


def plan(source: DocumentSource) -> Plan:
    """Those with error findings first, then those with warnings, then the others, each by
    position."""
    rank: dict[int | None, int] = {}
    for item in source.findings():
        short = finding_brief(item)
        if short is not None:
            severity: Any = short.severity
            number = short.connection
        else:
            f = load(item)
            if not isinstance(f, dict):
                continue
            severity = f.get("severity")
            number = as_int(as_dict(f.get("location")).get("connection"))
        if severity != "info":
            rank[number] = min(rank.get(number, OTHERS), ERRORS if severity == "error" else WARNINGS)
    numbers: list[int] = []
    outcomes: list[Any] = []
    with_chain = bytearray()
    for item in source.connections():
        pair = brief(item)
        if pair is None:
            continue
        numbers.append(as_int(pair[0]) or len(numbers) + 1)
        outcomes.append(pair[1])
        with_chain.append(has_chain(item))
    ordered = sorted(range(len(numbers)), key=lambda i: (rank.get(numbers[i], OTHERS), i))
    return Plan(
        numbers,
        outcomes,
        sorted(ordered[:MAX_TABLE_ROWS]),
        set(ordered[:MAX_DETAILED]),
        len(numbers) > MAX_TABLE_ROWS,
        with_chain,
    )


def _connections(source: DocumentSource, shape: Plan) -> Iterator[tuple[int, str | dict[str, Any]]]:
    """(position, connection) of every connection, in full where listed (a dict, or its JSON
    text), else its number and outcome when the table is trimmed."""
    listed = set(shape.listed)
    for position, item in enumerate(objects(source.connections())):
        if position in listed or not shape.trimmed:
            yield position, item
        else:
            yield position, {"index": shape.numbers[position], "outcome": shape.outcomes[position]}


class Masker:
    """What every value goes through: control characters and secrets (always), names (--redact).
    A part's JSON text is decoded here, and walked only where something may change."""

    def __init__(self, replace: Callable[[str], str] | None) -> None:
        self._replace = replace
        self._fn = clean_text if replace is None else lambda text: replace(clean_text(text))
        self._done: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        """A value already decoded."""
        return map_strings(value, self._fn, self._done)

    def part(self, item: str | dict[str, Any]) -> dict[str, Any]:
        """An object (a dict, or its JSON text)."""
        if isinstance(item, str):
            value: dict[str, Any] = json.loads(item)
            if self._replace is None and clean_json(item):
                return value
            item = value
        masked: dict[str, Any] = self(item)
        return masked


def masker(source: DocumentSource, shape: Plan, redact: bool) -> Masker:
    if not redact:
        return Masker(None)
    clean = Masker(None)
    redactor = Redactor()
    for key in source.order:  # in the document's order: the pseudonyms are numbered as met
        if key in source.head:
            redactor.scan(clean(source.head[key]), key)
        elif key == "connections":
            for _, connection in _connections(source, shape):
                redactor.scan(clean.part(connection))
        elif key == "findings":
            for finding in objects(source.findings()):
                redactor.scan(clean.part(finding))
    return Masker(redactor.replacer())


class ConnectionRows:
    """The listed connections, read and drawn one at a time while the page is written (the
    table's rows); those drawn in full and the certificates are complete once all were read."""

    def __init__(self, source: DocumentSource, shape: Plan, mask: Masker, tally: FindingTally) -> None:
        self._source, self._shape, self._mask, self._tally = source, shape, mask, tally
        self.index = CertIndex()
        self._detailed: list[ConnectionView] = []
        self._read = False

    def __len__(self) -> int:
        return len(self._shape.listed)

    def __iter__(self) -> Iterator[ConnectionView]:
        shape, tally = self._shape, self._tally
        listed = set(shape.listed)
        self._detailed = []
        for position, raw in _connections(self._source, shape):
            if position not in listed:
                continue
            number, chosen = shape.numbers[position], position in shape.detailed
            mine = tally.of_connection(number) if chosen else []
            view = connection_view(
                self._mask.part(raw), mine, self.index, chosen, number, tally.has_error(number)
            )
            if chosen:
                self._detailed.append(view)
            yield view
        self._read = True

    def _read_all(self) -> None:
        if not self._read:
            for _ in self:
                pass

    @property
    def detailed(self) -> list[ConnectionView]:
        self._read_all()
        return self._detailed

    @property
    def certificates(self) -> list[CertView]:
        self._read_all()
        return self.index.all()


def build_page(source: DocumentSource, *, redacted: bool) -> Page:
    shape = plan(source)
    mask = masker(source, shape, redacted)
    head: dict[str, Any] = {key: mask(value) for key, value in source.head.items()}
    schema = as_str(head.get("schema"))
    kind = schema.split("/", 1)[1] if schema.startswith("mtls-inspector/") else schema or "unknown"
    tally = FindingTally({shape.numbers[i] for i in shape.detailed})
    for raw in objects(source.findings()):
        # most findings of a large capture are only counted: their long text is not decoded
        short = finding_brief(raw) if not redacted and isinstance(raw, str) and clean_json(raw) else None
        if short is not None and tally.counts_only(short):
            tally.count(short)
        else:
            tally.add(finding_view(mask.part(raw)))
    rows = ConnectionRows(source, shape, mask, tally)
    keystore = None
    if "keystore" in head:
        keystore = keystore_view(as_dict(head["keystore"]), rows.index, tally.alias_severities)
    outcomes = []
    for number, raw_outcome in zip(shape.numbers, shape.outcomes, strict=True):
        outcome = as_str(mask(raw_outcome))
        outcomes.append((outcome, outcome_class(outcome, tally.has_error(number))))
    probe = probe_view(as_dict(head["probe"])) if "probe" in head else None
    selection = selection_view(as_dict(head["selection"])) if "selection" in head else None
    subject = {
        "pcap": as_str(as_dict(head.get("capture")).get("path")),
        "keystore": as_str(as_dict(head.get("keystore")).get("path")),
        "probe": as_str(as_dict(head.get("probe")).get("target")),
        "select": selection.source if selection else "",
    }.get(kind, "")
    other = [
        Fact(clean_text(str(key)), json.dumps(value, indent=2, ensure_ascii=True)[:20000])
        for key, value in head.items()
        if key not in KNOWN
    ]
    drawn = len(shape.detailed)
    return Page(
        kind=kind,
        title=f"mtls-inspector {kind} report" + (f": {subject}" if subject else ""),
        heading=HEADING.get(kind, "") + (subject or f"{kind} report"),
        schema=schema,
        tool_version=as_str(head.get("tool_version")),
        redacted=redacted,
        verdict=verdict(kind, head, tally, outcomes),
        capture=capture_view(as_dict(head["capture"])) if "capture" in head else None,
        keystore=keystore,
        probe=probe,
        selection=selection,
        connections=rows,
        show_table=len(shape.listed) > 1,
        outcomes=sorted({outcomes[i][0] for i in shape.listed if outcomes[i][0]}),
        omitted=len(shape.listed) - drawn,
        not_listed=len(shape.numbers) - len(shape.listed),
        total=len(shape.numbers),
        drawn=drawn,
        has_certificates=bool(rows.index.all()) or any(shape.with_chain[i] for i in shape.listed),
        unlisted_outcomes=_unlisted(outcomes, shape.listed),
        other=other,
        server_verdicts=[verdict_row(v) for v in as_dicts(head.get("server_verdicts"))],
    )


def _unlisted(outcomes: list[tuple[str, str]], listed: list[int]) -> list[tuple[str, int]]:
    """The outcomes of the connections the table leaves out, most common first (ten at most)."""
    counts = Counter(outcome for outcome, _ in outcomes)
    counts.subtract(outcomes[i][0] for i in listed)
    return [(outcome, n) for outcome, n in counts.most_common(UNLISTED_OUTCOMES) if n > 0]
