"""JSON rendering: one envelope for every command, versioned (see docs/json-schema.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO, TypeAlias

from inspector import __version__
from inspector.findings import Finding, Severity

SCHEMA_VERSION = 1

#: What a JSON document holds (covariant containers, so dict[str, str] is one too).
JsonValue: TypeAlias = "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
JsonObject = dict[str, JsonValue]


def finding_dict(f: Finding) -> JsonObject:
    loc = {k: v for k, v in vars(f.location).items() if v is not None}
    return {
        "code": f.code,
        "severity": f.severity.value,
        "summary": f.summary,
        "location": loc,
        "evidence": [{"source": e.source, "fact": e.fact} for e in f.evidence],
        "explanation": f.spec.explanation,
        "fix": f.fix,
        "inference": f.inference,
    }


def envelope(kind: str, findings: Iterable[Finding], **payload: JsonValue) -> JsonObject:
    items = list(findings)
    return {
        "schema": f"mtls-inspector/{kind}",
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        **payload,
        "findings": [finding_dict(f) for f in items],
        "summary": {s.value: sum(1 for f in items if f.severity is s) for s in Severity},
    }


def dumps(document: JsonObject, pretty: bool = True) -> str:
    """Pretty for small documents; compact (C encoder, 10x faster) for large captures."""
    if pretty:
        return json.dumps(document, indent=2, ensure_ascii=False)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def compact(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_assembled(
    out: TextIO,
    kind: str,
    payload: JsonObject,
    fragments: dict[str, Iterable[str]],
    summary: dict[str, int],
    pretty: bool,
) -> None:
    """The same envelope as `envelope`, written from pre-serialised fragments one by one, so a
    large capture's report is never held twice in memory."""
    head = {
        "schema": f"mtls-inspector/{kind}",
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        **payload,
    }
    if pretty:
        document = dict(head)
        for name, items in fragments.items():
            document[name] = [json.loads(item) for item in items]
        document["summary"] = summary
        out.write(dumps(document) + "\n")
        return
    out.write(compact(head)[:-1])
    for name, items in fragments.items():
        out.write(f',"{name}":[')
        for index, item in enumerate(items):
            out.write("," + item if index else item)
        out.write("]")
    out.write(',"summary":' + compact(summary) + "}\n")
