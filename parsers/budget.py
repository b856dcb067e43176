"""One memory budget for the stream half of a capture: open connections and out-of-order data.

A direction may hold out-of-order bytes past a hole (`tcp.MAX_PENDING` at most), and up to
`flows.MAX_OPEN_CONNECTIONS` connections are tracked at once: alone, each bound is fine, but
together they multiply (thousands of connections, each with megabytes waiting past a hole, make
a small compressed file take gigabytes). So both draw on one budget: every open connection costs
CONNECTION_COST, and out-of-order bytes get what the connections leave. Past it, the oldest
holes are given up on (their data delivered after a gap, as at the end of the capture) until a
quarter of the room is free again, and the capture's report says how much was given up, and why.
"""

from __future__ import annotations

from typing import Protocol

MEMORY_BUDGET = 192 << 20  # bytes: open connections and their out-of-order data together
#: what one tracked connection costs with no data held (its objects, both directions, the
#: record splitters' partial headers, the last bytes read kept to compare retransmissions
#: with: tcp.RECENT each way): ~6 KB measured, plus 2 x 3 KiB
CONNECTION_COST = 14 << 10
#: shedding stops when the out-of-order bytes are down to this share of their room, so a
#: capture at the limit does not shed on every packet
SHED_TO = 0.75
#: the start of the capture problem that says what the budget made the reader drop
BUDGET_PROBLEM = "memory budget reached"


class Holder(Protocol):
    """One direction's reassembler, as the budget sees it (parsers.tcp.TcpReassembler)."""

    pending_bytes: int

    def give_up(self) -> None:
        """Deliver what it holds past its holes now, as after lost segments."""


class Budget:
    """Shared by every reassembler of one reader. `n`: directions holding data past a hole (while
    none does, the reader need not look at pure ACKs at all)."""

    __slots__ = (
        "closed_connections",
        "connection_cost",
        "connections",
        "given_up_bytes",
        "given_up_directions",
        "limit",
        "n",
        "pending",
        "shedding",
        "waiting",
    )

    def __init__(self, limit: int | None = None, connection_cost: int | None = None) -> None:
        self.limit = MEMORY_BUDGET if limit is None else limit
        self.connection_cost = CONNECTION_COST if connection_cost is None else connection_cost
        self.n = 0
        self.pending = 0  # out-of-order bytes held, every direction
        self.connections = 0  # open, as the reader counts them
        #: directions holding data past a hole, oldest hole first
        self.waiting: dict[Holder, None] = {}
        self.shedding = False
        self.given_up_directions = 0
        self.given_up_bytes = 0
        self.closed_connections = 0  # closed early, for the connection count

    @property
    def room(self) -> int:
        """Out-of-order bytes that fit beside the open connections."""
        return self.limit - self.connections * self.connection_cost

    def held(self, holder: Holder, before: int) -> None:
        """`holder` went from `before` pending bytes to what it holds now."""
        after = holder.pending_bytes
        self.pending += after - before
        if after and not before:
            self.n += 1
            self.waiting[holder] = None
        elif before and not after:
            self.n -= 1
            self.waiting.pop(holder, None)
        if self.pending > self.room and not self.shedding:
            self.shed()

    def opened(self, connections: int) -> None:
        """The reader now tracks `connections`: the room for out-of-order data shrinks."""
        self.connections = connections
        if self.pending > self.room and not self.shedding:
            self.shed()

    def shed(self) -> None:
        """Give up on the oldest holes until the out-of-order data is back under SHED_TO."""
        self.shedding = True
        target = int(max(self.room, 0) * SHED_TO)
        try:
            while self.pending > target and self.waiting:
                holder = next(iter(self.waiting))
                self.given_up_directions += 1
                self.given_up_bytes += holder.pending_bytes
                holder.give_up()
                if self.waiting and next(iter(self.waiting)) is holder:
                    break  # it could not let go: never loop on one
        finally:
            self.shedding = False

    def summary(self, max_open: int) -> str | None:
        """The capture problem naming what was dropped, or None when nothing was."""
        if not self.given_up_directions and not self.closed_connections:
            return None
        parts = []
        if self.given_up_directions:
            parts.append(
                f"{self.given_up_bytes} bytes of out-of-order data in {self.given_up_directions} "
                "direction(s) given up on (read on after a gap, as if the segments before them "
                "were lost)"
            )
        if self.closed_connections:
            parts.append(
                f"{self.closed_connections} connection(s) closed early (more than {max_open} open at once)"
            )
        size = f"{self.limit >> 20} MiB" if self.limit >= 1 << 20 else f"{self.limit} bytes"
        return (
            f"{BUDGET_PROBLEM} ({size} for the open connections and the data held "
            f"past their holes): {'; '.join(parts)}"
        )
