"""Wire rules on what the capture could not show, or shows by another way: a TLS 1.3 exchange
without its keys (inferred from record sizes, marked as inference), a connection not fully
captured, two copies of the same bytes that differ, TLS read from inside a tunnel or not read
at all."""

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

RETRANSMISSION_CONFLICT = register(
    "retransmission-conflict",
    Severity.WARNING,
    "A TCP retransmission carries other bytes than the first copy",
    """The capture holds two copies of the same TCP bytes that differ: one of them was damaged
    (on the wire, by a middlebox, or by the capture itself) or the stream was tampered with. The
    first copy was read, as the receiving host and tshark do; findings made from those bytes
    (a certificate, a signature) may rest on the damaged copy. Capture again, closer to the
    endpoint, and look for checksum errors.""",
    G,
)

TUNNELLED = register(
    "tls-in-tunnel",
    Severity.INFO,
    "TLS carried inside another protocol's framing (OpenVPN), or a message not read here",
    """OpenVPN authenticates both ends with a mutual-TLS handshake carried in its control
    channel: over TCP it is taken out of OpenVPN's packets (in order, retransmissions dropped,
    a --tls-auth HMAC passed over) and read as any TLS connection; the VPN's own data is not
    TLS and is skipped. With --tls-crypt the control channel is encrypted with a key only the
    two ends hold: nothing of the handshake can be read, and OpenVPN's own log (VERIFY OK /
    VERIFY ERROR lines) is the evidence. A message this installation cannot read (a certificate
    compressed with brotli or zstd without the package installed) is named here too.""",
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


@RULES.rule(RETRANSMISSION_CONFLICT)
def retransmission_conflict(ctx: WireContext) -> Iterator[Finding]:
    """The same sequence range arrived twice with different bytes: which copy was read."""
    conflicts = [p for p in ctx.t.problems if p.kind == "conflict"]
    if not conflicts:
        return
    yield make(
        RETRANSMISSION_CONFLICT,
        f"connection #{ctx.t.index}: {len(conflicts)} TCP retransmission(s) carry other bytes than the "
        "copy read first; the first copy was used, and what was read from it may be the damaged one",
        location=ctx.where(),
        evidence=[
            Evidence(f"frame {p.frame}", f"{p.direction.value + ': ' if p.direction else ''}{p.detail}")
            for p in conflicts[:6]
        ],
        fix="capture again closer to the endpoint and check the TCP checksums (tshark -o "
        "tcp.check_checksum:TRUE -Y tcp.checksum.status==2)",
    )


@RULES.rule(TUNNELLED)
def tunnelled(ctx: WireContext) -> Iterator[Finding]:
    """Where this connection's TLS came from (a tunnel), and what of it could not be read."""
    said = [p for p in ctx.t.problems if p.kind in ("tunnel", "unread")]
    if not said:
        return
    fix = ""
    if any("--tls-crypt" in p.detail for p in said):
        fix = (
            "read the OpenVPN server's log for this client (VERIFY OK / VERIFY ERROR lines name the "
            "certificate and why it was refused), or capture a peer configured with --tls-auth instead"
        )
    elif any(p.kind == "unread" for p in said):
        fix = "install the package named above and read the capture again"
    yield make(
        TUNNELLED,
        f"connection #{ctx.t.index}: {said[0].detail}"
        + (f"; {len(said) - 1} more note(s)" if len(said) > 1 else ""),
        location=ctx.where(),
        evidence=[Evidence(f"frame {p.frame}" if p.frame else "capture", p.detail) for p in said[:6]],
        fix=fix,
    )
