"""The plain records that cross from the stream half of the pipeline to the TLS half.

A capture is read in two halves: `parsers.flows` (frames → TCP → record framing) produces a
stream of these items, `parsers.transcripts` (decryption → handshake messages → Transcripts)
consumes them. The serial reader hands each item straight over; the two-process reader
(`parsers.parallel`) pickles them in batches from a worker. Both run the same code on both
sides of this line, so they cannot disagree. Every field is a stdlib type, cheap to pickle.

Order guarantees: a connection's `ConnectionOpened` comes before its records, its records in
capture order, its `ConnectionClosed` last; `SecretsFound` comes before any record that may
need those secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

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

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # unpickled the same way: a C call per record instead of the generated __new__
        return _new_tuple, (Record, tuple(self))


_new_tuple = tuple.__new__


@dataclass(frozen=True, slots=True)
class ConnectionOpened:
    """A TCP connection whose first bytes look like TLS."""

    connection: int
    client: Endpoint
    server: Endpoint
    start_time: float  # absolute time of its first packet


@dataclass(frozen=True, slots=True)
class TcpFacts:
    """What the TCP half observed about one connection, merged into its Transcript."""

    problems: tuple[Problem, ...]  # gaps, snaplen cuts, mid-stream start, malformed headers
    fin_by: tuple[Direction, ...]  # in the order the FINs came
    reset_by: Direction | None


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """No more records for this connection (FIN both ways, RST, port reuse, end of capture)."""

    connection: int
    facts: TcpFacts


@dataclass(frozen=True, slots=True)
class SecretsFound:
    """NSS key-log text embedded in the capture (pcapng Decryption Secrets Block)."""

    text: str


Item = Record | ConnectionOpened | ConnectionClosed | SecretsFound
