"""What a Java client's debug log says, beyond the transcript every evidence source shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from parsers.model import Transcript


class Role(str, Enum):
    """Which side of the handshake wrote the log (told from the messages it printed, not guessed)."""

    CLIENT = "client"
    SERVER = "server"


class Said(str, Enum):
    """Sentences the JDK writes that decide a diagnosis (their words: docs/reference.md, the log section)."""

    NO_CERT_SELECTED = "No X.509 cert selected"
    NO_AUTH_SCHEME = "No available authentication scheme"
    NO_CLIENT_AUTH_SCHEME = "No available client authentication scheme"
    EMPTY_CERT_INSTEAD = "No X.509 certificate for client authentication"
    UNAVAILABLE_SCHEME = "Unavailable authentication scheme"
    NO_SUITABLE_JDK8 = "no suitable certificate found"
    MATCHING_ALIAS = "matching alias"
    KEY_MANAGER = "X509KeyManager class"
    INVALID_CA_EXTENSION = "Invalid certificate_authorities extension"
    FATAL = "Fatal"
    DECRYPTED = "Plaintext after DECRYPTION"
    KEY_REJECTED = "Ignore alias"
    APP_OUTPUT = "printed by the application"


class Thrown(NamedTuple):
    """One element of an exception chain as printed: its class and its message."""

    cls: str
    message: str


class RoleEvidence(NamedTuple):
    """The log line that shows which side wrote the log, and what it shows."""

    line: int
    why: str


class HttpAnswer(NamedTuple):
    """An HTTP answer the application printed (or the decrypted data shows): status and reason."""

    status: int
    reason: str


class TrustedAnchors(NamedTuple):
    """The trust manager's anchors as logged at start-up: the line and the subjects."""

    line: int
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    line: int
    said: Said
    text: str


@dataclass(frozen=True)
class JavaException:
    """An exception and its causes, as printed (the outermost first)."""

    line: int
    chain: tuple[tuple[str, str], ...]  # (class, message): a Thrown when read from a log
    thread: str | None = None
    #: The line of each element of `chain` (empty when only the first line is known).
    lines: tuple[int, ...] = ()

    def line_of(self, position: int) -> int:
        return self.lines[position] if position < len(self.lines) else self.line

    @property
    def text(self) -> str:
        return " / caused by ".join(f"{c}: {m}" for c, m in self.chain)


@dataclass(frozen=True)
class FatalLine:
    """`Fatal (ALERT): reason`: ALERT is what the client sends, unless the reason is a received alert."""

    line: int
    alert: str
    reason: str
    received: bool


@dataclass(frozen=True)
class KeyEntryFact:
    """`found key for : ALIAS` at key-manager start-up, and how many certificates its chain holds."""

    line: int
    alias: str
    chain_length: int
    issuers: tuple[str, ...]


@dataclass
class LoggedHandshake:
    transcript: Transcript
    thread: str
    first_line: int
    last_line: int
    fmt: str  # "JDK 11+" or "JDK 8"
    statements: list[Statement] = field(default_factory=list)
    fatal: FatalLine | None = None
    exception: JavaException | None = None
    matching_aliases: list[str] = field(default_factory=list)
    #: The key manager's entries (`found key for`) logged on this thread before the handshake.
    key_entries: list[KeyEntryFact] = field(default_factory=list)
    key_manager: str | None = None
    certs_from_text: bool = False
    #: Things this handshake's log lines cannot show (said to the user, not guessed).
    not_shown: list[str] = field(default_factory=list)
    #: The first line of decrypted application data the server sent (only `all` logs show it).
    http_status: HttpAnswer | None = None
    #: The side that wrote this handshake's lines, and the line that shows it.
    role: Role = Role.CLIENT
    role_evidence: RoleEvidence | None = None
    #: Certificate messages the log names without printing their certificates (JDK 8 without
    #: `verbose`, an abridged paste): log line → the subjects it shows. Unknown, not empty.
    unprinted_chains: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: The CertificateRequest's key types / signature schemes were not printed (unknown, not none).
    request_types_unknown: bool = False
    #: The trust manager's anchors as logged at start-up (`adding as trusted certificates`):
    #: (line, subjects); None when the log does not show them.
    trusted: TrustedAnchors | None = None
    #: JDK 8 `ExtendedKeyUsages [...]` printed with a certificate chain: log line → the usages.
    chain_usages: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def said(self, what: Said) -> list[Statement]:
        return [s for s in self.statements if s.said is what]


@dataclass
class LogSummary:
    """The log as a whole: what it holds and what it cannot show."""

    fmt: str = "none"  # "JDK 11+", "JDK 8", "JDK 11+ and JDK 8" or "none"
    bytes: int = 0
    lines: int = 0
    handshakes: int = 0
    debug_lines: int = 0  # javax.net.ssl lines in the first chunk holding any: presence, not a total
    hex_dumps: int = 0
    record_lines: int = 0
    key_entries: list[KeyEntryFact] = field(default_factory=list)
    key_manager: str | None = None
    #: Exceptions seen outside any handshake (a pasted stack trace, an application's log).
    exceptions: list[JavaException] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    binary: bool = False
    zones: set[str] = field(default_factory=set)
    unknown_zones: set[str] = field(default_factory=set)
    #: The application's own lines about TLS (first few): (line, text). Clues for a paste
    #: without debug output: enabled protocols, the server's certificate seen, a completed handshake.
    app_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def debug_option(self) -> str:
        """The javax.net.debug value the content suggests (an inference, said as one)."""
        if self.fmt == "none":
            return "none"
        if self.hex_dumps:
            return "all"
        if self.handshakes and self.record_lines:
            return "ssl:handshake:verbose (JDK 25) or ssl:record"
        return "ssl:handshake or ssl:handshake:verbose"
