"""The `demo` story: the scenario, what Java does, what curl does, what the server saw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.render.probe import probe_text
from inspector.render.summary import outcome, sent

if TYPE_CHECKING:
    from inspector.analysis.demo import DemoResult


def demo_text(result: DemoResult) -> str:
    curl = result.curl
    lines = [
        "Scenario: the partner's server trusts 'Acme Root CA' and 'Acme Issuing CA' but its "
        "CertificateRequest names only 'Acme Root CA'.\nThe client's keystore holds key "
        "entry 'letstestcba' with its leaf only (the intermediate was never imported).\n",
        "━━ 1. what a Java client does (mtls-inspect probe, Java's choice) ━━",
        probe_text(result.java),
        "\n━━ 2. what curl / openssl s_client do (--alias letstestcba: sent regardless) ━━",
        f"  presented 'letstestcba' ({sent(curl.transcript)}, leaf only): {outcome(curl.transcript)}",
    ]
    lines += [f"  {f.severity.value}[{f.code}]: {f.summary}" for f in curl.connection.findings]
    lines.append("\n━━ the reference server's log ━━")
    lines += ["  " + report.line() for report in result.server_log]
    verdict = {True: "accepted", False: "refused"}
    accepted = [r.accepted for r in result.server_log]
    lines += [
        f"\nSame keystore, same server — Java: {verdict[accepted[0]]}; "
        f"OpenSSL/curl: {verdict[accepted[-1]]}.",
        "Fix: import the CA reply as a full chain (leaf + intermediate) under the alias, so a "
        "certificate in the chain is issued by a CA the server names.",
    ]
    return "\n".join(lines)
