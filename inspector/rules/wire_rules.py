"""Wire rules: one transcript (the handshake, the CertificateRequest, the client's answer, the
server's verdict), optionally a keystore, → findings.

The rules live by what they judge (alert_rules, client_cert_rules, signature_rules, interop_rules,
visibility_rules; their context is wire_context's); here they are run as one set, in one order.
"""

from __future__ import annotations

import datetime as dt

from inspector.findings import Finding
from inspector.keystore.model import Keystore
from inspector.rules import (
    RuleSet,
    alert_rules,
    client_cert_rules,
    interop_rules,
    signature_rules,
    visibility_rules,
)
from inspector.rules.wire_context import WireContext
from parsers.model import Transcript

#: every wire rule, in the order it runs (the order of findings a report does not sort)
RULES: RuleSet[WireContext] = RuleSet.in_order(
    (
        alert_rules.RULES,
        client_cert_rules.RULES,
        signature_rules.RULES,
        interop_rules.RULES,
        visibility_rules.RULES,
    ),
    (
        alert_rules.early_failures,
        client_cert_rules.no_request,
        client_cert_rules.empty_certificate,
        client_cert_rules.sent_chain,
        client_cert_rules.java_rejects_request,
        client_cert_rules.java_cannot_sign,
        interop_rules.legacy_renegotiation,
        interop_rules.wire_certificate_encoding,
        client_cert_rules.empty_ca_list,
        alert_rules.server_rejected,
        signature_rules.signatures,
        alert_rules.reset,
        visibility_rules.encrypted_tls13,
        visibility_rules.incomplete,
        visibility_rules.retransmission_conflict,
        visibility_rules.tunnelled,
    ),
)


def check_transcript(
    t: Transcript,
    store: Keystore | None = None,
    file: str | None = None,
    at: dt.datetime | None = None,
    command: str = "pcap",
) -> list[Finding]:
    return RULES.run(WireContext(t, store, file, at, command))
