"""The plain records that cross from the stream half of the pipeline to the TLS half.

A capture is read in two halves: `parsers.flows` (frames → TCP → record framing) produces a
stream of these items, `parsers.transcripts` (decryption → handshake messages → Transcripts)
consumes them. The serial reader hands each item straight over; the two-process reader
(`parsers.parallel`) pickles them in batches from a worker, a Record as the plain tuple of its
fields (`as_wire` / `from_wire`: no Python call per record on either side). Both run the same
code on both sides of this line, so they cannot disagree. Every field is a stdlib type.

Order guarantees: a connection's `ConnectionOpened` comes before its records, its records in
capture order, its `ConnectionClosed` last; `SecretsFound` comes before any record that may
need those secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, cast

from parsers.model import Direction, Endpoint, Problem


class Record(NamedTuple):
    """One TLS record as framed on the wire (a tuple: one is made per record)."""

    connection: int  # the connection's number (1-based, in order of its first TLS record)
    from_server: bool
    frame: int  # the capture frame that completed the record
    time: float  # absolute time of that frame
    header: bytes  # the 5-byte record header
    body: bytes | None  # None when the stream half skipped it (bulk data it had no use for)

    @property
    def direction(self) -> Direction:
        return Direction.SERVER if self.from_server else Direction.CLIENT


class OpaqueRecords(NamedTuple):
    """Records that continue a run of unread application_data records (no body kept: bulk
    data, or no keys), folded into one item: one direction, following the run's first record
    (an ordinary Record) with no other record of the connection between. The TLS half only
    counts them (parsers.tls.TlsSession.opaque_records), so one item does for thousands.
    Emitted only by a stream half that folds (parsers.connection.TcpConnection's `on_run`)."""

    connection: int
    from_server: bool
    frame: int  # the capture frame that completed the last of them
    time: float  # absolute time of that frame
    records: int  # how many
    lengths: tuple[int, ...]  # the first MAX_RUN_LENGTHS of their lengths, in order


MAX_RUN_LENGTHS = 64  # lengths carried per run: the transcript keeps no more (parsers.events)


@dataclass(frozen=True, slots=True)
class ConnectionOpened:
    """A TCP connection whose first bytes look like TLS."""

    connection: int
    client: Endpoint
    server: Endpoint
    start_time: float  # absolute time of its first packet

    def __reduce__(self) -> tuple[type[ConnectionOpened], tuple[int, Endpoint, Endpoint, float]]:
        """Pickled as its values (one per connection through the two-process reader's pipe: a
        slotted dataclass's default pickling, by its state, costs several times more)."""
        return ConnectionOpened, (self.connection, self.client, self.server, self.start_time)


@dataclass(frozen=True, slots=True)
class TcpFacts:
    """What the TCP half observed about one connection, merged into its Transcript."""

    problems: tuple[Problem, ...]  # gaps, snaplen cuts, mid-stream start, malformed headers
    fin_by: tuple[Direction, ...]  # in the order the FINs came
    reset_by: Direction | None

    def __reduce__(
        self,
    ) -> tuple[type[TcpFacts], tuple[tuple[Problem, ...], tuple[Direction, ...], Direction | None]]:
        return TcpFacts, (self.problems, self.fin_by, self.reset_by)  # as ConnectionOpened


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """No more records for this connection (FIN both ways, RST, port reuse, end of capture)."""

    connection: int
    facts: TcpFacts

    def __reduce__(self) -> tuple[type[ConnectionClosed], tuple[int, TcpFacts]]:
        return ConnectionClosed, (self.connection, self.facts)  # as ConnectionOpened


@dataclass(frozen=True, slots=True)
class SecretsFound:
    """NSS key-log text embedded in the capture (pcapng Decryption Secrets Block)."""

    text: str


Item = Record | OpaqueRecords | ConnectionOpened | ConnectionClosed | SecretsFound
#: what a batch through the pipe holds: a Record (6 fields) or OpaqueRecords (6 fields, the
#: last a tuple) as a plain tuple, anything else as it is
WireItem = (
    tuple[int, bool, int, float, bytes, "bytes | None"]
    | tuple[int, bool, int, float, int, tuple[int, ...]]
    | ConnectionOpened
    | ConnectionClosed
    | SecretsFound
)


def as_wire(items: list[Item]) -> list[WireItem]:
    return cast(
        "list[WireItem]",
        [tuple(i) if type(i) is Record or type(i) is OpaqueRecords else i for i in items],
    )


def from_wire(items: list[WireItem]) -> list[Item]:
    new = tuple.__new__
    return cast(
        "list[Item]",
        [
            (new(OpaqueRecords, i) if type(i[5]) is tuple else new(Record, i)) if type(i) is tuple else i
            for i in items
        ],
    )
