"""Java's key-manager choice as text (the selection table) and as JSON."""

from __future__ import annotations

from inspector.java.key_managers import CaRequest, Selection
from inspector.render import text
from inspector.render.json_out import JsonObject
from parsers.constants import CERTIFICATE_TYPES, scheme_name
from parsers.messages import dn_from_der


def selection_text(sel: Selection) -> str:
    rows = [
        [c.alias, c.key_type, "yes" if c.accepted else "no", "; ".join(c.reasons)] for c in sel.candidates
    ]
    lines = [
        "\nWhat a Java client would send for this CertificateRequest"
        + (f" (simulating {sel.java}):" if sel.java else ":"),
        text.table(rows, ["alias", "key", "acceptable", "why"]),
    ]
    if sel.request_aborts:
        lines.append(f"  {sel.java} aborts the handshake: {sel.request_aborts}")
    elif sel.sunx509_fails:
        lines.append(f"  SunX509: fails — {sel.sunx509_fails}")
    else:
        lines.append(
            "  SunX509: " + (_pick(sel.sunx509) or "nothing (empty Certificate)") + _why(sel.sunx509_why)
        )
    if not sel.request_aborts:
        lines.append("  PKIX:    " + (_pick(sel.pkix) or "nothing (empty Certificate)") + _why(sel.pkix_why))
    # an abort both key managers share is said once
    lines += [f"  then aborts: {why}" for why in dict.fromkeys((sel.sunx509_aborts, sel.pkix_aborts)) if why]
    if sel.openssl_sends:
        lines.append(
            f"  OpenSSL/curl: '{sel.openssl_sends}' (the configured certificate, whatever the CA names say)"
        )
    return "\n".join(lines)


def _why(why: str) -> str:
    return f" — {why}" if why else ""


def _pick(aliases: list[str]) -> str:
    if not aliases:
        return ""
    if len(aliases) == 1:
        return f"'{aliases[0]}'"
    return "one of " + ", ".join(f"'{a}'" for a in aliases) + " (Java's order is not defined)"


def request_text(request: CaRequest) -> str:
    """The request `select` was given: where from, its version, its CA names."""
    names = [dn_from_der(n).text for n in request.ca_names]
    lines = [
        f"CertificateRequest from {request.source} (TLS {'1.3' if request.tls13 else '1.2'})"
        f": {len(names)} CA name(s)"
    ]
    lines += [f"  - {name}" for name in names]
    if request.assumed:
        schemes = ", ".join(map(scheme_name, request.signature_algorithms))
        lines.append(f"signature_algorithms {request.assumed}: {schemes}")
        if request.certificate_types:
            kinds = ", ".join(CERTIFICATE_TYPES.get(t, str(t)) for t in request.certificate_types)
            lines.append(f"certificate_types: {kinds}")
    return "\n".join(lines)


def select_text(sel: Selection) -> str:
    """The `select` report: the request, which JDK is simulated, then the selection table."""
    simulated = f"\nSimulating {sel.java}'s client (--java-version to change)" if sel.java else ""
    return request_text(sel.request) + simulated + "\n" + selection_text(sel)


def selection_dict(sel: Selection) -> JsonObject:
    return {
        "request": {
            "source": sel.request.source,
            "tls13": sel.request.tls13,
            "ca_names": [dn_from_der(n).text for n in sel.request.ca_names],
            "signature_algorithms": list(sel.request.signature_algorithms),
            "certificate_types": list(sel.request.certificate_types),
            "assumed": sel.request.assumed or None,
        },
        "java": sel.java,
        "sunx509_why": sel.sunx509_why,
        "pkix_why": sel.pkix_why,
        "sunx509_aborts": sel.sunx509_aborts,
        "pkix_aborts": sel.pkix_aborts,
        "request_aborts": sel.request_aborts,
        "sunx509": sel.sunx509[0] if len(sel.sunx509) == 1 else None,
        "sunx509_possible": sel.sunx509,
        "sunx509_fails": sel.sunx509_fails,
        "pkix": sel.pkix[0] if len(sel.pkix) == 1 else None,
        "pkix_possible": sel.pkix,
        "openssl": sel.openssl_sends,
        "candidates": [
            {
                "alias": c.alias,
                "key_type": c.key_type,
                "accepted": c.accepted,
                "rank": c.rank.name if c.rank is not None else None,
                "reasons": c.reasons,
            }
            for c in sel.candidates
        ],
    }
