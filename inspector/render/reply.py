"""`keystore KS --reply FILE`: the reply, its chain, what keytool will say, the commands."""

from __future__ import annotations

from cryptography import x509

from inspector.analysis.reply import ReplyCheck
from inspector.pki import certs as C
from inspector.render import text
from inspector.render.json_out import JsonObject, JsonValue
from inspector.render.keystore import cert_dict


def _eku(cert: x509.Certificate) -> str:
    eku = C.ext_key_usage(cert)
    return "any" if eku is None else ",".join(eku)


def _validity(cert: x509.Certificate, check: ReplyCheck) -> str:
    state = C.validity_state(cert, check.at)
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d")
    return f"until {until}" + ("" if state == "valid" else f" ({state.upper()})")


def _key_match(cert: x509.Certificate, check: ReplyCheck) -> str:
    entry = next((e for e in check.store.key_entries if e.alias.lower() == check.alias.lower()), None)
    if entry is None or not entry.chain:
        return "-"
    return "yes" if C.same_certificate_key(cert, entry.chain[0]) else "no"


def commands(check: ReplyCheck) -> list[str]:
    """The keytool commands, in order (passwords are asked by keytool, never written here)."""
    lines = []
    for imp in check.imports:
        if imp.file is None and imp.reply_position is not None:
            lines.append(
                f"# {imp.alias}.pem: certificate #{imp.reply_position} of {check.reply_path} "
                f"(keytool -printcert -rfc -file {check.reply_path} prints it), "
                f"SHA-256 {C.fingerprint(imp.cert)}"
            )
        lines.append(imp.command(str(check.store.path)))
    lines.append(check.import_command)
    return lines


def reply_text(check: ReplyCheck) -> str:
    reply = check.reply
    count = len(reply.certificates)
    shape = "a single certificate" if count == 1 else f"a chain of {count} certificates"
    parts = [
        f"CA reply {check.reply_path}: {reply.format.value}"
        + (f", {shape}" if count else f" ({reply.problem or 'no certificate'})")
        + f"; for alias '{check.alias}' of {check.store.path}"
    ]
    if count:
        rows = [
            [str(i), C.dn(c.subject), C.dn(c.issuer), _validity(c, check), _eku(c), _key_match(c, check)]
            for i, c in enumerate(reply.certificates)
        ]
        parts.append(text.table(rows, ["#", "subject", "issuer", "valid", "EKU", f"key of '{check.alias}'"]))
    if check.csr is not None:
        parts.append(f"CSR {check.csr_path}: subject {C.dn(check.csr.subject)}")
    if check.full_chain:
        parts.append("\nChain from the reply, the keystore and the CA files")
        rows = []
        for i, s in enumerate(check.full_chain):
            if i + 1 < len(check.full_chain):
                lk = C.link(s.cert, check.full_chain[i + 1].cert)
                issued = ("yes" if lk.ok else "NO") + f" ({lk.describe()})"
            elif C.is_self_signed(s.cert):
                issued = "self-signed root"
            else:
                issued = "issuer found nowhere"
            rows.append([str(i), C.dn(s.cert.subject), s.source, issued])
        parts.append(text.table(rows, ["#", "subject", "found in", "issued by next?"]))
    parts.append(f"\nThe guide's import: {check.import_command}")
    parts.append(f"keytool would say: {check.prediction.says}")
    after = check.prediction_after_commands
    if after is not None and after is not check.prediction:
        parts.append("\nKeytool commands, in this order (keytool asks for the store password):")
        parts += [f"  {line}" for line in commands(check)]
        parts.append(f"then keytool says: {after.says}")
    elif after is not None:
        parts.append("\nKeytool command (keytool asks for the store password):")
        parts += [f"  {line}" for line in commands(check)]
    if check.after is not None and after is not None:
        parts.append(f"\nJava's chain for '{check.target}' after the import")
        rows = [
            [str(i), C.dn(c.subject), C.dn(c.issuer), src]
            for i, (c, src) in enumerate(
                zip(after.chain_after, after.sources or ("",) * len(after.chain_after), strict=False)
            )
        ]
        parts.append(text.table(rows, ["#", "subject", "issuer", "from"]))
    parts.append("\nFindings on the reply")
    parts.append(text.findings_block(check.reply_findings))
    if check.after is not None:
        parts.append("\nFindings on the keystore after the import")
        parts.append(text.findings_block(check.after_findings))
    parts.append(f"\n{text.summary_line(check.findings)}")
    return "\n".join(parts)


def reply_dict(check: ReplyCheck) -> JsonObject:
    after = check.prediction_after_commands
    chain: list[JsonValue] = [
        {"position": i, "source": s.source, **cert_dict(s.cert)} for i, s in enumerate(check.full_chain)
    ]
    return {
        "keystore": str(check.store.path),
        "alias": check.alias,
        "file": check.reply_path,
        "format": check.reply.format.value,
        "certificates": [cert_dict(c) for c in check.reply.certificates],
        "csr": check.csr_path,
        "ca_files": [path for path, _ in check.ca_files],
        "chain": chain,
        "keytool": {
            "outcome": check.prediction.outcome.value,
            "says": check.prediction.says,
            "commands": commands(check),
            "after_commands": None if after is None else {"outcome": after.outcome.value, "says": after.says},
        },
        "java_chain_after": None
        if check.after is None or after is None
        else [{"subject": C.dn(c.subject), "sha256": C.fingerprint(c)} for c in after.chain_after],
        "after_findings": [f.code for f in check.after_findings],
    }
