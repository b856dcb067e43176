"""From a command's JSON document to the page's values (see model.py)."""

from __future__ import annotations

import re
from typing import Any

from inspector.render.html.chains import CertIndex, ca_match
from inspector.render.html.coerce import as_dict, as_dicts, as_int, as_str, as_strs
from inspector.render.html.ladder_svg import cited_steps, ladder
from inspector.render.html.model import ConnectionView, Evidence, FindingView, ServerVerdictView, Verdict
from inspector.render.html.sanitize import clean_text
from inspector.render.html.sections import SEVERITIES, selection_view
from inspector.render.html.tally import FindingTally

KNOWN = {"schema", "schema_version", "tool_version", "findings", "summary"}
KNOWN |= {"capture", "connections", "keystore", "probe", "selection", "server_verdicts"}
_COMMAND = re.compile(r"^(keytool|openssl|curl|java|mtls-inspect|cat|cp|mv)\b|&& keytool")
HEADING = {"pcap": "Capture ", "keystore": "Keystore ", "probe": "Probe of ", "select": "Selection for "}


def _plural(count: int, word: str, words: str = "") -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"


def finding_view(raw: dict[str, Any]) -> FindingView:
    location = as_dict(raw.get("location"))
    where = []
    if location.get("file") is not None:
        where.append(as_str(location["file"]))
    if location.get("alias") is not None:
        where.append(f"entry '{as_str(location['alias'])}'")
    if location.get("position") is not None:
        where.append(f"chain[{as_str(location['position'])}]")
    connection = as_int(location.get("connection"))
    if connection is not None:
        where.append(f"connection {connection}")
    severity = as_str(raw.get("severity"))
    fix = as_str(raw.get("fix"))
    return FindingView(
        code=as_str(raw.get("code")) or "(no code)",
        severity=severity if severity in SEVERITIES else "info",
        summary=as_str(raw.get("summary")),
        evidence=[
            Evidence(as_str(e.get("source")), as_str(e.get("fact"))) for e in as_dicts(raw.get("evidence"))
        ],
        fix=" &&\n".join(fix.split(" && ")) if _COMMAND.search(fix) else fix,
        fix_is_command=bool(_COMMAND.search(fix)),
        explanation=as_str(raw.get("explanation")),
        where=" · ".join(where),
        connection=connection,
        alias=as_str(location.get("alias")) if location.get("alias") is not None else None,
        inference=raw.get("inference") is True,
    )


def outcome_class(outcome: str, has_error: bool) -> str:
    text = outcome.lower()
    if has_error or text.startswith(("reset", "alert")) or re.search(r" from (client|server)$", text):
        return "fail"
    return "ok" if text == "completed" else "unclear"


def _request_and_chain(
    events: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    request: dict[str, Any] | None = None
    chain: list[dict[str, Any]] | None = None
    for event in events:
        message = as_str(event.get("message"))
        if event.get("direction") == "server" and message.startswith("CertificateRequest"):
            request = event
        is_certificate = message.startswith("Certificate") and not message.startswith("CertificateRe")
        if event.get("direction") == "client" and is_certificate:
            if isinstance(event.get("chain"), list):
                chain = as_dicts(event["chain"])
            elif "empty" in message:
                chain = []
    return request, chain


def connection_view(
    raw: dict[str, Any],
    mine: list[FindingView],
    index: CertIndex,
    detailed: bool,
    conn_index: int,
    has_error: bool,
) -> ConnectionView:
    """`mine`: its findings (those drawn in full); `has_error`: whether any is an error."""
    events = as_dicts(raw.get("events"))
    outcome = as_str(raw.get("outcome"))
    klass = outcome_class(outcome, has_error)
    server_name = as_str(raw.get("server_name"))
    anchor = f"conn-{conn_index}"
    for event in events:
        for position, cert in enumerate(as_dicts(event.get("chain"))):
            index.add(cert, f"connection {conn_index}, {as_str(event.get('direction'))}'s chain[{position}]")
    request, chain = _request_and_chain(events)
    selection = as_dict(raw.get("selection"))
    cited = cited_steps([e.source for f in mine if f.severity != "info" for e in f.evidence])
    return ConnectionView(
        index=conn_index,
        anchor=anchor,
        client=as_str(raw.get("client")),
        server=as_str(raw.get("server")),
        server_name=server_name,
        version=as_str(raw.get("version")),
        outcome=outcome,
        outcome_class=klass,
        decrypted=raw.get("decrypted") is True,
        cert_requested=as_str(raw.get("cert_requested")),
        client_cert=as_str(raw.get("client_cert")),
        start_time=as_str(raw.get("start_time")),
        codes=as_strs(raw.get("finding_codes")),
        findings=mine,
        problems=[
            " ".join(x for x in (as_str(p.get("kind")), as_str(p.get("detail"))) if x)
            + (f" (frame {as_str(p.get('frame'))})" if p.get("frame") is not None else "")
            for p in as_dicts(raw.get("problems"))
        ],
        ladder=ladder(
            events,
            client=as_str(raw.get("client")) or "client",
            server=as_str(raw.get("server")) or "server",
            server_name=server_name,
            outcome=outcome,
            outcome_class=klass,
            cited=cited,
            title=f"Handshake ladder of connection {conn_index}",
        )
        if detailed and events
        else None,
        ca_match=ca_match(request, chain, index, f"connection {conn_index}", anchor) if detailed else None,
        selection=selection_view(selection) if selection and detailed else None,
        detailed=detailed,
        files=" … ".join(as_strs(raw.get("files"))),
    )


def verdict(
    kind: str, document: dict[str, Any], tally: FindingTally, outcomes: list[tuple[str, str]]
) -> Verdict:
    """`outcomes`: (outcome, outcome class) of every connection, listed in the table or not."""
    errors, warnings, infos = (tally.piles[severity].count for severity in SEVERITIES)
    context = ""
    java_empty = False
    if kind == "pcap":
        capture = as_dict(document.get("capture"))
        failed = sum(1 for _, klass in outcomes if klass == "fail")
        done = sum(1 for _, klass in outcomes if klass == "ok")
        path = as_str(capture.get("path")) or "the capture"
        context = (
            f"{_plural(len(outcomes), 'TLS connection')} in {path}: "
            f"{failed} failed, {done} completed, {len(outcomes) - failed - done} unclear."
        )
    elif kind == "probe":
        probe = as_dict(document.get("probe"))
        outcome = outcomes[0][0] if outcomes else ""
        target = as_str(probe.get("target")) or "the server"
        context = f"Probe of {target}: {outcome or 'no handshake seen'}."
    elif kind == "keystore":
        keystore = as_dict(document.get("keystore"))
        entries = as_dicts(keystore.get("entries"))
        keys = sum(1 for e in entries if e.get("type") == "PrivateKeyEntry")
        context = (
            f"Keystore {as_str(keystore.get('path'))} ({as_str(keystore.get('type')) or 'type unknown'}): "
            f"{_plural(keys, 'key entry', 'key entries')}, "
            f"{_plural(len(entries) - keys, 'other entry', 'other entries')}."
        )
    elif kind == "select":
        view = selection_view(as_dict(document.get("selection")))
        java_empty = not view.rows[0].ok and not view.rows[1].ok
        context = f"For the {view.request_text}: a Java client (PKIX) {view.rows[1].answer}."
    if errors:
        level, headline = "error", f"{_plural(errors, 'error')} to fix"
    elif java_empty:
        level, headline = "error", "A Java client would send an empty Certificate"
    elif warnings:
        level, headline = "warning", f"No errors; {_plural(warnings, 'warning')} to read"
    else:
        level, headline = "ok", "No problems found"
    piles = tally.piles
    cards = (piles["error"].cards(), piles["warning"].cards(), piles["info"].cards())
    return Verdict(level, headline, context, *cards, warnings, infos)


def server_verdict_view(raw: dict[str, Any]) -> ServerVerdictView:
    return ServerVerdictView(
        stack=clean_text(as_str(raw.get("stack"))),
        verdict="accept" if raw.get("verdict") == "accept" else "reject",
        reason=clean_text(as_str(raw.get("reason"))),
        stack_says=clean_text(as_str(raw.get("stack_says"))),
        tested=raw.get("tested") is True,
        setting=clean_text(as_str(raw.get("server_setting"))),
        client_fix=clean_text(as_str(raw.get("client_fix"))),
        # a capture's or a log's chains: the connections (handshakes) that sent this one
        alias=clean_text(as_str(raw.get("alias") or raw.get("group"))),
    )
