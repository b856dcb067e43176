"""Lines outside the debug blocks: exceptions as an application prints them (whole stack
traces, or pastes of only their `Caused by:` lines) and the application's own lines (an HTTP
answer after the handshake, the clues of a paste without debug output)."""

from __future__ import annotations

import re

from parsers.javalog import blocks as B
from parsers.javalog.building import Build
from parsers.javalog.model import HttpAnswer, Said, Statement, Thrown
from parsers.javalog.scan import Entry
from parsers.javalog.state import LogState, Orphan

_THREAD = re.compile(r'Exception in thread "([^"]*)"')
_STATUS = re.compile(r"HTTP(?:/[12](?:\.[01])?)? ([1-5]\d\d)\b\s*([^<]*)")
_PAGE = re.compile(r"(?:400 )?(No required SSL certificate was sent|The SSL certificate error)")
#: A `Caused by:` line this many lines after an exception still belongs to its trace.
_TRACE_REACH = 400


def same_failure(a: Thrown, b: Thrown) -> bool:
    """Two causes of one trace: Java puts the cause's text into the wrapping exception's message."""
    x, y = f"{a.cls}: {a.message}", f"{b.cls}: {b.message}"
    return bool(a.message and b.message) and (b.message in x or a.message in y)


def app_line(state: LogState, e: Entry) -> None:
    """An HTTP answer printed after the handshake (nginx's 400 page), or a clue for a paste."""
    text = e.text.strip()
    summary = state.summary
    if len(summary.app_lines) < 64:
        summary.app_lines.append((e.line, text[:400]))
    build = state.open.get(state.last_thread) if state.last_thread else None
    if build is None:
        return
    # javax.net.debug=ssl prints no messages: an answer after it is after a completed handshake
    silent = not build.has_hello and build.fatal is None
    if not build.done and not silent:
        return
    status = _STATUS.search(text)
    page = _PAGE.search(text)
    if status and build.http is None:
        build.http = HttpAnswer(int(status.group(1)), status.group(2).strip())
    elif page and build.http is not None and "certificate" not in build.http.reason.lower():
        build.http = HttpAnswer(build.http.status, f"{build.http.reason} ({page.group(0)})")
    elif page and build.http is None:
        build.http = HttpAnswer(400, page.group(0).removeprefix("400 "))
    else:
        return
    build.statements.append(Statement(e.line, Said.APP_OUTPUT, text[:200]))


def exception(state: LogState, e: Entry) -> None:
    """An exception line: part of the trace before it, the open handshake's, or an orphan."""
    found = B.exception_line(e.text)
    if found is None:
        return
    m = _THREAD.search(e.text)
    thread = m.group(1) if m else None
    caused = e.text.lstrip().startswith("Caused by:")
    last = state.orphans[-1] if state.orphans else None
    if caused and last is not None and last.line >= e.line - _TRACE_REACH:
        if last.caused_only and not same_failure(last.chain[-1], found):
            # a paste of `Caused by:` lines only: each line may be another side's failure
            state.orphans.append(Orphan(e.line, [found], None, [e.line], caused_only=True))
        elif found not in last.chain:
            last.chain.append(found)
            last.lines.append(e.line)
        return
    build = _handshake_of(state, thread)
    failed = build is not None and (build.fatal is not None or bool(build.statements))
    if build is not None and failed and not caused:
        build.note_exception([found], e.line)
        build.exception_thread = build.exception_thread or thread
        return
    if caused:
        if not failed:
            state.orphans.append(Orphan(e.line, [found], None, [e.line], caused_only=True))
        return
    state.orphans.append(Orphan(e.line, [found], thread, [e.line]))


def _handshake_of(state: LogState, thread: str | None) -> Build | None:
    """The open handshake of the thread the exception names, else of the last thread logged."""
    build = None
    if thread is not None:
        build = next((b for key, b in state.open.items() if key.endswith("|" + thread)), None)
    if build is None and state.last_thread is not None:
        build = state.open.get(state.last_thread)
    return build
