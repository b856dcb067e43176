"""The --json document kept for the HTML page beside a text report (`pcap F --html OUT`).

The page lists at most MAX_TABLE_ROWS connections: those with error findings first, then those
with warnings, then the others, each by number (html/assemble.py). A connection that can no
longer earn a place there is kept as its number and outcome, which is all the page reads of it,
so a capture of thousands of connections is not rendered as JSON a second time for nothing. Its
findings are kept whole: the verdict counts and groups them all.
"""

from __future__ import annotations

import heapq
from json.encoder import encode_basestring as _string  # json.dumps's, with ensure_ascii=False
from typing import TYPE_CHECKING

from inspector.findings import Severity
from inspector.render import json_out
from inspector.render.html.assemble import ERRORS, MAX_TABLE_ROWS, OTHERS, WARNINGS
from inspector.render.pcap import PcapReport, PcapView, Rendered
from inspector.render.summary import outcome

if TYPE_CHECKING:
    from inspector.analysis.connection import ConnectionResult


class PageReport(PcapReport):
    def __init__(self, rows: int = MAX_TABLE_ROWS) -> None:
        super().__init__(PcapView(json=True))
        self._rows = rows
        self._seen = [0, 0, 0]  # connections seen of each rank
        # of each rank, the smallest numbers kept whole, as max-heaps (numbers negated)
        self._first: list[list[int]] = [[], [], []]

    def render(self, judged: ConnectionResult) -> Rendered:
        """Whole, or as its number and outcome when it can no longer be listed. In the reader's
        worker (the connections it judges) this report is the fork's copy and has seen only
        those: fewer connections seen only ever leave more room, so a connection is cut short
        there only when it would be here too."""
        t, findings = judged.transcript, judged.findings
        severities = {f.severity for f in findings}
        rank = (
            ERRORS if Severity.ERROR in severities else WARNINGS if severities - {Severity.INFO} else OTHERS
        )
        if self._may_be_listed(t.index, rank):
            return super().render(judged)
        stub = f'{{"index":{int(t.index)},"outcome":{_string(outcome(t))}}}'  # compact()'s text
        found = tuple(json_out.compact(json_out.finding_dict(f)) for f in findings)
        return Rendered(t.index, stub, found)

    def _may_be_listed(self, number: int, rank: int) -> bool:
        """Whether the page may list this connection, whatever comes after it: not when as many
        connections of its rank with smaller numbers were seen as the table has room for after
        those of the ranks before it."""
        self._seen[rank] += 1
        for each, heap in enumerate(self._first):
            room = max(self._rows - sum(self._seen[:each]), 0)  # only shrinks as the capture is read
            while len(heap) > room:
                heapq.heappop(heap)
        room = self._rows - sum(self._seen[:rank])
        return room > 0 and _among_first(self._first[rank], number, room)


def _among_first(heap: list[int], number: int, room: int) -> bool:
    """Keep `heap` the `room` smallest numbers seen; whether `number` is one of them."""
    if len(heap) < room:
        heapq.heappush(heap, -number)
        return True
    if number < -heap[0]:
        heapq.heapreplace(heap, -number)
        return True
    return False
