"""JDK 11+ logs: `javax.net.ssl|LEVEL|TID|THREAD|STAMP|CALLER|message (` headers with JSON-like
blocks. Every line names its thread, so a handshake is tied to its thread, never to adjacency.
`Produced X` is what the log's side sent, `Consuming X` what it received; the message's name
says who sends it, which tells a server's log from a client's."""

from __future__ import annotations

import re
from collections.abc import Iterator

from parsers.javalog import blocks as B
from parsers.javalog.building import Build
from parsers.javalog.certtext import hex_bytes, parse_modern
from parsers.javalog.model import (
    FatalLine,
    HttpAnswer,
    KeyEntryFact,
    LoggedHandshake,
    Role,
    Said,
    Statement,
    TrustedAnchors,
)
from parsers.javalog.scan import Entry
from parsers.javalog.state import LogState
from parsers.model import (
    Alert,
    CertificateVerify,
    ChangeCipherSpec,
    Direction,
    Problem,
    SimpleMessage,
)

FMT = "JDK 11+"
SIMPLE_TYPES = {
    "ServerHelloDone": 14,
    "EncryptedExtensions": 8,
    "ServerKeyExchange": 12,
    "ClientKeyExchange": 16,
    "CertificateVerify": 15,
    "Finished": 20,
    "NewSessionTicket": 4,
    "KeyUpdate": 24,
    "CertificateStatus": 22,
    "HelloRequest": 0,
}
#: The key manager's and the handshake's own sentences, as JDK 11+ prints them.
STATEMENTS = (
    ("No X.509 cert selected", Said.NO_CERT_SELECTED),
    ("No available authentication scheme", Said.NO_AUTH_SCHEME),
    ("No available client authentication scheme", Said.NO_CLIENT_AUTH_SCHEME),
    ("No X.509 certificate for client authentication", Said.EMPTY_CERT_INSTEAD),
    ("Unavailable authentication scheme", Said.UNAVAILABLE_SCHEME),
    ("Warning: no suitable certificate found", Said.NO_SUITABLE_JDK8),
    ("Invalid certificate_authorities", Said.INVALID_CA_EXTENSION),
    ("Ignore alias", Said.KEY_REJECTED),
)
_FACTS = (
    "Consuming",
    "Produced",
    "Received alert",
    "Fatal (",
    "matching alias",
    "X509KeyManager class",
    "handling exception",
    *(prefix for prefix, _ in STATEMENTS),
)
#: JDK 11+ messages named by the side that sends them (the rest: by Produced = this side).
_CLIENT_SENT = ("ClientHello", "ClientKeyExchange", "client ", "CertificateVerify handshake")
_SERVER_SENT = (
    "ServerHello",
    "ServerKeyExchange",
    "HelloRetryRequest",
    "EncryptedExtensions",
    "CertificateRequest",
    "NewSessionTicket",
    "CertificateStatus",
    "server ",
)
_SERVER_HELLO = (
    "Consuming ServerHello handshake",
    "Consuming HelloRetryRequest",
    "Produced ServerHello handshake",
    "Produced HelloRetryRequest",
)
_FATAL = re.compile(r"Fatal \(([A-Z_]+)\): (.*)")
_HTTP = re.compile(rb"HTTP/\d\.\d (\d{3}) ([^\r\n]*)")
_TITLE = re.compile(rb"<title>([^<]{1,120})</title>")


def modern_sender(msg: str) -> Direction | None:
    """Who sends the message a `Produced X` / `Consuming X` line names (None: the name does not say)."""
    body = msg.split(" ", 1)[1] if " " in msg else ""
    words = body.split(" ")
    # "Produced ECDHE ClientKeyExchange": the key exchange's name comes first
    for part in (body, " ".join(words[1:])):
        if part.startswith(_CLIENT_SENT):
            return Direction.CLIENT
        if part.startswith(_SERVER_SENT):
            return Direction.SERVER
    return None


def read(state: LogState, e: Entry) -> Iterator[LoggedHandshake]:
    """One JDK 11+ entry; yields the thread's previous handshake when this one starts a new one."""
    msg = e.text
    thread = f"{e.thread_id}|{e.thread_name}"
    state.last_thread = thread
    when = state.stamps.epoch(e.stamp)
    if msg.startswith("adding as trusted cert"):
        facts = parse_modern(e.block, e.line + 1)
        state.trusted = TrustedAnchors(e.line, tuple(f.subject for f in facts))
        return
    if msg.startswith("found key for"):
        chain = parse_modern(e.block, e.line + 1)
        alias = msg.split(":", 1)[1].strip() if ":" in msg else "?"
        state.keys.add(thread, KeyEntryFact(e.line, alias, len(chain), tuple(f.issuer for f in chain)))
        return
    if msg.startswith(("Produced ClientHello", "Consuming ClientHello")):
        yield from _client_hello(state, e, thread, when)
        return
    if thread not in state.open and not msg.startswith(_FACTS):
        return  # not a handshake's line, and no handshake open on its thread
    build = state.current(thread, e.line, FMT, when, msg.startswith(("Consuming", "Produced")))
    build.last_line = max(build.last_line, e.line + len(e.block))
    if e.truncated:
        build.problems.append(Problem("truncated", f"the block at line {e.line} is cut short"))
    if msg.startswith(("Produced ", "Consuming ")):
        _role_from_message(build, e)
        _handshake_message(state, build, e, when)
    else:
        _other_line(state, build, e, when)


def _client_hello(state: LogState, e: Entry, thread: str, when: float | None) -> Iterator[LoggedHandshake]:
    """A ClientHello starts the thread's next handshake (after a HelloRetryRequest: the same one)."""
    old = state.open.get(thread)
    if old is not None and not (old.waiting_after_retry() and old.has_hello):
        yield state.close(old, at_end=False)
        old = None
    build = old or state.new(thread, e.line, FMT, when)
    build.add(Direction.CLIENT, when, B.client_hello(e.block), e.line)
    build.last_line = e.line
    if e.text.startswith("Consuming"):
        build.set_role(Role.SERVER, e.line, "it received the ClientHello")
    else:
        build.set_role(Role.CLIENT, e.line, "it sent the ClientHello")


def _role_from_message(build: Build, e: Entry) -> None:
    """Sending a server's message (or receiving a client's) makes the log a server's."""
    if build.role is not None:
        return  # the first line that tells decides
    msg = e.text
    sender = modern_sender(msg)
    if sender is None:
        return
    produced = msg.startswith("Produced")
    server = (sender is Direction.SERVER) == produced
    build.set_role(
        Role.SERVER if server else Role.CLIENT,
        e.line,
        f"it {'sent' if produced else 'received'} the "
        + msg.split(" ", 1)[1].replace(" handshake message", "").replace(" message", ""),
    )


def _handshake_message(state: LogState, build: Build, e: Entry, when: float | None) -> None:
    """A `Produced X` / `Consuming X` line: the message X, in the right direction."""
    msg = e.text
    if msg.startswith(_SERVER_HELLO):
        build.add(Direction.SERVER, when, B.server_hello(e.block, build.negotiated), e.line)
    elif msg.startswith(("Consuming CertificateRequest", "Produced CertificateRequest")):
        read = B.certificate_request(e.block)
        build.note_request(read, e.line)
        build.add(Direction.SERVER, when, read.message, e.line)
    elif msg.startswith(("Consuming server Certificate", "Produced server Certificate")) and (
        "CertificateVerify" not in msg
    ):
        _certificate(build, e, when, Direction.SERVER)
    elif msg.startswith("Consuming Certificate handshake"):  # older wording: the peer's
        _certificate(build, e, when, None)
    elif msg.startswith(("Produced client Certificate", "Consuming client Certificate")) and (
        "CertificateVerify" not in msg
    ):
        _certificate(build, e, when, Direction.CLIENT)
    else:
        _simple(build, e, when)


def _certificate(build: Build, e: Entry, when: float | None, sender: Direction | None) -> None:
    """A Certificate message; `sender` None: the peer's (received), settled with the role."""
    cert, _facts = B.certificates(e.block, e.line + 1)
    build.from_text = build.from_text or bool(cert.chain)
    if sender is None:
        build.add_relative(False, when, cert, e.line)
    else:
        build.add(sender, when, cert, e.line)


def _other_line(state: LogState, build: Build, e: Entry, when: float | None) -> None:
    """Alerts, fatal errors, the key manager's words, exceptions and decrypted data."""
    msg = e.text
    if msg.startswith("Negotiated protocol version:"):
        build.negotiated = B.version_of(msg.split(":", 1)[1])
    elif msg.startswith("Received alert message"):
        build.add_relative(False, when, B.alert(e.block), e.line)
    elif msg.startswith("Fatal ("):
        _fatal(build, e, when)
    elif msg.startswith("WRITE: ") and "alert(" in msg:
        name = msg.split("alert(", 1)[1].split(")", 1)[0]
        if build.fatal is None and name in B.ALERT_CODES and name not in ("close_notify", "user_canceled"):
            build.add_relative(True, when, Alert(2, B.ALERT_CODES[name]), e.line)
    elif msg.startswith("matching alias:"):
        build.aliases.append(msg.split(":", 1)[1].strip())
        build.statements.append(Statement(e.line, Said.MATCHING_ALIAS, msg))
    elif msg.startswith("X509KeyManager class:"):
        build.key_manager = msg.split(":", 1)[1].strip()
        state.summary.key_manager = build.key_manager
    elif msg.startswith("handling exception"):
        build.note_exception(B.throwable(e.block), e.line)
    elif msg.startswith("Plaintext after DECRYPTION"):
        _plaintext(build, e)
    else:
        for prefix, said in STATEMENTS:
            if msg.startswith(prefix):
                build.statements.append(Statement(e.line, said, msg))
                if said in (Said.EMPTY_CERT_INSTEAD, Said.NO_CLIENT_AUTH_SCHEME):
                    build.set_role(Role.CLIENT, e.line, f"a client's words: {msg[:60]}")
                break


def _simple(build: Build, e: Entry, when: float | None) -> None:
    msg = e.text
    named = modern_sender(msg)
    if named is None:  # ChangeCipherSpec and the like: Produced = this side
        local = msg.startswith("Produced")
        if "ChangeCipherSpec" in msg:
            build.add_relative(local, when, ChangeCipherSpec(), e.line)
            return
        direction = Direction.CLIENT if local else Direction.SERVER
    else:
        direction = named
    if "CertificateVerify" in msg and direction is Direction.CLIENT:
        values = B._values(e.block)
        algorithm = B.SCHEMES.get(values.get("signature algorithm", "").strip(), 0)
        build.add(direction, when, CertificateVerify(algorithm, 0), e.line)
        return
    for name, code in SIMPLE_TYPES.items():
        if name in msg:
            build.add(direction, when, SimpleMessage(code, 0), e.line)
            if code == 20:
                build.finished(direction)
            return


def _fatal(build: Build, e: Entry, when: float | None) -> None:
    """`Fatal (ALERT): reason`: the alert this side sends, unless the reason is one received."""
    m = _FATAL.match(e.text)
    if m is None:
        return
    alert_name, reason = m.group(1).lower(), m.group(2)
    received = reason.startswith("Received fatal alert")
    if build.fatal is None:
        build.fatal = FatalLine(e.line, alert_name, reason, received)
    build.note_exception(B.throwable(e.block), e.line)
    code = B.ALERT_CODES.get(alert_name)
    if received:
        if not any(isinstance(x.message, Alert) for x in build.events) and code is not None:
            build.add_relative(False, when, Alert(2, code), e.line)
    elif code is not None:
        local = {rel.index for rel in build.relative if rel.local}
        if not any(isinstance(x.message, Alert) and i in local for i, x in enumerate(build.events)):
            build.add_relative(True, when, Alert(2, code), e.line)
    build.statements.append(Statement(e.line, Said.FATAL, e.text))


def _plaintext(build: Build, e: Entry) -> None:
    """Decrypted application data after the handshake (`all` logs): the server's HTTP answer."""
    if not build.done:
        return
    if build.http is not None and "certificate" in build.http.reason.lower():
        return
    lines = e.block[1:] if e.block and not e.block[0].strip()[:1].isdigit() else e.block
    head, _ = hex_bytes(lines[:1], 0)
    if not head or (len(head) >= 5 and not head.startswith(b"HTTP/")):
        return  # not an HTTP answer: the rest of the record is not read
    data, _ = hex_bytes(lines, 0)
    m = _HTTP.match(data)
    if m:
        reason = m.group(2).decode("latin-1")
        title = _TITLE.search(data)
        if title:  # nginx says why in the page: "400 No required SSL certificate was sent"
            reason += f" ({title.group(1).decode('latin-1')})"
        build.http = HttpAnswer(int(m.group(1)), reason)
        build.statements.append(Statement(e.line, Said.DECRYPTED, m.group(0).decode("latin-1")))
