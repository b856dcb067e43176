"""Geometry of the handshake ladder: client and server lanes, one arrow per message.

Only numbers and short texts are computed here; the template draws them (escaped by Jinja).
"""

from __future__ import annotations

import re
from typing import Any

from inspector.render.html.coerce import as_dict, as_float, as_int, as_str
from inspector.render.html.model import LadderRow, LadderView

WIDTH = 540
CLIENT_X = 118
SERVER_X = 478
HEADER = 58
ROW = 34
NOTE = 14  # extra height of a row that carries a note under its arrow
LABEL_CHARS = 46
MAX_ROWS = 60
KEEP_TAIL = 8

# evidence sources read "Certificate (2) from client at 0.002 s, frame 8"
_SOURCE = re.compile(
    r"^(?P<message>.+?) from (?P<direction>client|server) at [0-9.]+ s, frame (?P<frame>\d+)$"
)


def cited_steps(sources: list[str]) -> set[tuple[str, str, int]]:
    """The (message, direction, frame) of every handshake step a finding cites as evidence."""
    steps: set[tuple[str, str, int]] = set()
    for source in sources:
        match = _SOURCE.match(source)
        if match:
            steps.add((match["message"], match["direction"], int(match["frame"])))
    return steps


def time_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def _short_cn(dn: str) -> str:
    match = re.search(r"(?:^|,)\s*CN=((?:\\.|[^,])+)", dn)
    return f"CN={match.group(1)}" if match else dn


def _label(event: dict[str, Any], server_name: str) -> str:
    message = as_str(event.get("message")) or "?"
    alert = as_dict(event.get("alert"))
    if alert:
        level = as_int(alert.get("level"))
        return f"{message} ({'fatal' if level == 2 else 'warning'})" if level in (1, 2) else message
    if message == "ClientHello" and server_name:
        return f"ClientHello (SNI {server_name})"
    if message.startswith("CertificateRequest") and isinstance(event.get("ca_names"), list):
        return f"{message} [{len(event['ca_names'])} CA name{'s' if len(event['ca_names']) != 1 else ''}]"
    chain = event.get("chain")
    if isinstance(chain, list) and chain and isinstance(chain[0], dict):
        return f"{message}: {_short_cn(as_str(chain[0].get('subject')))}"
    return message


def _is_fatal(event: dict[str, Any]) -> bool:
    return as_int(as_dict(event.get("alert")).get("level")) == 2


def _shown(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Long connections (application data) keep their start and their end; the middle is counted."""
    if len(events) <= MAX_ROWS:
        return events, 0
    head = MAX_ROWS - KEEP_TAIL
    return events[:head] + events[-KEEP_TAIL:], len(events) - MAX_ROWS


def ladder(
    events: list[dict[str, Any]],
    *,
    client: str,
    server: str,
    server_name: str,
    outcome: str,
    outcome_class: str,
    cited: set[tuple[str, str, int]],
    title: str,
) -> LadderView:
    shown, skipped = _shown(events)
    head_count = len(shown) - (KEEP_TAIL if skipped else 0)
    rows: list[LadderRow] = []
    y = HEADER
    fatal_seen = False
    skipped_y = 0
    previous_note = False
    for number, event in enumerate(shown):
        if skipped and number == head_count:
            skipped_y = y + 14
            y += ROW
        y += ROW + (NOTE if previous_note else 0)
        direction = as_str(event.get("direction"))
        to_server = direction != "server"
        x1, x2 = (CLIENT_X, SERVER_X) if to_server else (SERVER_X, CLIENT_X)
        tip = x2 - 2 if to_server else x2 + 2
        back = tip - 10 if to_server else tip + 10
        head = f"{tip},{y} {back},{y - 5} {back},{y + 5}"
        full = _label(event, server_name)
        label = full if len(full) <= LABEL_CHARS else full[: LABEL_CHARS - 1] + "…"
        frame = as_int(event.get("frame"))
        key = (as_str(event.get("message")), direction, frame if frame is not None else -1)
        state, note = "", ""
        if _is_fatal(event) and not fatal_seen:
            fatal_seen = True
            state, note = "fail", f"✗ the handshake fails here: fatal alert from the {direction or 'peer'}"
        elif key in cited:
            state, note = "cited", "cited as evidence by a finding"
        previous_note = bool(note)
        lock_x = x1 + 8 if to_server else x1 - 20
        rows.append(
            LadderRow(
                y=y,
                x1=x1,
                x2=tip,
                head=head,
                label=label,
                full_label=full,
                label_x=(CLIENT_X + SERVER_X) // 2,
                time_text=time_text(as_float(event.get("time"))),
                frame_text=f"frame {frame}" if frame is not None else "",
                encrypted=event.get("encrypted") is True,
                lock_x=lock_x,
                state=state,
                note=note,
            )
        )
    end_y = y + ROW + (NOTE if previous_note else 0)
    return LadderView(
        width=WIDTH,
        height=end_y + 18,
        client_x=CLIENT_X,
        server_x=SERVER_X,
        lane_top=HEADER - 8,
        lane_bottom=end_y - 16,
        client_label=client,
        server_label=server,
        rows=rows,
        skipped=skipped,
        skipped_y=skipped_y,
        end_text=outcome,
        end_y=end_y,
        end_state=outcome_class,
        title=title,
    )
