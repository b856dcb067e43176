"""The `keystore` report: the entries table, each chain with its link checks, and JSON."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from inspector.findings import Finding
from inspector.keystore.model import KeyEntry, Keystore, TrustedEntry
from inspector.pki import certs as C
from inspector.render import text
from inspector.render.json_out import JsonObject


def _date(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _entry_key(entry: KeyEntry) -> str:
    if entry.private_key is not None:
        return C.describe_key(entry.private_key)
    if entry.chain:
        return C.describe_public_key(entry.chain[0]) + " (from cert)"
    return "?"


def _cert_row(cert: x509.Certificate) -> tuple[str, str, str]:
    return C.short_dn(cert.subject), C.short_dn(cert.issuer), _date(cert.not_valid_after_utc)


def entries_rows(store: Keystore, alias: str | None) -> list[list[str]]:
    rows: list[list[str]] = []
    for e in store.key_entries:
        if alias not in (None, e.alias):
            continue
        subject, issuer, after = _cert_row(e.chain[0]) if e.chain else ("-", "-", "-")
        kind = "PrivateKeyEntry" + (" (key locked)" if not e.key_decrypted else "")
        rows.append([_alias(e), kind, _entry_key(e), subject, issuer, after, str(len(e.chain))])
    for t in store.trusted_entries:
        if alias not in (None, t.alias):
            continue
        subject, issuer, after = _cert_row(t.certificate)
        rows.append(
            [
                _alias(t),
                "trustedCertEntry",
                C.describe_public_key(t.certificate),
                subject,
                issuer,
                after,
                "-",
            ]
        )
    for name in store.secret_aliases:
        rows.append([name, "SecretKeyEntry", "-", "-", "-", "-", "-"])
    return rows


def _alias(entry: KeyEntry | TrustedEntry) -> str:
    return entry.alias + (f" (written {entry.stored_name})" if entry.stored_name else "")


def chain_rows(entry: KeyEntry, at: dt.datetime) -> list[list[str]]:
    rows = []
    for i, cert in enumerate(entry.chain):
        if i + 1 < len(entry.chain):
            lk = C.link(cert, entry.chain[i + 1])
            issued = ("yes" if lk.ok else "NO") + f" ({lk.describe()})"
        elif cert.issuer == cert.subject:
            issued = "self-signed" if C.is_self_signed(cert) else "self-issued, bad signature"
        else:
            issued = "issuer not in chain"
        eku = C.ext_key_usage(cert)
        ca = C.is_ca(cert)
        state = C.validity_state(cert, at)
        rows.append(
            [
                str(i),
                C.dn(cert.subject),
                C.dn(cert.issuer),
                f"{_date(cert.not_valid_before_utc)} .. {_date(cert.not_valid_after_utc)}"
                + ("" if state == "valid" else f" ({state.upper()})"),
                "-" if ca is None else ("CA" if ca else "no"),
                "any" if eku is None else ",".join(eku),
                issued,
            ]
        )
    return rows


def keystore_text(store: Keystore, findings: list[Finding], at: dt.datetime, alias: str | None) -> str:
    expected = store.expected_type
    typed = store.store_type.value
    if expected is not None and expected is not store.store_type:
        typed += f" (the name suggests {expected.value})"
    integrity = "integrity verified" if store.integrity_checked else "integrity NOT verified"
    count = len(store.key_entries) + len(store.trusted_entries) + len(store.secret_aliases)
    parts = [
        f"Keystore {store.path}: {typed}, {integrity}, {count} entries",
        text.table(
            entries_rows(store, alias),
            ["alias", "entry type", "key", "subject", "issuer", "not after", "chain"],
        ),
    ]
    for note in store.notes:
        parts.append(f"note: {note}")
    for entry in store.key_entries:
        if alias not in (None, entry.alias) or not entry.chain:
            continue
        parts.append(f"\nChain of '{entry.alias}' ({store.chain_order_note}, judged at {_date(at)})")
        parts.append(
            text.table(
                chain_rows(entry, at), ["#", "subject", "issuer", "valid", "CA", "EKU", "issued by next?"]
            )
        )
    parts.append("\nFindings")
    parts.append(text.findings_block(findings))
    parts.append(f"\n{text.summary_line(findings)}")
    return "\n".join(parts)


def cert_dict(cert: x509.Certificate) -> JsonObject:
    algo, size = C.public_key_algorithm(cert)
    return {
        "subject": C.dn(cert.subject),
        "issuer": C.dn(cert.issuer),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "is_ca": C.is_ca(cert),
        "extended_key_usage": C.ext_key_usage(cert),
        "key_usage": C.key_usage(cert),
        "key_algorithm": algo,
        "key_size": size,
        "signature_hash": C.signature_hash(cert),
        "sha256": C.fingerprint(cert),
    }


def keystore_dict(store: Keystore, at: dt.datetime, alias: str | None) -> JsonObject:
    entries: list[JsonObject] = []
    for e in store.key_entries:
        if alias not in (None, e.alias):
            continue
        chain = []
        for i, cert in enumerate(e.chain):
            item = {"position": i, **cert_dict(cert), "validity": C.validity_state(cert, at)}
            if i + 1 < len(e.chain):
                lk = C.link(cert, e.chain[i + 1])
                item["issued_by_next"] = {
                    "ok": lk.ok,
                    "issuer_name_matches": lk.name_matches,
                    "key_id_matches": lk.key_id_matches,
                    "signature_valid": lk.signature_valid,
                }
            chain.append(item)
        key = e.private_key if e.private_key is not None else (C.public_key(e.chain[0]) if e.chain else None)
        algo, size = C.key_algorithm(key) if key is not None else (None, None)
        entries.append(
            {
                "alias": e.alias,
                "stored_name": e.stored_name,
                "type": "PrivateKeyEntry",
                "key_algorithm": algo,
                "key_size": size,
                "key_decrypted": e.key_decrypted,
                "key_password_differs": e.key_password_differs,
                "chain": chain,
            }
        )
    for t in store.trusted_entries:
        if alias in (None, t.alias):
            entries.append(
                {
                    "alias": t.alias,
                    "stored_name": t.stored_name,
                    "type": "trustedCertEntry",
                    "certificate": cert_dict(t.certificate),
                }
            )
    entries += [{"alias": s, "type": "SecretKeyEntry"} for s in store.secret_aliases]
    return {
        "path": str(store.path),
        "type": store.store_type.value,
        "type_suggested_by_name": store.expected_type.value if store.expected_type else None,
        "integrity_checked": store.integrity_checked,
        "chain_order": store.chain_order_note,
        "judged_at": at.isoformat(),
        "entries": entries,
        "notes": store.notes,
    }
