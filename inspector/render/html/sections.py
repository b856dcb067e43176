"""The input's own sections of the page: capture, keystore, probe, and the key-entry selection."""

from __future__ import annotations

from typing import Any

from inspector.render.html.chains import CertIndex, keystore_chain
from inspector.render.html.coerce import as_dict, as_dicts, as_int, as_list, as_str, as_strs
from inspector.render.html.model import (
    AttemptView,
    CandidateView,
    CaptureView,
    EntryView,
    Fact,
    KeystoreView,
    ProbeView,
    SelectionRow,
    SelectionView,
)

SEVERITIES = ("error", "warning", "info")


def selection_view(raw: dict[str, Any]) -> SelectionView:
    request = as_dict(raw.get("request"))

    def java(choice: Any, possible: list[str], fails: str) -> tuple[str, bool]:
        if fails:
            return f"cannot start: {fails}", False
        if isinstance(choice, str) and choice:
            return f"sends '{choice}'", True
        if len(possible) > 1:
            return f"sends one of {', '.join(repr(p) for p in possible)} (Java's order is not defined)", True
        return "sends an empty Certificate (no entry fits)", False

    sun, sun_ok = java(
        raw.get("sunx509"), as_strs(raw.get("sunx509_possible")), as_str(raw.get("sunx509_fails"))
    )
    pkix, pkix_ok = java(raw.get("pkix"), as_strs(raw.get("pkix_possible")), "")
    openssl = as_str(raw.get("openssl"))
    rows = [
        SelectionRow("Java SunX509 (the JDK default)", sun, sun_ok),
        SelectionRow("Java PKIX", pkix, pkix_ok),
        SelectionRow(
            "OpenSSL / curl",
            f"sends '{openssl}' (the configured entry)" if openssl else "sends nothing (no entry configured)",
            bool(openssl),
        ),
    ]
    candidates = [
        CandidateView(
            alias=as_str(c.get("alias")),
            key_type=as_str(c.get("key_type")),
            accepted=c.get("accepted") is True,
            rank=as_str(c.get("rank")),
            reasons=as_strs(c.get("reasons")),
        )
        for c in as_dicts(raw.get("candidates"))
    ]
    source = as_str(request.get("source"))
    return SelectionView(
        source=source,
        request_text=source
        if source.startswith("CertificateRequest ")
        else f"CertificateRequest from {source}",
        tls13=request.get("tls13") is True,
        ca_names=as_strs(request.get("ca_names")),
        rows=rows,
        candidates=candidates,
    )


def _facts(pairs: list[tuple[str, Any]]) -> list[Fact]:
    return [Fact(label, as_str(value)) for label, value in pairs if value is not None and as_str(value) != ""]


def capture_view(raw: dict[str, Any]) -> CaptureView:
    return CaptureView(
        facts=_facts(
            [
                ("file", raw.get("path")),
                ("format", raw.get("format")),
                ("packets", raw.get("packets")),
                ("TCP connections", raw.get("tcp_connections")),
                ("TLS connections", raw.get("tls_connections")),
                ("other TCP connections", raw.get("non_tls_connections")),
                ("key log sessions", raw.get("keylog_sessions")),
                ("embedded secrets blocks", raw.get("embedded_secrets")),
            ]
        ),
        problems=[_problem(p) if isinstance(p, dict) else as_str(p) for p in as_list(raw.get("problems"))],
    )


def _problem(p: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {as_str(v)}" for k, v in p.items())


def keystore_view(
    raw: dict[str, Any], index: CertIndex, alias_severities: dict[str, set[str]]
) -> KeystoreView:
    """`alias_severities`: the severities of the findings about each entry."""
    entries = []
    for entry in as_dicts(raw.get("entries")):
        alias = as_str(entry.get("alias"))
        kind = as_str(entry.get("type"))
        where = f"keystore entry '{alias}'"
        chain = (
            keystore_chain(as_dicts(entry.get("chain")), index, where)
            if "chain" in entry
            else keystore_chain([as_dict(entry.get("certificate"))], index, where)
            if isinstance(entry.get("certificate"), dict)
            else []
        )
        size = as_int(entry.get("key_size"))
        key = as_str(entry.get("key_algorithm")) + (f" {size} bits" if size else "")
        facts = _facts(
            [
                ("private key", key or None),
                ("key decrypted", entry.get("key_decrypted")),
                ("key password differs from the store's", entry.get("key_password_differs")),
            ]
        )
        about = alias_severities.get(alias, set())
        worst = next((s for s in SEVERITIES if s in about), "")
        entries.append(EntryView(alias=alias, type=kind, worst=worst, facts=facts, chain=chain))
    return KeystoreView(
        facts=_facts(
            [
                ("file", raw.get("path")),
                ("type (from its bytes)", raw.get("type")),
                ("type its name suggests", raw.get("type_suggested_by_name")),
                ("integrity checked", raw.get("integrity_checked")),
                ("chain order", raw.get("chain_order")),
                ("judged at", raw.get("judged_at")),
            ]
        ),
        notes=as_strs(raw.get("notes")),
        entries=entries,
    )


def probe_view(raw: dict[str, Any]) -> ProbeView:
    attempts = []
    for attempt in as_dicts(raw.get("attempts")):
        alias = attempt.get("alias")
        attempts.append(
            AttemptView(
                facts=_facts(
                    [
                        ("entry presented", f"'{as_str(alias)}'" if alias else "none (empty Certificate)"),
                        ("CertificateRequest read", attempt.get("certificate_request_seen")),
                        ("handshake completed", attempt.get("completed")),
                        ("OpenSSL said", attempt.get("error")),
                        ("version", attempt.get("version")),
                        ("cipher", attempt.get("cipher")),
                        ("HTTP status", attempt.get("http_status")),
                        ("proxy answer", attempt.get("proxy_status")),
                        ("timed out", True if attempt.get("timed_out") is True else None),
                    ]
                ),
                verify_errors=[
                    f"depth {as_str(e.get('depth'))}: {as_str(e.get('error'))} ({as_str(e.get('subject'))})"
                    for e in as_dicts(attempt.get("server_verify_errors"))
                ],
                server_chain=as_strs(attempt.get("server_chain")),
            )
        )
    return ProbeView(
        facts=_facts(
            [
                ("target", raw.get("target")),
                ("server name (SNI)", raw.get("servername")),
                ("key manager simulated", raw.get("key_manager")),
                ("proxy", raw.get("proxy")),
                ("TLS version asked", raw.get("tls_version")),
            ]
        ),
        steps=as_strs(raw.get("steps")),
        attempts=attempts,
    )
