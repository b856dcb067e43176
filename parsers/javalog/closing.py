"""A handshake whose thread moved on (or whose log ended) turned into the LoggedHandshake the
rules read: its transcript, what Java said, and what the log could not show."""

from __future__ import annotations

from parsers.javalog.building import Build
from parsers.javalog.model import JavaException, LoggedHandshake, Role, TrustedAnchors
from parsers.model import ClientHello, Endpoint, Problem, Transcript


def _transcript(build: Build, at_end: bool) -> Transcript:
    hello = next((e.message for e in build.events if isinstance(e.message, ClientHello)), None)
    server = hello.server_name if isinstance(hello, ClientHello) and hello.server_name else "?"
    t = Transcript(
        index=build.index,
        client=Endpoint(f"thread {_thread_name(build)}", 0),
        server=Endpoint(server, 0),
        start_time=build.t0 or 0.0,
        events=build.settled_events(),
        problems=build.problems,
        decrypted=True,
        handshake_done=build.done,
    )
    if build.started_mid and build.events:
        t.problems.insert(0, Problem("mid-stream", "the log starts after this handshake began"))
    if at_end and not build.ended and build.events:
        t.problems.append(Problem("truncated", "the log ends before this handshake did"))
    return t


def _thread_name(build: Build) -> str:
    return build.display or (build.thread.split("|", 1)[1] if "|" in build.thread else build.thread)


def _not_shown(build: Build, jdk8_threads: int) -> list[str]:
    """What this handshake's lines cannot show: said to the user, not guessed."""
    out = list(build.request_notes)
    if build.unprinted:
        out.append(
            "the certificates of "
            + ", ".join(f"line {n}" for n in build.unprinted)
            + " are named but not printed (JDK 8 without :verbose, or an abridged paste): "
            "what they hold is unknown, not empty"
        )
    if build.fmt == "JDK 8" and jdk8_threads > 1:
        out.append(
            "which thread each JDK 8 message belongs to: JDK 8 names the thread on record lines only, "
            f"and {jdk8_threads} threads write to this log; overlapping handshakes may be mixed"
        )
    return out


def logged_handshake(
    build: Build, at_end: bool, trusted: TrustedAnchors | None, jdk8_threads: int
) -> LoggedHandshake:
    """`jdk8_threads`: how many thread names JDK 8 record lines showed in the whole log so far."""
    exception = (
        JavaException(build.exception_line, tuple(build.exception), build.exception_thread)
        if build.exception
        else None
    )
    logged = LoggedHandshake(
        transcript=_transcript(build, at_end),
        thread=_thread_name(build),
        first_line=build.first_line,
        last_line=max(build.last_line, build.first_line),
        fmt=build.fmt,
        statements=build.statements,
        fatal=build.fatal,
        exception=exception,
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
        trusted=trusted,
    )
    logged.not_shown.extend(_not_shown(build, jdk8_threads))
    return logged
