"""One handshake while its log lines are still being read (every JDK family fills the same one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.javalog.blocks import RequestRead
from parsers.javalog.model import (
    FatalLine,
    HttpAnswer,
    KeyEntryFact,
    Role,
    RoleEvidence,
    Said,
    Statement,
    Thrown,
)
from parsers.model import ClientHello, Direction, HandshakeEvent, Message, Problem, ServerHello


@dataclass(frozen=True)
class RelativeEvent:
    """An event whose direction is relative to the log's side, settled once the role is known:
    a server's log prints what it sent as `Produced`, which the client-side default draws as
    the client's."""

    index: int
    local: bool  # sent by the side that wrote the log


@dataclass
class Build:
    """What the log has shown of one handshake so far, keyed by its thread."""

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
    exception: list[Thrown] = field(default_factory=list)
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
    http: HttpAnswer | None = None
    started_mid: bool = False
    request_notes: list[str] = field(default_factory=list)
    display: str | None = None  # the thread's name when the key does not carry it (JDK 8)
    role: Role | None = None
    role_evidence: RoleEvidence | None = None
    relative: list[RelativeEvent] = field(default_factory=list)
    unprinted: dict[int, tuple[str, ...]] = field(default_factory=dict)
    usages: dict[int, tuple[str, ...]] = field(default_factory=dict)
    request_types_unknown: bool = False
    key_choice_line: int = 0  # JDK 8: a key-manager line (matching alias) inside the handshake

    def add_relative(self, local: bool, when: float | None, message: Message, line: int) -> None:
        """A message this side sent (local) or received; its direction is settled with the role."""
        self.relative.append(RelativeEvent(len(self.events), local))
        self.add(Direction.CLIENT if local else Direction.SERVER, when, message, line)

    def set_role(self, role: Role, line: int, why: str) -> None:
        if self.role is None:
            self.role, self.role_evidence = role, RoleEvidence(line, why)

    def settled_events(self) -> list[HandshakeEvent]:
        if self.role is not Role.SERVER:
            return self.events
        events = list(self.events)
        for rel in self.relative:
            e = events[rel.index]
            flipped = Direction.SERVER if e.direction is Direction.CLIENT else Direction.CLIENT
            events[rel.index] = HandshakeEvent(flipped, e.time, e.message, e.frame, e.encrypted)
        return events

    def add(self, direction: Direction, when: float | None, message: Message, line: int) -> None:
        base = self.t0 if self.t0 is not None else when
        self.t0 = base
        offset = (when - base) if when is not None and base is not None else 0.0
        self.events.append(HandshakeEvent(direction, round(offset, 3), message, frame=line))

    def note_exception(self, chain: list[Thrown], line: int) -> None:
        """The handshake's exception: the first one printed wins."""
        if chain and not self.exception:
            self.exception, self.exception_line = chain, line

    def note_request(self, read: RequestRead, line: int) -> None:
        """What reading a CertificateRequest took: a guessed split of CA names, names not read."""
        if read.guessed:
            self.request_notes.append(
                f"line {line}: the TLS 1.2 CA names are printed joined by ', ' like the parts of one "
                "name; they were split where the attribute order starts again (a CN= after C=)"
            )
        if read.invalid:
            self.statements.append(
                Statement(line, Said.INVALID_CA_EXTENSION, "Invalid certificate_authorities extension")
            )
        for text in read.unparsed:
            self.request_notes.append(f"line {line}: a CA name could not be read: {text[:80]!r}")

    def finished(self, direction: Direction) -> None:
        if direction is Direction.CLIENT:
            self.client_finished = True
        else:
            self.server_finished = True

    @property
    def has_hello(self) -> bool:
        return any(isinstance(e.message, ClientHello) for e in self.events)

    @property
    def done(self) -> bool:
        """Both Finished messages seen: the handshake completed."""
        return self.client_finished and self.server_finished

    @property
    def ended(self) -> bool:
        return self.fatal is not None or self.done

    def waiting_after_retry(self) -> bool:
        last = self.events[-1].message if self.events else None
        return isinstance(last, ServerHello) and last.hello_retry_request
