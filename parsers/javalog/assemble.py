"""Ties scanner entries into handshakes: one open handshake per thread, closed by the next one.

A handshake is tied together by its thread (JDK 11+ prints the thread id and name on every line;
JDK 8 prints the name on record lines), never by adjacency, so interleaved threads and
application lines do not mix handshakes. A handshake is handed out as soon as its thread starts
the next one (or at the end of the log), which keeps memory bounded by the number of threads.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from parsers.javalog import blocks as B
from parsers.javalog.certtext import hex_bytes, parse_jdk8, parse_modern
from parsers.javalog.model import (
    FatalLine,
    JavaException,
    KeyEntryFact,
    LoggedHandshake,
    LogSummary,
    Role,
    Said,
    Statement,
)
from parsers.javalog.scan import Entry, Kind
from parsers.javalog.times import parse_java_time, zone_known
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ChangeCipherSpec,
    ClientHello,
    Direction,
    Endpoint,
    HandshakeEvent,
    Message,
    Problem,
    ServerHello,
    SimpleMessage,
    Transcript,
)

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
_STATEMENTS = (
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
    *(prefix for prefix, _ in _STATEMENTS),
)


def _starts_handshake_fact(message: str) -> bool:
    """Lines that belong to a handshake even when the log shows no ClientHello before them."""
    return message.startswith(_FACTS)


_JDK8_THREAD = re.compile(
    r"^(?:\[?([^,\[\]]{1,80}?)\]?, |, ?)?(RECV|SEND|WRITE|READ|handling exception|fatal error)(.*)$"
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


def _jdk8_usages(block: list[str]) -> tuple[str, ...] | None:
    """The leaf's `ExtendedKeyUsages [ ... ]` in a JDK 8 chain dump (None: not printed)."""
    lines = list(itertools.takewhile(lambda x: not x.startswith(("***", "Found trusted")), block))
    for i, line in enumerate(lines):
        if line.strip().startswith("ExtendedKeyUsages ["):
            out: list[str] = []
            for follow in lines[i + 1 : i + 12]:
                if follow.strip().startswith("]"):
                    return tuple(out)
                if follow.strip():
                    out.append(follow.strip())
            return tuple(out)
    return None


@dataclass
class _Orphan:
    """An exception outside any handshake: its chain as printed, and the line of each element."""

    line: int
    chain: list[tuple[str, str]]
    thread: str | None
    lines: list[int]
    caused_only: bool = False  # begun by a `Caused by:` line (a paste of causes only)


def _same_failure(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Two causes of one trace: Java puts the cause's text into the wrapping exception's message."""
    x, y = f"{a[0]}: {a[1]}", f"{b[0]}: {b[1]}"
    return bool(a[1] and b[1]) and (b[1] in x or a[1] in y)


@dataclass
class _Build:
    index: int
    thread: str
    first_line: int
    fmt: str
    t0: float | None
    last_line: int = 0
    events: list[HandshakeEvent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    fatal: FatalLine | None = None
    exception: list[tuple[str, str]] = field(default_factory=list)
    exception_line: int = 0
    exception_thread: str | None = None
    aliases: list[str] = field(default_factory=list)
    key_entries: list[KeyEntryFact] = field(default_factory=list)
    key_manager: str | None = None
    from_text: bool = False
    negotiated: int | None = None
    client_finished: bool = False
    server_finished: bool = False
    finished_jdk8: int = 0
    http: tuple[int, str] | None = None
    started_mid: bool = False
    request_notes: list[str] = field(default_factory=list)
    display: str | None = None  # the thread's name when the key does not carry it (JDK 8)
    role: Role | None = None
    role_evidence: tuple[int, str] | None = None
    #: events whose direction is relative to the log's side: (index, sent by this side)
    relative: list[tuple[int, bool]] = field(default_factory=list)
    unprinted: dict[int, tuple[str, ...]] = field(default_factory=dict)
    usages: dict[int, tuple[str, ...]] = field(default_factory=dict)
    request_types_unknown: bool = False
    key_choice_line: int = 0  # JDK 8: a key-manager line (matching alias) inside the handshake

    def add_relative(self, local: bool, when: float | None, message: Message, line: int) -> None:
        """A message this side sent (local) or received; its direction is settled with the role."""
        self.relative.append((len(self.events), local))
        self.add(Direction.CLIENT if local else Direction.SERVER, when, message, line)

    def set_role(self, role: Role, line: int, why: str) -> None:
        if self.role is None:
            self.role, self.role_evidence = role, (line, why)

    def settled_events(self) -> list[HandshakeEvent]:
        if self.role is not Role.SERVER:
            return self.events
        events = list(self.events)
        for index, _local in self.relative:
            e = events[index]
            flipped = Direction.SERVER if e.direction is Direction.CLIENT else Direction.CLIENT
            events[index] = HandshakeEvent(flipped, e.time, e.message, e.frame, e.encrypted)
        return events

    def add(self, direction: Direction, when: float | None, message: Message, line: int) -> None:
        base = self.t0 if self.t0 is not None else when
        self.t0 = base
        offset = (when - base) if when is not None and base is not None else 0.0
        self.events.append(HandshakeEvent(direction, round(offset, 3), message, frame=line))

    @property
    def has_hello(self) -> bool:
        return any(isinstance(e.message, ClientHello) for e in self.events)

    @property
    def ended(self) -> bool:
        return self.fatal is not None or (self.client_finished and self.server_finished)

    def waiting_after_retry(self) -> bool:
        last = self.events[-1].message if self.events else None
        return isinstance(last, ServerHello) and last.hello_retry_request


class Assembler:
    def __init__(self) -> None:
        self.summary = LogSummary()
        self.open: dict[str, _Build] = {}
        self.next_index = 1
        self.last_thread: str | None = None
        self.orphan: list[_Orphan] = []
        self._jdk8_chains = 0
        self._epochs: dict[str, float | None] = {}
        self._days: dict[str, float | None] = {}
        self._keys: dict[str, list[KeyEntryFact]] = {}
        self._trusted: tuple[int, tuple[str, ...]] | None = None
        self._keys_used: set[str] = set()
        self._key_seen: set[tuple[str, int, tuple[str, ...]]] = set()
        self._last_key_thread: str | None = None
        self._jdk8_names: set[str] = set()

    # --- entry points -------------------------------------------------------------------------

    def feed(self, entry: Entry) -> Iterator[LoggedHandshake]:
        if entry.kind is Kind.MODERN:
            yield from self._modern(entry)
        elif entry.kind is Kind.JDK8:
            yield from self._legacy(entry)
        elif entry.kind is Kind.APP:
            self._app(entry)
        else:
            self._exception(entry)

    def finish(self) -> Iterator[LoggedHandshake]:
        for build in sorted(self.open.values(), key=lambda b: b.index):
            yield self._close(build, at_end=True)
        self.open.clear()
        for o in self.orphan:
            self.summary.exceptions.append(JavaException(o.line, tuple(o.chain), o.thread, tuple(o.lines)))

    # --- helpers ------------------------------------------------------------------------------

    def _epoch(self, stamp: str) -> float | None:
        # fast path: `yyyy-MM-dd HH:mm:ss.SSS ZONE`, the day and zone parsed once
        if len(stamp) >= 23 and stamp[10] == " " and stamp[13] == ":" and stamp[19] == ".":
            key = stamp[:10] + stamp[23:]
            day = self._days.get(key, -1.0)
            if day == -1.0:
                midnight = self._slow_epoch(f"{stamp[:10]} 00:00:00.000{stamp[23:]}")
                day = self._days[key] = midnight
            if day is not None and stamp[11:13].isdigit() and stamp[14:16].isdigit():
                try:
                    return day + int(stamp[11:13]) * 3600 + int(stamp[14:16]) * 60 + float(stamp[17:23])
                except ValueError:
                    pass
        return self._slow_epoch(stamp)

    def _slow_epoch(self, stamp: str) -> float | None:
        if stamp in self._epochs:
            return self._epochs[stamp]
        when = parse_java_time(stamp)
        zone = stamp.rsplit(" ", 1)[-1] if " " in stamp.strip() else ""
        if zone and not zone[0].isdigit():
            self.summary.zones.add(zone)
            if not zone_known(zone):
                self.summary.unknown_zones.add(zone)
        value = when.timestamp() if when else None
        if len(self._epochs) > 4096:
            self._epochs.clear()
        self._epochs[stamp] = value
        return value

    def _key_entry(self, thread: str, fact: KeyEntryFact) -> None:
        """A key manager's entry: for the thread's next handshakes, and once in the summary."""
        if thread in self._keys_used:
            self._keys_used.discard(thread)
            self._keys[thread] = []
        self._keys.setdefault(thread, []).append(fact)
        self._last_key_thread = thread
        seen = (fact.alias, fact.chain_length, fact.issuers)
        if seen not in self._key_seen:
            self._key_seen.add(seen)
            self.summary.key_entries.append(fact)

    def _new(self, thread: str, line: int, fmt: str, when: float | None) -> _Build:
        build = _Build(self.next_index, thread, line, fmt, when)
        keys = self._keys.get(thread) or self._keys.get(self._last_key_thread or "", [])
        build.key_entries = list(keys)
        self._keys_used.add(thread)
        self.next_index += 1
        self.open[thread] = build
        return build

    def _current(self, thread: str, line: int, fmt: str, when: float | None, message: bool = True) -> _Build:
        """The thread's open handshake; a new one (begun before the log, if `message`) otherwise."""
        build = self.open.get(thread)
        if build is None:
            build = self._new(thread, line, fmt, when)
            build.started_mid = message
        return build

    # --- JDK 11+ ------------------------------------------------------------------------------

    def _modern(self, e: Entry) -> Iterator[LoggedHandshake]:
        msg = e.text
        thread = f"{e.thread_id}|{e.thread_name}"
        self.last_thread = thread
        when = self._epoch(e.stamp)
        if msg.startswith("adding as trusted cert"):
            facts = parse_modern(e.block, e.line + 1)
            self._trusted = (e.line, tuple(f.subject for f in facts))
            return
        if msg.startswith("found key for"):
            chain = parse_modern(e.block, e.line + 1)
            alias = msg.split(":", 1)[1].strip() if ":" in msg else "?"
            self._key_entry(thread, KeyEntryFact(e.line, alias, len(chain), tuple(f.issuer for f in chain)))
            return
        if msg.startswith(("Produced ClientHello", "Consuming ClientHello")):
            old = self.open.get(thread)
            if old is not None and not (old.waiting_after_retry() and old.has_hello):
                yield self._close(old, at_end=False)
                old = None
            build = old or self._new(thread, e.line, "JDK 11+", when)
            build.add(Direction.CLIENT, when, B.client_hello(e.block), e.line)
            build.last_line = e.line
            if msg.startswith("Consuming"):
                build.set_role(Role.SERVER, e.line, "it received the ClientHello")
            else:
                build.set_role(Role.CLIENT, e.line, "it sent the ClientHello")
            return
        if thread not in self.open and not _starts_handshake_fact(msg):
            return
        build = self._current(thread, e.line, "JDK 11+", when, msg.startswith(("Consuming", "Produced")))
        build.last_line = max(build.last_line, e.line + len(e.block))
        if e.truncated:
            build.problems.append(Problem("truncated", f"the block at line {e.line} is cut short"))
        if msg.startswith(("Produced ", "Consuming ")):
            sender = modern_sender(msg)
            if sender is not None:
                produced = msg.startswith("Produced")
                server = (sender is Direction.SERVER) == produced
                build.set_role(
                    Role.SERVER if server else Role.CLIENT,
                    e.line,
                    f"it {'sent' if produced else 'received'} the "
                    + msg.split(" ", 1)[1].replace(" handshake message", "").replace(" message", ""),
                )
        if msg.startswith(
            (
                "Consuming ServerHello handshake",
                "Consuming HelloRetryRequest",
                "Produced ServerHello handshake",
            )
        ) or msg.startswith("Produced HelloRetryRequest"):
            build.add(Direction.SERVER, when, B.server_hello(e.block, build.negotiated), e.line)
        elif msg.startswith("Negotiated protocol version:"):
            build.negotiated = B.version_of(msg.split(":", 1)[1])
        elif msg.startswith(("Consuming CertificateRequest", "Produced CertificateRequest")):
            read = B.certificate_request(e.block)
            self._request_notes(build, read, e.line)
            build.add(Direction.SERVER, when, read.message, e.line)
        elif msg.startswith(("Consuming server Certificate", "Produced server Certificate")) and (
            "CertificateVerify" not in msg
        ):
            cert, _facts = B.certificates(e.block, e.line + 1)
            build.from_text = build.from_text or bool(cert.chain)
            build.add(Direction.SERVER, when, cert, e.line)
        elif msg.startswith("Consuming Certificate handshake"):  # older wording: the peer's
            cert, _facts = B.certificates(e.block, e.line + 1)
            build.from_text = build.from_text or bool(cert.chain)
            build.add_relative(False, when, cert, e.line)
        elif msg.startswith(("Produced client Certificate", "Consuming client Certificate")) and (
            "CertificateVerify" not in msg
        ):
            cert, _facts = B.certificates(e.block, e.line + 1)
            build.from_text = build.from_text or bool(cert.chain)
            build.add(Direction.CLIENT, when, cert, e.line)
        elif msg.startswith("Consuming") or msg.startswith("Produced"):
            self._simple(build, e, when)
        elif msg.startswith("Received alert message"):
            build.add_relative(False, when, B.alert(e.block), e.line)
        elif msg.startswith("Fatal ("):
            self._fatal(build, e, when)
        elif msg.startswith("WRITE: ") and "alert(" in msg:
            name = msg.split("alert(", 1)[1].split(")", 1)[0]
            if (
                build.fatal is None
                and name in B.ALERT_CODES
                and name not in ("close_notify", "user_canceled")
            ):
                build.add_relative(True, when, Alert(2, B.ALERT_CODES[name]), e.line)
        elif msg.startswith("matching alias:"):
            build.aliases.append(msg.split(":", 1)[1].strip())
            build.statements.append(Statement(e.line, Said.MATCHING_ALIAS, msg))
        elif msg.startswith("X509KeyManager class:"):
            build.key_manager = msg.split(":", 1)[1].strip()
            self.summary.key_manager = build.key_manager
        elif msg.startswith("handling exception"):
            if not build.exception:
                build.exception = B.throwable(e.block)
                build.exception_line = e.line
        elif msg.startswith("Plaintext after DECRYPTION"):
            self._plaintext(build, e)
        else:
            for prefix, said in _STATEMENTS:
                if msg.startswith(prefix):
                    build.statements.append(Statement(e.line, said, msg))
                    if said in (Said.EMPTY_CERT_INSTEAD, Said.NO_CLIENT_AUTH_SCHEME):
                        build.set_role(Role.CLIENT, e.line, f"a client's words: {msg[:60]}")
                    break

    def _request_notes(self, build: _Build, read: B.RequestRead, line: int) -> None:
        if read.guessed:
            build.request_notes.append(
                f"line {line}: the TLS 1.2 CA names are printed joined by ', ' like the parts of one "
                "name; they were split where the attribute order starts again (a CN= after C=)"
            )
        if read.invalid:
            build.statements.append(
                Statement(line, Said.INVALID_CA_EXTENSION, "Invalid certificate_authorities extension")
            )
        for text in read.unparsed:
            build.request_notes.append(f"line {line}: a CA name could not be read: {text[:80]!r}")

    def _simple(self, build: _Build, e: Entry, when: float | None) -> None:
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
                    if direction is Direction.CLIENT:
                        build.client_finished = True
                    else:
                        build.server_finished = True
                return

    def _fatal(self, build: _Build, e: Entry, when: float | None) -> None:
        m = re.match(r"Fatal \(([A-Z_]+)\): (.*)", e.text)
        if m is None:
            return
        alert_name, reason = m.group(1).lower(), m.group(2)
        received = reason.startswith("Received fatal alert")
        if build.fatal is None:
            build.fatal = FatalLine(e.line, alert_name, reason, received)
        chain = B.throwable(e.block)
        if chain and not build.exception:
            build.exception, build.exception_line = chain, e.line
        code = B.ALERT_CODES.get(alert_name)
        if received:
            if not any(isinstance(x.message, Alert) for x in build.events) and code is not None:
                build.add_relative(False, when, Alert(2, code), e.line)
        elif code is not None and not any(
            isinstance(x.message, Alert) and i in {j for j, local in build.relative if local}
            for i, x in enumerate(build.events)
        ):
            build.add_relative(True, when, Alert(2, code), e.line)
        build.statements.append(Statement(e.line, Said.FATAL, e.text))

    def _plaintext(self, build: _Build, e: Entry) -> None:
        if not (build.client_finished and build.server_finished):
            return
        if build.http is not None and "certificate" in build.http[1].lower():
            return
        data, _ = hex_bytes(e.block[1:] if e.block and not e.block[0].strip()[:1].isdigit() else e.block, 0)
        m = re.match(rb"HTTP/\d\.\d (\d{3}) ([^\r\n]*)", data)
        if m:
            reason = m.group(2).decode("latin-1")
            title = re.search(rb"<title>([^<]{1,120})</title>", data)
            if title:  # nginx says why in the page: "400 No required SSL certificate was sent"
                reason += f" ({title.group(1).decode('latin-1')})"
            build.http = (int(m.group(1)), reason)
            build.statements.append(Statement(e.line, Said.DECRYPTED, m.group(0).decode("latin-1")))

    # --- JDK 8 --------------------------------------------------------------------------------

    def _legacy(self, e: Entry) -> Iterator[LoggedHandshake]:
        text = e.text
        m = _JDK8_THREAD.match(text)
        # JDK 8 names the thread on record lines only, after the `***` lines it belongs with: one
        # JDK 8 handshake is open at a time, and it takes the name of the first thread seen in it
        thread = "jdk8|?"
        self.last_thread = thread
        if m and m.group(1):
            self._jdk8_names.add(m.group(1).strip())
        if m and m.group(1) and thread in self.open and self.open[thread].display is None:
            self.open[thread].display = m.group(1).strip()
        if text.startswith("*** ClientHello"):
            old = self.open.get(thread)
            if old is not None:
                yield self._close(old, at_end=False)
            build = self._new(thread, e.line, "JDK 8", None)
            self._jdk8_chains = 0
            version = text.split(",", 1)[1] if "," in text else ""
            build.add(Direction.CLIENT, None, B.jdk8_client_hello(e.block, version), e.line)
            build.last_line = e.line + len(e.block)
            for n, line in enumerate(e.block):  # JDK 8 `data` debug: who hashed the ClientHello
                if line.startswith("[write] MD5 and SHA1 hashes"):
                    build.set_role(
                        Role.CLIENT, e.line + 1 + n, "it wrote the ClientHello ([write] ... hashes)"
                    )
                elif line.startswith("[read] MD5 and SHA1 hashes"):
                    build.set_role(Role.SERVER, e.line + 1 + n, "it read the ClientHello ([read] ... hashes)")
                else:
                    continue
                break
            return
        if text.startswith("found key for"):
            chain = parse_jdk8(e.block, e.line + 1)
            alias = text.split(":", 1)[1].strip() if ":" in text else "?"
            self._key_entry(thread, KeyEntryFact(e.line, alias, len(chain), tuple(f.issuer for f in chain)))
            return
        if thread not in self.open and not text.startswith(("*** ", "Warning: no suitable")) and m is None:
            return  # "%% No cached client session" and the like, before any handshake
        if m is not None and m.group(2) in ("READ", "WRITE") and "ALERT" not in m.group(3):
            return  # record lines: what they say is in the `***` lines
        build = self._current(thread, e.line, "JDK 8", None, text.startswith("*** "))
        build.last_line = max(build.last_line, e.line + len(e.block))
        if text.startswith("*** ServerHelloDone"):
            build.add(Direction.SERVER, None, SimpleMessage(14, 0), e.line)
        elif text.startswith("*** ServerHello"):
            chosen = B.VERSIONS.get(text.split(",", 1)[1].strip(), 0x0303) if "," in text else 0x0303
            build.add(Direction.SERVER, None, ServerHello(b"", chosen, 0), e.line)
        elif text.startswith("*** Certificate chain"):
            cert, _ = B.certificates_jdk8(e.block, e.line + 1)
            if any(line.strip() == "<Empty>" for line in e.block[:3]):
                cert = Certificate(chain=())
            elif not cert.chain:  # named but not printed (no verbose, or an abridged paste): unknown
                subjects = tuple(
                    line.strip()[8:].strip()
                    for line in itertools.takewhile(
                        lambda x: not x.startswith(("***", "Found trusted")), e.block
                    )
                    if line.strip().startswith("Subject:")
                )
                cert = Certificate(chain=(), undecodable=max(1, len(subjects)))
                build.unprinted[e.line] = subjects
            server_seen = any(
                isinstance(x.message, Certificate) and x.direction is Direction.SERVER for x in build.events
            )
            asked = any(
                isinstance(x.message, CertificateRequest)
                or (isinstance(x.message, SimpleMessage) and x.message.msg_type == 14)
                for x in build.events
            )
            direction = Direction.CLIENT if server_seen or asked else Direction.SERVER
            usages = _jdk8_usages(e.block)
            if usages is not None:
                build.usages[e.line] = usages
            for line in e.block:
                if line.strip().startswith("Found trusted certificate"):
                    # this side's trust manager judged the chain: the peer's
                    role = Role.SERVER if direction is Direction.CLIENT else Role.CLIENT
                    build.set_role(role, e.line, "its trust manager judged the peer's chain")
            build.from_text = build.from_text or bool(cert.chain)
            build.add(direction, None, cert, e.line)
        elif text.startswith("*** CertificateRequest"):
            read = B.jdk8_request(e.block)
            build.request_types_unknown = not any(
                line.strip().startswith(("Cert Types:", "Supported Signature Algorithms:"))
                for line in e.block
            )
            self._request_notes(build, read, e.line)
            build.add(Direction.SERVER, None, read.message, e.line)
        elif text.startswith("*** CertificateVerify"):
            build.add(Direction.CLIENT, None, CertificateVerify(0, 0), e.line)
        elif text.startswith("*** Finished"):
            build.finished_jdk8 += 1
            direction = Direction.CLIENT if build.finished_jdk8 == 1 else Direction.SERVER
            build.add(direction, None, SimpleMessage(20, 0), e.line)
            build.client_finished = build.client_finished or direction is Direction.CLIENT
            build.server_finished = build.server_finished or direction is Direction.SERVER
        elif text.startswith("*** ECDH ServerKeyExchange") or text.startswith("*** Diffie-Hellman"):
            build.add(Direction.SERVER, None, SimpleMessage(12, 0), e.line)
        elif text.startswith("*** ECDHClientKeyExchange") or text.startswith("*** ClientKeyExchange"):
            build.add(Direction.CLIENT, None, SimpleMessage(16, 0), e.line)
        elif text.startswith("Warning: no suitable"):
            build.statements.append(Statement(e.line, Said.NO_SUITABLE_JDK8, text))
            build.set_role(Role.CLIENT, e.line, "a client's words: no suitable certificate found")
        elif text.startswith("matching alias"):
            build.aliases.append(text.split(":", 1)[1].strip() if ":" in text else "")
            build.statements.append(Statement(e.line, Said.MATCHING_ALIAS, text))
            # the key manager chooses this side's key: a server before its ServerHello, a client
            # after the server's ServerHelloDone
            hello_done = any(isinstance(x.message, ServerHello) for x in build.events)
            build.set_role(
                Role.CLIENT if hello_done else Role.SERVER,
                e.line,
                f"its key manager chose a key ({text}) "
                + (
                    "after the ServerHello: a client's"
                    if hello_done
                    else "before its ServerHello: a server's"
                ),
            )
        elif m is not None:
            self._legacy_record(build, e, m.group(2), m.group(3))

    def _legacy_record(self, build: _Build, e: Entry, verb: str, rest: str) -> None:
        if verb in ("RECV", "SEND") and "ALERT:" in rest:
            level = 2 if "fatal" in rest else 1
            named = re.search(r"([a-z][a-z_0-9]+)\W*$", rest.rsplit(",", 1)[-1].replace("description =", ""))
            name = named.group(1) if named else ""
            code = B.ALERT_CODES.get(name)
            if code is not None:
                build.add_relative(verb == "SEND", None, Alert(level, code), e.line)
                if level == 2 and build.fatal is None:
                    reason = f"Received fatal alert: {name}" if verb == "RECV" else e.text
                    build.fatal = FatalLine(e.line, name, reason, verb == "RECV")
                    build.statements.append(Statement(e.line, Said.FATAL, e.text))
        elif verb == "handling exception":
            found = B.exception_line(rest.lstrip(": "))
            if found and not build.exception:
                build.exception, build.exception_line = [found], e.line
            if found and ("No name matching" in found[1] or "No subject alternative" in found[1]):
                build.set_role(Role.CLIENT, e.line, "it checked the server's host name")
            if found and "null cert chain" in found[1]:
                build.set_role(Role.SERVER, e.line, "'null cert chain': a JDK 8 server's words")

    # --- the application's own lines ----------------------------------------------------------

    def _app(self, e: Entry) -> None:
        """An HTTP answer printed after the handshake (nginx's 400 page), or a clue for a paste."""
        text = e.text.strip()
        if len(self.summary.app_lines) < 64:
            self.summary.app_lines.append((e.line, text[:400]))
        build = self.open.get(self.last_thread) if self.last_thread else None
        if build is None:
            return
        # javax.net.debug=ssl prints no messages: an answer after it is after a completed handshake
        silent = not build.has_hello and build.fatal is None
        if not (build.client_finished and build.server_finished) and not silent:
            return
        status = re.search(r"HTTP(?:/[12](?:\.[01])?)? ([1-5]\d\d)\b\s*([^<]*)", text)
        page = re.search(r"(?:400 )?(No required SSL certificate was sent|The SSL certificate error)", text)
        if status and build.http is None:
            build.http = (int(status.group(1)), status.group(2).strip())
            build.statements.append(Statement(e.line, Said.APP_OUTPUT, text[:200]))
        elif page and build.http is not None and "certificate" not in build.http[1].lower():
            build.http = (build.http[0], f"{build.http[1]} ({page.group(0)})")
            build.statements.append(Statement(e.line, Said.APP_OUTPUT, text[:200]))
        elif page and build.http is None:
            build.http = (400, page.group(0).removeprefix("400 "))
            build.statements.append(Statement(e.line, Said.APP_OUTPUT, text[:200]))

    # --- exceptions outside blocks ------------------------------------------------------------

    def _exception(self, e: Entry) -> None:
        found = B.exception_line(e.text)
        if found is None:
            return
        thread = None
        m = re.search(r'Exception in thread "([^"]*)"', e.text)
        if m:
            thread = m.group(1)
        caused = e.text.lstrip().startswith("Caused by:")
        last = self.orphan[-1] if self.orphan else None
        if caused and last is not None and last.line >= e.line - 400:
            if last.caused_only and not _same_failure(last.chain[-1], found):
                # a paste of `Caused by:` lines only: each line may be another side's failure
                self.orphan.append(_Orphan(e.line, [found], None, [e.line], caused_only=True))
            elif found not in last.chain:
                last.chain.append(found)
                last.lines.append(e.line)
            return
        build = None
        if thread is not None:
            build = next((b for key, b in self.open.items() if key.endswith("|" + thread)), None)
        if build is None and self.last_thread is not None:
            build = self.open.get(self.last_thread)
        if build is not None and (build.fatal is not None or build.statements) and not caused:
            if not build.exception:
                build.exception, build.exception_line = [found], e.line
            build.exception_thread = build.exception_thread or thread
            return
        if caused:
            if build is None or not (build.fatal is not None or build.statements):
                self.orphan.append(_Orphan(e.line, [found], None, [e.line], caused_only=True))
            return
        self.orphan.append(_Orphan(e.line, [found], thread, [e.line]))

    # --- closing ------------------------------------------------------------------------------

    def _close(self, build: _Build, at_end: bool) -> LoggedHandshake:
        if self.open.get(build.thread) is build:
            del self.open[build.thread]
        hello = next((e.message for e in build.events if isinstance(e.message, ClientHello)), None)
        server = hello.server_name if isinstance(hello, ClientHello) and hello.server_name else "?"
        name = build.display or (build.thread.split("|", 1)[1] if "|" in build.thread else build.thread)
        t = Transcript(
            index=build.index,
            client=Endpoint(f"thread {name}", 0),
            server=Endpoint(server, 0),
            start_time=build.t0 or 0.0,
            events=build.settled_events(),
            problems=build.problems,
            decrypted=True,
            handshake_done=build.client_finished and build.server_finished,
        )
        if build.started_mid and build.events:
            t.problems.insert(0, Problem("mid-stream", "the log starts after this handshake began"))
        if at_end and not build.ended and build.events:
            t.problems.append(Problem("truncated", "the log ends before this handshake did"))
        logged = LoggedHandshake(
            transcript=t,
            thread=name,
            first_line=build.first_line,
            last_line=max(build.last_line, build.first_line),
            fmt=build.fmt,
            statements=build.statements,
            fatal=build.fatal,
            exception=JavaException(build.exception_line, tuple(build.exception), build.exception_thread)
            if build.exception
            else None,
            matching_aliases=build.aliases,
            key_entries=build.key_entries,
            key_manager=build.key_manager,
            certs_from_text=build.from_text,
            http_status=build.http,
            role=build.role or Role.CLIENT,
            role_evidence=build.role_evidence,
            unprinted_chains=build.unprinted,
            request_types_unknown=build.request_types_unknown,
            chain_usages=build.usages,
            trusted=self._trusted,
        )
        logged.not_shown.extend(build.request_notes)
        if build.unprinted:
            logged.not_shown.append(
                "the certificates of "
                + ", ".join(f"line {n}" for n in build.unprinted)
                + " are named but not printed (JDK 8 without :verbose, or an abridged paste): "
                "what they hold is unknown, not empty"
            )
        if build.fmt == "JDK 8" and len(self._jdk8_names) > 1:
            logged.not_shown.append(
                "which thread each JDK 8 message belongs to: JDK 8 names the thread on record lines only, "
                f"and {len(self._jdk8_names)} threads write to this log; overlapping handshakes may be mixed"
            )
        self.summary.handshakes += 1
        return logged
