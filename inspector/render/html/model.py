"""What the page shows, as plain typed values: the templates only lay these out.

Empty strings mean "not in the document" and are shown as such, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Evidence:
    source: str
    fact: str


@dataclass(frozen=True)
class FindingView:
    code: str
    severity: str  # error | warning | info
    summary: str
    evidence: list[Evidence]
    fix: str
    fix_is_command: bool
    explanation: str
    where: str
    connection: int | None
    alias: str | None
    inference: bool


@dataclass(frozen=True)
class FindingCard:
    """One finding shown in full; a code found in many connections is shown once, with the others
    named, so a capture of thousands of failures still gives a short verdict."""

    finding: FindingView
    also_in: list[int]  # other connections with the same code
    more: int  # and this many beyond those


@dataclass(frozen=True)
class Verdict:
    level: str  # error | warning | ok
    headline: str
    context: str
    errors: list[FindingCard]
    warnings: list[FindingCard]
    infos: list[FindingCard]
    warning_count: int
    info_count: int


@dataclass
class CertView:
    anchor: str
    title: str
    subject: str
    issuer: str
    serial: str = ""
    not_before: str = ""
    not_after: str = ""
    validity: str = ""
    key: str = ""
    eku: str = ""
    key_usage: str = ""
    is_ca: str = ""
    signature_hash: str = ""
    sha256: str = ""
    seen_in: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChainItem:
    """One certificate of a chain, and how it links to the next one (or to a named CA)."""

    position: int
    subject: str
    issuer: str
    cert_anchor: str
    validity: str = ""
    link_state: str = ""  # ok | broken | "" (last, or not checked)
    link_text: str = ""
    ca_anchor: str = ""  # the CA name its issuer matches
    ca_number: int = 0


@dataclass(frozen=True)
class CaName:
    anchor: str
    number: int
    dn: str
    matched_by: list[int]  # chain positions whose issuer it is


@dataclass(frozen=True)
class CaMatch:
    """The server's CA names beside the client's chain."""

    state: str  # match | missing | any | empty | unseen
    message: str
    ca_names: list[CaName]
    chain: list[ChainItem]
    client_label: str


@dataclass(frozen=True)
class SelectionRow:
    manager: str
    answer: str
    ok: bool


@dataclass(frozen=True)
class CandidateView:
    alias: str
    key_type: str
    accepted: bool
    rank: str
    reasons: list[str]


@dataclass(frozen=True)
class SelectionView:
    source: str
    request_text: str  # "CertificateRequest from server at 0.081 s, frame 4" / "... from FILE, connection #1"
    tls13: bool
    ca_names: list[str]
    rows: list[SelectionRow]
    candidates: list[CandidateView]


@dataclass(frozen=True)
class LadderRow:
    y: int
    x1: int
    x2: int
    head: str  # SVG polygon points of the arrowhead
    label: str
    full_label: str
    label_x: int
    time_text: str
    frame_text: str
    encrypted: bool
    lock_x: int
    state: str  # fail | cited | ""
    note: str


@dataclass(frozen=True)
class LadderView:
    width: int
    height: int
    client_x: int
    server_x: int
    lane_top: int
    lane_bottom: int
    client_label: str
    server_label: str
    rows: list[LadderRow]
    skipped: int
    skipped_y: int
    end_text: str
    end_y: int
    end_state: str  # ok | fail | unclear
    title: str


@dataclass(frozen=True)
class ConnectionView:
    index: int
    anchor: str
    client: str
    server: str
    server_name: str
    version: str
    outcome: str
    outcome_class: str  # ok | fail | unclear
    decrypted: bool
    cert_requested: str
    client_cert: str
    start_time: str
    codes: list[str]
    findings: list[FindingView]
    problems: list[str]
    ladder: LadderView | None
    ca_match: CaMatch | None
    selection: SelectionView | None
    detailed: bool
    files: str = ""  # of a capture set: the file it began in (… the one it ended in)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class EntryView:
    alias: str
    type: str
    worst: str  # the most severe finding about this entry: error | warning | info | ""
    facts: list[Fact]
    chain: list[ChainItem]


@dataclass(frozen=True)
class KeystoreView:
    facts: list[Fact]
    notes: list[str]
    entries: list[EntryView]


@dataclass(frozen=True)
class AttemptView:
    facts: list[Fact]
    verify_errors: list[str]
    server_chain: list[str]


@dataclass(frozen=True)
class ProbeView:
    facts: list[Fact]
    steps: list[str]
    attempts: list[AttemptView]


@dataclass(frozen=True)
class CaptureView:
    facts: list[Fact]
    problems: list[str]


@dataclass(frozen=True)
class ServerVerdictView:
    """One server stack's verdict on the client's chain (`server_verdicts`)."""

    stack: str
    verdict: str
    reason: str
    stack_says: str
    tested: bool
    setting: str
    client_fix: str
    alias: str


class ConnectionList(Protocol):
    """The connections the page lists, drawn one by one as the page is written: the table's
    rows first; `detailed` (those drawn in full) and `certificates` are complete only after."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[ConnectionView]: ...

    @property
    def detailed(self) -> list[ConnectionView]: ...

    @property
    def certificates(self) -> list[CertView]: ...


@dataclass(frozen=True)
class Page:
    kind: str
    title: str
    heading: str
    schema: str
    tool_version: str
    redacted: bool
    verdict: Verdict
    capture: CaptureView | None
    keystore: KeystoreView | None
    probe: ProbeView | None
    selection: SelectionView | None
    connections: ConnectionList
    show_table: bool
    outcomes: list[str]
    omitted: int  # connections in the table without a drawn section
    not_listed: int  # connections beyond the table's limit
    total: int  # connections in the document
    drawn: int  # connections drawn in full
    has_certificates: bool
    unlisted_outcomes: list[tuple[str, int]]  # of the connections not listed: the most common
    other: list[Fact]
    server_verdicts: list[ServerVerdictView] = field(default_factory=list)
