"""Any TLS client's error text, pasted or in a file: curl, openssl, Python, Go, Node, .NET,
Postman, the integration platform's own words, a server's HTTP 400 page.

`read_error_text(text)` finds what the text says (typed `Sighting`s: which client, who said it,
the alert or verify reason), the server it names (`Target`) and what it shows of the handshake
(`Clues`). Pure and bounded: no diagnosis here (inspector/rules/errortext_rules.py), no I/O
but `KeptHead`, which keeps the first bytes a reader consumed so they can be read again.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Protocol

from parsers.errortext import curl, dotnet, go, http_pages, node, openssl, platform, python
from parsers.errortext.model import Clues, ErrorTextReading, Family, Kind, Sighting, Speaker, Target
from parsers.errortext.signs import Sign, alert_of, verify_kind
from parsers.printable import escape_text

__all__ = [
    "Clues",
    "ErrorTextReading",
    "Family",
    "KeptHead",
    "Kind",
    "Sighting",
    "Speaker",
    "Target",
    "decode",
    "no_java_exception",
    "read_error_text",
]

MAX_BYTES = 4 << 20  # an error paste is small: the first 4 MiB are read
MAX_LINE = 4096  # characters of a line matched (an HTML page on one line, a base64 blob)
MAX_SIGHTINGS = 200
EXCERPT = 300

#: in the order they are tried; the first sign that matches a span of a line wins it
SIGNS: tuple[Sign, ...] = (
    *curl.SIGNS,
    *go.SIGNS,
    *python.SIGNS,
    *dotnet.SIGNS,
    *node.SIGNS,
    *http_pages.SIGNS,
    *openssl.SIGNS,
    *platform.SIGNS,
    *curl.FALLBACKS,
)

#: the words that tell which client printed OpenSSL's error strings (most specific first)
MARKERS: tuple[tuple[Family, re.Pattern[str]], ...] = (
    (Family.POSTMAN, re.compile(r"Postman|Could not get response|SSL Error:")),
    (Family.NODE, re.compile(r"ERR_SSL_|ERR_TLS_|ERR_OSSL_|node:_tls_wrap|node:internal|EPROTO|code: '")),
    (Family.CURL, re.compile(r"\bcurl: \(\d+\)|^\* (?:TLSv|SSL connection|Connected to|\s*Trying)", re.M)),
    (
        Family.PYTHON,
        re.compile(r"_ssl\.c:\d+|SSLError\(|HTTPSConnectionPool|urllib3|ssl\.SSL\w*Error|Traceback \("),
    ),
    (Family.DOTNET, re.compile(r"System\.Net|System\.Security|AuthenticationException|SslStream|SSPI")),
    (Family.GO, re.compile(r"remote error: tls:|x509: |tls: failed to verify|Get \"https?://")),
)

#: every sign holds one of these words (lower case): a line without any is not searched further,
#: so a 4 MiB application log costs a few substring tests per line
TRIGGER_WORDS = (
    "alert", "ssl", "tls", "x509", "cert", "curl: (", "http/", "verif", "mismatch", "pem",
    "decrypt", "start line", "start_line", "eof", "reset", "version number", "version_number",
    "packet length", "http request", "errno", "depth lookup", ".crt: ok", ".der: ok", "hostname",
    "altname", "remote error", "local error", "unable to", "unable_to", "self signed", "self-signed",
    "self_signed", "hang up", "socket", "ossl", "trust", "credential", "closed", "authenticat", "sspi",
    "unexpected", "secure channel", "common algorithm", "400", "plain http",
)  # fmt: skip


def hot(line: str) -> bool:
    low = line.lower()
    return any(word in low for word in TRIGGER_WORDS)


#: alerts that end a connection normally (curl -v prints close_notify after every good exchange)
_NOT_FAILURES = frozenset({"close_notify", "user_canceled", "no_renegotiation"})

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_DOC_HOSTS = re.compile(
    r"(?:^|\.)(?:curl\.se|haxx\.se|microsoft\.com|nodejs\.org|python\.org|nginx\.org|openssl\.org"
    r"|github\.com|w3\.org|urllib3\.readthedocs\.io|readthedocs\.io|go\.dev|golang\.org|postman\.com)$",
    re.I,
)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class KeptHead:
    """A byte stream passed through unchanged, its first `limit` bytes kept: a reader that
    consumed stdin has not lost the text another reader may need."""

    def __init__(self, raw: Readable, limit: int = MAX_BYTES) -> None:
        self.raw, self.limit = raw, limit
        self.kept = bytearray()

    def read(self, size: int = -1, /) -> bytes:
        data = self.raw.read(size)
        room = self.limit - len(self.kept)
        if room > 0 and data:
            self.kept += data[:room]
        return data

    def text(self) -> str:
        return decode(bytes(self.kept))


#: a line of a Java exception (its class, a cause, a frame): the Java log reader's, not ours
_JAVA_EXCEPTION = re.compile(
    r"\b(?:javax?|sun|jdk|com\.sun|org\.apache|io\.netty)\.[\w.$]*(?:Exception|Error)\b"
    r"|^\s*Caused by: [a-z][\w$]*\.[\w.$]+|^\s*at [a-z][\w$]*\.[\w.$]+\("
)
_NOT_JAVA = re.compile(r"^(?:System|Microsoft|Interop)[.+]|\+")


def no_java_exception(class_names: Iterable[str]) -> bool:
    """True when none of these exception classes is Java's: .NET's (System.*, Interop+OpenSsl+...)
    look like Java's `package.Class: message` lines but are this reader's to explain."""
    return all(_NOT_JAVA.search(name) for name in class_names)


def decode(data: bytes) -> str:
    """UTF-8, or UTF-16 (PowerShell's `>` writes UTF-16LE with a BOM); colour codes and HTML
    escapes (a page's `&lt;`) undone. Undecodable bytes become U+FFFD."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    elif len(data) >= 4 and data[1::2].count(0) > len(data) // 4 and data[0::2].count(0) == 0:
        text = data.decode("utf-16-le", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    text = _ANSI.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE] for line in text.splitlines()]


def _family_of(line: str, whole: Family | None) -> Family:
    for family, pattern in MARKERS:
        if pattern.search(line):
            return family
    return whole or Family.OPENSSL


def _sightings_in(
    line: str, number: int, whole: Family | None, cross: int | None = None, prefix: str = ""
) -> list[Sighting]:
    """Every sign found in one line; `cross`: keep only matches spanning that offset (a wrapped
    line joined to the next)."""
    taken: list[tuple[int, int]] = []
    out = []
    for s in SIGNS:
        for m in s.pattern.finditer(line):
            if not s.alongside and any(m.start() < end and start < m.end() for start, end in taken):
                continue
            if cross is not None and not (m.start() < cross < m.end()):
                continue
            taken.append((m.start(), m.end()))
            found = _sighting(s, m, line, number, whole, prefix)
            if found.alert not in _NOT_FAILURES:
                out.append(found)
    return out


def _sighting(
    s: Sign, m: re.Match[str], line: str, number: int, whole: Family | None, prefix: str = ""
) -> Sighting:
    shown = line[len(prefix) :] if prefix and line.startswith(prefix) else line
    detail = m.groupdict().get("detail")
    kind = verify_kind(detail) if s.by_detail and detail else s.kind
    alert = alert_of(m)
    if s.name == "curl (60) without a reason":
        alert = "certificate_expired"
    family = s.family or _family_of(line, whole)
    if family is Family.NODE and whole is Family.POSTMAN:
        family = Family.POSTMAN
    return Sighting(
        line=number,
        family=family,
        kind=kind,
        speaker=s.speaker,
        text=escape_text(shown.strip())[:EXCERPT],
        alert=alert,
        detail=escape_text(detail.strip())[:EXCERPT] if detail else None,
        sign=s.name,
    )


def _common_prefix(lines: list[str]) -> str:
    body = [x for x in lines if x.strip()]
    if len(body) < 2:
        return ""
    first, last = min(body), max(body)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    if prefix.strip(" |>:-\t") == "":
        return prefix
    return prefix if len(prefix) >= 4 and len(body) >= 3 else ""


def _whole_family(text: str) -> Family | None:
    for family, pattern in MARKERS:
        if pattern.search(text):
            return family
    return None


def read_error_text(text: str) -> ErrorTextReading:
    """What the text says. Lines are numbered from 1 as the input has them (CRLF, CR or LF)."""
    lines = _lines(text)
    prefix = _common_prefix(lines)
    whole = _whole_family("\n".join(line for line in lines if hot(line)))
    found: list[Sighting] = []
    for i, line in enumerate(lines, 1):
        if not hot(line) or _JAVA_EXCEPTION.search(line):  # Java's exceptions: parsers/javalog's
            continue
        found += _sightings_in(line, i, whole, prefix=prefix)
        if len(found) >= MAX_SIGHTINGS:
            break
    # a message wrapped onto the next line (a console's width, a mail client): join each pair
    for i in range(len(lines) - 1):
        if len(found) >= MAX_SIGHTINGS:
            break
        head, tail = lines[i].rstrip("\r"), lines[i + 1]
        tail = tail[len(prefix) :] if prefix and tail.startswith(prefix) else tail
        tail = tail.lstrip()
        if not head.strip() or not tail or _JAVA_EXCEPTION.search(head) or _JAVA_EXCEPTION.search(tail):
            continue
        for glue in ("", " "):
            joined = head + glue + tail
            if not hot(joined[max(0, len(head) - 40) : len(head) + 40]):
                continue
            more = _sightings_in(joined, i + 1, whole, cross=len(head), prefix=prefix)
            if more:
                found += more
                break
    found = _tidy(found)
    return ErrorTextReading(len(lines), tuple(found), _targets(lines), _clues(lines))


def _tidy(found: list[Sighting]) -> list[Sighting]:
    """One sighting per line and meaning; a verify failure or a specific reason on a line makes its
    generic companions (the same line's "handshake failed") redundant."""
    out: dict[tuple[int, Kind, str | None], Sighting] = {}
    for s in sorted(found, key=lambda s: s.line):
        out.setdefault((s.line, s.kind, s.alert), s)
    by_line: dict[int, set[Kind]] = {}
    for line, kind, _ in out:
        by_line.setdefault(line, set()).add(kind)
    kept = []
    for (line, kind, _), s in out.items():
        kinds = by_line[line]
        if kind is Kind.HANDSHAKE_FAILED and len(kinds) > 1:
            continue
        if kind is Kind.SERVER_CERT_UNTRUSTED and kinds & {
            Kind.VERIFY_FAILED,
            Kind.SERVER_CERT_EXPIRED,
            Kind.SERVER_CERT_SELF_SIGNED,
        }:
            continue
        if kind is Kind.CLOSED_WITHOUT_ALERT and Kind.ALERT_RECEIVED in kinds:
            continue
        if kind is Kind.ALERT_RECEIVED and s.alert is None:
            continue
        kept.append(s)
    return kept


_TARGETS = (
    ('curl\'s "Connected to"', re.compile(r"Connected to (?P<host>[^\s()]+) \([^)]*\) port (?P<port>\d+)")),
    ("s_client -connect", re.compile(r"-connect[ =](?P<host>\[[^\]]+\]|[^\s:]+):(?P<port>\d+)")),
    ("Python's host= and port=", re.compile(r"host='(?P<host>[^']+)', port=(?P<port>\d+)")),
    ("a URL", re.compile(r"\bhttps://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>\d+))?")),
    ('curl\'s "Trying"', re.compile(r"\bTrying (?P<host>[\d.]+|\[[0-9a-f:]+\]):(?P<port>\d+)")),
    ("Node's host", re.compile(r"\bhost: '(?P<host>[A-Za-z0-9._-]+)'")),
)


_TARGET_KEYS = ("Connected to", "-connect", "host='", "https://", "Trying ", "host: '")


def _targets(lines: list[str]) -> tuple[Target, ...]:
    """The servers the text names, the most telling first (curl's connection line, then URLs)."""
    out: list[Target] = []
    for (how, pattern), key in zip(_TARGETS, _TARGET_KEYS, strict=True):
        for i, line in enumerate(lines, 1):
            if "More details here" in line:
                continue
            if key not in line:
                continue
            for m in pattern.finditer(line):
                host = m.group("host").strip("[]")
                if _DOC_HOSTS.search(host) or not re.fullmatch(r"[A-Za-z0-9._:-]{1,253}", host):
                    continue
                port = int(m.group("port")) if m.groupdict().get("port") else None
                if port is not None and not 0 < port < 65536:
                    continue
                t = Target(host, port, i, how)
                if all((t.host, t.port) != (o.host, o.port) for o in out):
                    out.append(t)
    return tuple(out[:8])


_REQUEST = re.compile(r"\(IN\), TLS handshake, Request CERT|Acceptable client certificate CA names")
_VERIFY_OUT = re.compile(r"\(OUT\), TLS handshake, CERT verify")
_CERT_OUT = re.compile(r"\(OUT\), TLS handshake, Certificate \(11\)")
_VERSION = re.compile(
    r"SSL connection using (TLSv1(?:\.[0-3])?)|New, (TLSv1(?:\.[0-3])?), Cipher"
    r"|Protocol\s*: (TLSv1(?:\.[0-3])?)"
)
_CURL_RECORD = re.compile(r"^\* (TLSv1(?:\.[0-3])?) \((?:IN|OUT)\), TLS (?:handshake|alert)")
#: the client certificate on a pasted command line (curl --cert/-E, s_client -cert, requests' cert=)
_CERT_OPTION = re.compile(
    r"\b(?:curl|s_client)\b.*?\s(?:--cert|-E|-cert)[ =](?P<file>[^\s'\"]+)"
    r"|\bcert=\(?\s*['\"](?P<py>[^'\"]+)['\"]"
)


def _clues(lines: list[str]) -> Clues:
    requested = verify_out = cert_out = no_names = None
    version = cert_file = last_record = None
    names: list[str] = []
    in_names = False
    for i, line in enumerate(lines, 1):
        if not in_names and not hot(line):
            continue
        if in_names:
            if not line.strip() or line.startswith(
                ("Requested Signature", "Client Certificate Types", "---")
            ):
                in_names = False
            elif len(names) < 20:
                names.append(escape_text(line.strip())[:200])
        if requested is None and _REQUEST.search(line):
            requested = i
            in_names = "Acceptable client certificate CA names" in line
        if verify_out is None and _VERIFY_OUT.search(line):
            verify_out = i
        if cert_out is None and _CERT_OUT.search(line):
            cert_out = i
        if no_names is None and "No client certificate CA names sent" in line:
            no_names = i
        m = _VERSION.search(line)
        if m and version is None:
            version = next(g for g in m.groups() if g)
        m = _CURL_RECORD.search(line)
        if m:  # curl -v labels records with the client's highest version until the server chose
            last_record = m.group(1)
        m = _CERT_OPTION.search(line)
        if m and cert_file is None:
            cert_file = escape_text((m.group("file") or m.group("py")).split(":")[0])
    return Clues(
        cert_requested=requested,
        client_cert_verify_sent=verify_out,
        client_cert_message=cert_out,
        ca_names=tuple(names),
        no_ca_names=no_names,
        tls_version=version or last_record,
        cert_file=cert_file,
        client_cert_configured=True if cert_file else None,
    )
