"""Wire rules on what the capture could not show: a TLS 1.3 exchange without its keys (inferred
from record sizes, marked as inference), a connection not fully captured."""

from __future__ import annotations

from collections.abc import Iterator

from inspector.findings import Evidence, Finding, Severity, make, register
from inspector.rules import RuleSet
from inspector.rules.wire_context import WireContext
from parsers import model
from parsers.model import (
    Direction,
    EncryptedRecords,
)

G = "wire"

ENCRYPTED = register(
    "handshake-encrypted-no-keylog",
    Severity.INFO,
    "TLS 1.3 hides the certificate exchange; no key log was given",
    """TLS 1.3 encrypts CertificateRequest, Certificate, CertificateVerify and the alerts after
    the handshake. Without the client's key log (SSLKEYLOGFILE, NSS format) we infer from record
    sizes and order: an empty client Certificate is a 25-byte record, an alert a 19-byte one.
    Give --keylog FILE, or a pcapng with the secrets embedded (editcap --inject-secrets), to
    settle it.""",
    G,
)


INCOMPLETE = register(
    "capture-incomplete",
    Severity.WARNING,
    "The capture is missing part of the conversation",
    """Lost segments (gaps), a capture that starts mid-connection, packets cut by the snaplen,
    or a file truncated at the end: what is missing cannot be decoded, and a finding that depends
    on it would be a guess. Capture again with a larger snaplen (tcpdump -s 0) and from the
    start of the connection.""",
    G,
)

RULES: RuleSet[WireContext] = RuleSet()


@RULES.rule(ENCRYPTED)
def encrypted_tls13(ctx: WireContext) -> Iterator[Finding]:
    """TLS 1.3 without keys: infer from record sizes and order, and say what would settle it."""
    t = ctx.t
    if not t.tls13 or t.decrypted or t.resumed:
        return
    server_first = next(model.every(t.messages(EncryptedRecords), EncryptedRecords, Direction.SERVER), None)
    client_flight = next(model.every(t.messages(EncryptedRecords), EncryptedRecords, Direction.CLIENT), None)
    facts = []
    guess = ""
    severity = Severity.INFO
    if client_flight is not None:
        sizes = client_flight.message.sizes
        facts.append(ctx.ev(client_flight.event, f"client's encrypted flight: records of {sizes} bytes"))
        if sizes and sizes[0] == 25:
            guess = "the client's first encrypted record is 25 bytes: an empty Certificate"
        position = ctx.index_of(client_flight.event)
        reply = next((e for e in t.events[position + 1 :] if e.direction is Direction.SERVER), None)
        reply_records = model.message_as(reply, EncryptedRecords)
        if (
            reply is not None
            and reply_records is not None
            and reply_records.sizes[0] == 19
            and reply is t.events[-1]
            and t.fin_by
        ):
            facts.append(ctx.ev(reply, "a single 19-byte record, then the connection closed"))
            guess += ("; " if guess else "") + (
                "the server answered the client's flight with a "
                "19-byte record (the size of an alert) and closed: "
                "it most likely rejected the client certificate"
            )
            severity = Severity.ERROR
    if server_first is not None:
        facts.insert(
            0, ctx.ev(server_first.event, f"server's encrypted flight: {server_first.message.sizes}")
        )
    hint = "--keylog FILE with the client's SSLKEYLOGFILE"
    missed = ""
    hello = t.client_hello
    if t.keylog_missed and hello is not None:
        missed = (
            f"; the key log given has no secrets for this connection (client random "
            f"{hello.random.hex()[:16]}…): it comes from another client or session"
        )
        hint = "the key log written by the client of this very connection"
    yield make(
        ENCRYPTED,
        "TLS 1.3: the certificate exchange is encrypted"
        + (f"; {guess}" if guess else "; give the key log to see it")
        + missed,
        location=ctx.where(),
        evidence=facts,
        severity=severity,
        fix=f"rerun with {hint} (or a pcapng with embedded secrets: editcap "
        "--inject-secrets tls,keys.txt in.pcap out.pcapng)",
        inference=bool(guess),
    )


@RULES.rule(INCOMPLETE)
def incomplete(ctx: WireContext) -> Iterator[Finding]:
    """Gaps, truncation, snaplen, mid-stream starts."""
    problems = [
        p for p in ctx.t.problems if p.kind in ("gap", "truncated", "snaplen", "mid-stream", "malformed")
    ]
    if not problems:
        return
    kinds = sorted({p.kind for p in problems})
    yield make(
        INCOMPLETE,
        f"connection #{ctx.t.index} is not fully captured ({', '.join(kinds)}): findings "
        "about the missing part cannot be made",
        location=ctx.where(),
        evidence=[
            Evidence(
                f"frame {p.frame}" if p.frame else "capture",
                f"{p.direction.value + ': ' if p.direction else ''}{p.detail}",
            )
            for p in problems[:6]
        ],
        fix="capture again from before the connection starts, with tcpdump -s 0 (no "
        "snaplen) on the right interface",
    )
