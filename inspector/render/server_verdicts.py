"""The per-stack verdicts as a text table and as JSON (`server_verdicts`)."""

from __future__ import annotations

from inspector.analysis.server_verdicts import ServerJudgement
from inspector.render import text
from inspector.render.json_out import JsonObject, JsonValue


def verdicts_text(j: ServerJudgement, with_findings: bool = True) -> str:
    who = f"'{j.alias}'" if j.alias else ("the client's chain" if j.chain else "an empty Certificate")
    lines = [
        f"\nThe partner's server on {who} ({len(j.chain)} certificate(s) sent), trusting {j.source}:",
    ]
    rows = [
        [
            v.stack.value + ("" if v.tested else " (modelled, not tested)"),
            v.verdict.value,
            v.reason if not v.accepted else "",
            v.stack_says,
        ]
        for v in j.verdicts
    ]
    lines.append(text.table(rows, ["stack", "verdict", "why", "the stack says"]))
    refused = [v for v in j.verdicts if not v.accepted]
    lines += [f"  {v.stack.value}: server setting: {v.setting}" for v in refused if v.setting]
    client: dict[str, list[str]] = {}
    for v in refused:
        if v.client_fix:
            client.setdefault(v.client_fix, []).append(v.stack.value)
    for fix, stacks in client.items():
        who = "every stack" if len(stacks) == len(j.verdicts) > 1 else ", ".join(stacks)
        lines.append(f"  client fix ({who}): {fix}")
    lines.append("  Revocation (CRL/OCSP) is not checked.")
    if j.findings and with_findings:
        lines.append(text.findings_block(list(j.findings)))
    return "\n".join(lines)


def verdicts_json(j: ServerJudgement) -> list[JsonValue]:
    out: list[JsonValue] = []
    for v in j.verdicts:
        item: JsonObject = dict(v.as_json())  # type: ignore[arg-type]
        item["alias"] = j.alias
        out.append(item)
    return out
