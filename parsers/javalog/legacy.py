"""JDK 6/7/8 logs: `*** ClientHello, TLSv1.2` sections and `thread, RECV TLSv1.2 ALERT: ...`
record lines. JDK 8 names the thread on record lines only, after the `***` lines it belongs
with: one JDK 8 handshake is open at a time, and it takes the name of the first thread seen in
it. The side that wrote the log is told from who hashed the ClientHello, where the key manager
chose a key and whose chain the trust manager judged."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from parsers.constants import HandshakeType
from parsers.javalog import blocks as B
from parsers.javalog.building import Build
from parsers.javalog.certtext import parse_jdk8
from parsers.javalog.model import FatalLine, KeyEntryFact, LoggedHandshake, Role, Said, Statement
from parsers.javalog.scan import Entry
from parsers.javalog.state import JDK8_THREAD, LogState
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    Direction,
    ServerHello,
    SimpleMessage,
)

FMT = "JDK 8"
_THREAD = re.compile(
    r"^(?:\[?([^,\[\]]{1,80}?)\]?, |, ?)?(RECV|SEND|WRITE|READ|handling exception|fatal error)(.*)$"
)
_ALERT_NAME = re.compile(r"([a-z][a-z_0-9]+)\W*$")


def _chain_dump(block: list[str]) -> list[str]:
    """The lines of a chain section, up to the next `***` or the trust manager's verdict."""
    return list(itertools.takewhile(lambda x: not x.startswith(("***", "Found trusted")), block))


def _usages(block: list[str]) -> tuple[str, ...] | None:
    """The leaf's `ExtendedKeyUsages [ ... ]` in a JDK 8 chain dump (None: not printed)."""
    lines = _chain_dump(block)
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


def read(state: LogState, e: Entry) -> Iterator[LoggedHandshake]:
    """One JDK 6/7/8 entry; yields the open handshake when a ClientHello starts the next one."""
    text = e.text
    m = _THREAD.match(text)
    thread = JDK8_THREAD
    state.last_thread = thread
    if m and m.group(1):
        state.jdk8_names.add(m.group(1).strip())
    if m and m.group(1) and thread in state.open and state.open[thread].display is None:
        state.open[thread].display = m.group(1).strip()
    if text.startswith("*** ClientHello"):
        yield from _client_hello(state, e)
        return
    if text.startswith("found key for"):
        chain = parse_jdk8(e.block, e.line + 1)
        alias = text.split(":", 1)[1].strip() if ":" in text else "?"
        state.keys.add(thread, KeyEntryFact(e.line, alias, len(chain), tuple(f.issuer for f in chain)))
        return
    if thread not in state.open and not text.startswith(("*** ", "Warning: no suitable")) and m is None:
        return  # "%% No cached client session" and the like, before any handshake
    if m is not None and m.group(2) in ("READ", "WRITE") and "ALERT" not in m.group(3):
        return  # record lines: what they say is in the `***` lines
    build = state.current(thread, e.line, FMT, None, text.startswith("*** "))
    build.last_line = max(build.last_line, e.line + len(e.block))
    if text.startswith("*** ") and _section(build, e):
        return
    if text.startswith("Warning: no suitable"):
        build.statements.append(Statement(e.line, Said.NO_SUITABLE_JDK8, text))
        build.set_role(Role.CLIENT, e.line, "a client's words: no suitable certificate found")
    elif text.startswith("matching alias"):
        _matching_alias(build, e)
    elif m is not None:
        _record(build, e, m.group(2), m.group(3))


def _client_hello(state: LogState, e: Entry) -> Iterator[LoggedHandshake]:
    old = state.open.get(JDK8_THREAD)
    if old is not None:
        yield state.close(old, at_end=False)
    build = state.new(JDK8_THREAD, e.line, FMT, None)
    version = e.text.split(",", 1)[1] if "," in e.text else ""
    build.add(Direction.CLIENT, None, B.jdk8_client_hello(e.block, version), e.line)
    build.last_line = e.line + len(e.block)
    for n, line in enumerate(e.block):  # JDK 8 `data` debug: who hashed the ClientHello
        if line.startswith("[write] MD5 and SHA1 hashes"):
            build.set_role(Role.CLIENT, e.line + 1 + n, "it wrote the ClientHello ([write] ... hashes)")
        elif line.startswith("[read] MD5 and SHA1 hashes"):
            build.set_role(Role.SERVER, e.line + 1 + n, "it read the ClientHello ([read] ... hashes)")
        else:
            continue
        break


def _section(build: Build, e: Entry) -> bool:
    """A `*** Message` section (the ClientHello aside); False: not one read here."""
    text = e.text
    if text.startswith("*** ServerHelloDone"):
        build.add(Direction.SERVER, None, SimpleMessage(14, 0), e.line)
    elif text.startswith("*** ServerHello"):
        chosen = B.VERSIONS.get(text.split(",", 1)[1].strip(), 0x0303) if "," in text else 0x0303
        build.add(Direction.SERVER, None, ServerHello(b"", chosen, 0), e.line)
    elif text.startswith("*** Certificate chain"):
        _certificate_chain(build, e)
    elif text.startswith("*** CertificateRequest"):
        read = B.jdk8_request(e.block)
        build.request_types_unknown = not any(
            line.strip().startswith(("Cert Types:", "Supported Signature Algorithms:")) for line in e.block
        )
        build.note_request(read, e.line)
        build.add(Direction.SERVER, None, read.message, e.line)
    elif text.startswith("*** CertificateVerify"):
        build.add(Direction.CLIENT, None, CertificateVerify(0, 0), e.line)
    elif text.startswith("*** Finished"):
        build.finished_jdk8 += 1
        direction = Direction.CLIENT if build.finished_jdk8 == 1 else Direction.SERVER
        build.add(direction, None, SimpleMessage(20, 0), e.line)
        build.finished(direction)
    elif text.startswith("*** ECDH ServerKeyExchange") or text.startswith("*** Diffie-Hellman"):
        build.add(Direction.SERVER, None, SimpleMessage(12, 0), e.line)
    elif text.startswith("*** ECDHClientKeyExchange") or text.startswith("*** ClientKeyExchange"):
        build.add(Direction.CLIENT, None, SimpleMessage(16, 0), e.line)
    else:
        return False
    return True


def _certificate_chain(build: Build, e: Entry) -> None:
    """`*** Certificate chain`: whose it is follows from what the server has sent before it."""
    cert, _ = B.certificates_jdk8(e.block, e.line + 1)
    if any(line.strip() == "<Empty>" for line in e.block[:3]):
        cert = Certificate(chain=())
    elif not cert.chain:  # named but not printed (no verbose, or an abridged paste): unknown
        subjects = tuple(
            line.strip()[8:].strip() for line in _chain_dump(e.block) if line.strip().startswith("Subject:")
        )
        cert = Certificate(chain=(), undecodable=max(1, len(subjects)))
        build.unprinted[e.line] = subjects
    server_seen = any(
        isinstance(x.message, Certificate) and x.direction is Direction.SERVER for x in build.events
    )
    asked = any(
        isinstance(x.message, CertificateRequest)
        or (isinstance(x.message, SimpleMessage) and x.message.msg_type == HandshakeType.server_hello_done)
        for x in build.events
    )
    direction = Direction.CLIENT if server_seen or asked else Direction.SERVER
    usages = _usages(e.block)
    if usages is not None:
        build.usages[e.line] = usages
    for line in e.block:
        if line.strip().startswith("Found trusted certificate"):
            # this side's trust manager judged the chain: the peer's
            role = Role.SERVER if direction is Direction.CLIENT else Role.CLIENT
            build.set_role(role, e.line, "its trust manager judged the peer's chain")
    build.from_text = build.from_text or bool(cert.chain)
    build.add(direction, None, cert, e.line)


def _matching_alias(build: Build, e: Entry) -> None:
    """The key manager chooses this side's key: a server before its ServerHello, a client after
    the server's ServerHelloDone."""
    text = e.text
    build.aliases.append(text.split(":", 1)[1].strip() if ":" in text else "")
    build.statements.append(Statement(e.line, Said.MATCHING_ALIAS, text))
    hello_done = any(isinstance(x.message, ServerHello) for x in build.events)
    build.set_role(
        Role.CLIENT if hello_done else Role.SERVER,
        e.line,
        f"its key manager chose a key ({text}) "
        + ("after the ServerHello: a client's" if hello_done else "before its ServerHello: a server's"),
    )


def _record(build: Build, e: Entry, verb: str, rest: str) -> None:
    """A record line: an alert sent or received, or the exception the thread handled."""
    if verb in ("RECV", "SEND") and "ALERT:" in rest:
        level = 2 if "fatal" in rest else 1
        said = rest.rsplit(",", 1)[-1].replace("description =", "")
        named = _ALERT_NAME.search(said)
        name = named.group(1) if named else ""
        code = B.ALERT_CODES.get(name)
        unknown = B.UNKNOWN_ALERT.search(said)
        if code is None and unknown is not None and int(unknown.group(1)) < 256:
            # `<UNKNOWN ALERT: 200>`: a code the JDK could not name, kept (not close_notify)
            code, name = int(unknown.group(1)), f"alert {unknown.group(1)} (unknown)"
            reason = f"Received fatal alert: {unknown.group(0).strip()}"
        else:
            reason = f"Received fatal alert: {name}"
        if code is not None:
            build.add_relative(verb == "SEND", None, Alert(level, code), e.line)
            if level == 2 and build.fatal is None:
                build.fatal = FatalLine(e.line, name, reason if verb == "RECV" else e.text, verb == "RECV")
                build.statements.append(Statement(e.line, Said.FATAL, e.text))
    elif verb == "handling exception":
        found = B.exception_line(rest.lstrip(": "))
        if found:
            build.note_exception([found], e.line)
        if found and ("No name matching" in found.message or "No subject alternative" in found.message):
            build.set_role(Role.CLIENT, e.line, "it checked the server's host name")
        if found and "null cert chain" in found.message:
            build.set_role(Role.SERVER, e.line, "'null cert chain': a JDK 8 server's words")
