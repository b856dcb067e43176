"""`keystore KS --repair OUT`: what was changed, the before/after, Java's choice, keytool by hand."""

from __future__ import annotations

from inspector.analysis.repair import RepairResult
from inspector.java.key_managers import Selection
from inspector.pki import certs as C
from inspector.render import text
from inspector.render.json_out import JsonObject, JsonValue, finding_dict
from inspector.render.selection import selection_dict, selection_text


def repair_text(result: RepairResult, before: Selection | None, after: Selection | None) -> str:
    parts = [
        f"Repaired {result.store.path} ({result.store.store_type.value}) into {result.out} "
        f"({result.out_type.value}, mode 0600, same store password; every key under the store password)"
    ]
    for e in result.entries:
        parts.append(f"\nKey entry '{e.alias}'" + (f" → '{e.written_as}'" if e.written_as != e.alias else ""))
        parts += [f"  - {a}" for a in e.actions] or ["  - nothing to change"]
        rows = [
            [str(i), C.dn(s.cert.subject), C.dn(s.cert.issuer), s.source] for i, s in enumerate(e.chain_after)
        ]
        parts.append(text.table(rows, ["#", "subject", "issuer", "from"]))
    if result.trusted_kept:
        parts.append(f"\nTrusted entries kept: {', '.join(result.trusted_kept)}")
    parts += [f"not kept: {d}" for d in result.dropped]
    parts.append("\nBefore")
    parts.append(text.findings_block(result.before))
    parts.append("\nAfter (the written file, read back)")
    parts.append(text.findings_block(result.after))
    if before is not None and after is not None:
        parts.append("\nBefore the repair:")
        parts.append(selection_text(before))
        parts.append("\nAfter the repair:")
        parts.append(selection_text(after))
    parts.append("\nThe same by hand (keytool asks for the passwords):")
    parts += [f"  {line}" for line in result.keytool_commands]
    parts.append(f"\nbefore: {text.summary_line(result.before)}")
    parts.append(f"after:  {text.summary_line(result.after)}")
    return "\n".join(parts)


def repair_dict(result: RepairResult, before: Selection | None, after: Selection | None) -> JsonObject:
    entries: list[JsonValue] = [
        {
            "alias": e.alias,
            "written_as": e.written_as,
            "actions": list(e.actions),
            "chain_before": [
                {"subject": C.dn(c.subject), "sha256": C.fingerprint(c)} for c in e.chain_before
            ],
            "chain_after": [
                {"subject": C.dn(s.cert.subject), "sha256": C.fingerprint(s.cert), "source": s.source}
                for s in e.chain_after
            ],
        }
        for e in result.entries
    ]
    return {
        "keystore": str(result.store.path),
        "output": result.out,
        "output_type": result.out_type.value,
        "entries": entries,
        "trusted_kept": list(result.trusted_kept),
        "dropped": list(result.dropped),
        "before": [finding_dict(f) for f in result.before],
        "after": [finding_dict(f) for f in result.after],
        "java_before": selection_dict(before) if before is not None else None,
        "java_after": selection_dict(after) if after is not None else None,
        "keytool_commands": list(result.keytool_commands),
    }
