"""The per-stack verdicts as a text table and as JSON (`server_verdicts`)."""

from __future__ import annotations

from inspector.analysis.server_chains import ServerChains
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
            v.verdict.value + (" (inferred)" if j.inferred else ""),
            _short(v.reason) if not v.accepted else "",
            v.stack_says,
        ]
        for v in j.verdicts
    ]
    lines.append(text.table(rows, ["stack", "verdict", "why", "the stack says"]))
    if j.inferred:
        opened = "; ".join(dict.fromkeys(n for each in j.not_checked for n in each))
        lines.append(
            "  Inferred from the log's description of the chain, not its bytes; not checked: " + opened
        )
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


def _short(reason: str) -> str:
    """A described chain's reason without its label (the table says it once, below)."""
    return reason.split(" (inferred from the log's description", 1)[0]


def verdicts_json(j: ServerJudgement) -> list[JsonValue]:
    out: list[JsonValue] = []
    for i, v in enumerate(j.verdicts):
        item: JsonObject = dict(v.as_json())  # type: ignore[arg-type]
        item["alias"] = j.alias
        if j.not_checked:
            item["not_checked"] = list(j.not_checked[i])
        out.append(item)
    return out


def _numbers(unit: str, indices: list[int]) -> str:
    shown = ", ".join(f"#{n}" for n in indices[:20]) + (" ..." if len(indices) > 20 else "")
    return f"{unit}{'s' if len(indices) > 1 else ''} {shown}"


def no_chain_line(chains: ServerChains, unit: str) -> str:
    """Why there is no table: the one line said instead."""
    head = f"The partner's server stacks (--server-ca {chains.source}): no client chain to judge"
    if chains.empty:
        return (
            f"{head}: the client sent an empty Certificate (no certificate) in "
            f"{_numbers(unit, chains.empty)}; every stack requiring one refuses that"
        )
    if chains.unprinted:
        return (
            f"{head}: the client's Certificate in {_numbers(unit, chains.unprinted)} is named but not "
            "printed (run the client with -Djavax.net.debug=ssl:handshake)"
        )
    return (
        f"{head}: no {unit} holds a client Certificate message (none was requested, the handshake "
        "stopped before it, or it was encrypted: TLS 1.3 without a key log)"
    )


def chains_text(chains: ServerChains, unit: str) -> str:
    """A table per distinct client chain, naming the connections (handshakes) that sent it."""
    groups = chains.judged
    if not groups:
        return "\n" + no_chain_line(chains, unit)
    parts = []
    for g in groups:
        same = " (the same chain)" if len(g.indices) > 1 else ""
        parts.append(f"\n{_numbers(unit, g.indices).capitalize()}{same}:" + verdicts_text(g.judgement, False))
    others = [
        f"  {what} in {_numbers(unit, idx)}"
        for what, idx in (
            ("an empty Certificate (no certificate)", chains.empty),
            ("a Certificate named but not printed", chains.unprinted),
        )
        if idx
    ]
    if others:
        parts.append("\nNot judged:\n" + "\n".join(others))
    return "\n".join(parts)


def chains_json(chains: ServerChains, unit: str) -> list[JsonValue]:
    """`server_verdicts`: each distinct chain's verdicts, with the connections (handshakes) that
    sent it (`connections` / `handshakes`) and its label (`group`)."""
    out: list[JsonValue] = []
    for g in chains.judged:
        label = _numbers(unit, g.indices)
        for item in verdicts_json(g.judgement):
            assert isinstance(item, dict)
            item[unit + "s"] = list(g.indices)
            item["group"] = label
            out.append(item)
    return out
