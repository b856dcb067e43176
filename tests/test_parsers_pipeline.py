"""The serial reader and the two-process reader are one pipeline cut at one boundary: on the
same random capture they give equal transcripts and equal summaries."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import framing
from parsers.boundary import ConnectionClosed, ConnectionOpened, Item, Record, TcpFacts
from parsers.capture import read_capture
from parsers.flows import FlowReader
from parsers.keylog import KeyLog
from parsers.model import Direction, Endpoint, Problem, Transcript
from parsers.parallel import read_capture_parallel
from parsers.pcapfile import PcapWriter
from parsers.transcripts import TranscriptBuilder
from tests.helpers import tls_bytes as TB

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
CI = os.environ.get("CI") == "true"

record = st.builds(
    lambda t, ln, body: TB.record(t, body, length=ln),
    st.sampled_from([TB.CHANGE_CIPHER_SPEC, TB.ALERT, TB.HANDSHAKE, TB.APPLICATION_DATA]),
    st.integers(0, 400),
    st.binary(max_size=300),
)
# handshake records announcing any message length, absurd ones included (> 1 MiB)
handshake = st.builds(
    lambda mt, ln, body: TB.record(TB.HANDSHAKE, TB.handshake(mt, body, length=ln)),
    st.sampled_from([1, 2, 11, 13, 14, 20, 99]),
    st.one_of(st.integers(0, 400), st.integers(0, (1 << 24) - 1)),
    st.binary(max_size=300),
)
chunk = st.one_of(record, handshake, st.binary(max_size=200))
#: a ClientHello record whose message is one byte long: enough to make a connection TLS
CLIENT_HELLO_START = TB.record(TB.HANDSHAKE, TB.handshake(TB.CLIENT_HELLO, b"\x00"), TB.TLS10)
# (connection 0..2, from the server?, bytes, FIN after it?)
streams = st.lists(st.tuples(st.integers(0, 2), st.booleans(), chunk, st.booleans()), max_size=14)


def _write(path: Path, chunks: list[tuple[int, bool, bytes, bool]]) -> None:
    seq: dict[tuple[int, bool], int] = {}
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for n, (conn, from_server, data, fin) in enumerate(chunks):
            client, server = ("127.0.0.1", 40000 + conn), ("127.0.0.2", 443)
            src, dst = (server, client) if from_server else (client, server)
            if (conn, from_server) not in seq:
                isn = 1000 * (conn + 1) + (500 if from_server else 0)
                syn = framing.SYN | (framing.ACK if from_server else 0)
                writer.write(n * 0.001, framing.tcp_packet(src[0], dst[0], src[1], dst[1], isn, 0, syn))
                seq[(conn, from_server)] = isn + 1
                if not from_server:
                    data = CLIENT_HELLO_START + data  # most connections start as TLS
            s = seq[(conn, from_server)]
            flags = framing.ACK | framing.PSH | (framing.FIN if fin else 0)
            writer.write(n * 0.001, framing.tcp_packet(src[0], dst[0], src[1], dst[1], s, 0, flags, data))
            seq[(conn, from_server)] = s + len(data) + (1 if fin else 0)


def _summary(result: object) -> dict[str, object]:
    fields = dict(vars(result))
    fields.pop("transcripts")
    return fields


@settings(
    max_examples=25 if CI else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(streams)
def test_serial_and_parallel_readers_agree_on_random_streams(tmp_path, chunks):  # type: ignore[no-untyped-def]
    path = tmp_path / "random.pcap"
    _write(path, chunks)
    serial = read_capture(path)
    parallel: list[Transcript] = []
    result = read_capture_parallel(path, None, None, parallel.append, min_bytes=0)
    assert sorted(parallel, key=lambda t: t.index) == serial.transcripts
    assert _summary(result) == _summary(serial)


def test_after_an_absurd_handshake_length_both_readers_go_on_at_the_next_record(tmp_path):  # type: ignore[no-untyped-def]
    """The case that made the old two-process reader invent messages: after a message header
    announcing 16 MiB (dropped with what it held), the next record's well-formed ServerHelloDone
    is read (the rest of the direction is still read), the same in both readers."""
    absurd = TB.record(TB.HANDSHAKE, TB.handshake(TB.CERTIFICATE, bytes(4), length=0xFFFFFF))
    done = TB.record(TB.HANDSHAKE, TB.server_hello_done())
    path = tmp_path / "absurd.pcap"
    _write(path, [(0, False, b"", False), (0, True, absurd, False), (0, True, done, False)])
    serial = read_capture(path).transcripts
    parallel: list[Transcript] = []
    read_capture_parallel(path, None, None, parallel.append, min_bytes=0)
    assert parallel == serial
    (t,) = serial
    assert [e.label for e in t.events] == ["ServerHelloDone"]
    assert [(p.kind, p.direction, p.detail) for p in t.problems] == [
        ("malformed", Direction.CLIENT, "ClientHello is truncated"),
        ("malformed", Direction.SERVER, "handshake message of 16777215 bytes announced: absurd, skipped"),
    ]


def test_the_boundary_items_survive_pickling_unchanged() -> None:
    """What crosses between the processes is plain data: pickled and unpickled, the items give
    the transcripts the direct hand-over gives."""
    path = CAPTURES / "tls13-hello-retry.pcap"
    keys = CAPTURES / "tls13-hello-retry.keys"
    items: list[Item] = []
    FlowReader(path, items.append, keys_given=True).run()
    assert {type(i) for i in items} == {ConnectionOpened, Record, ConnectionClosed}
    shipped = pickle.loads(pickle.dumps(items))
    assert shipped == items
    keylog = KeyLog()
    keylog.add_text(keys.read_text())
    rebuilt: list[Transcript] = []
    TranscriptBuilder(keylog, rebuilt.append).feed_all(shipped)
    direct = read_capture(path, keylog).transcripts
    assert rebuilt == direct
    assert rebuilt[0].decrypted
    # each kind pickles as its values (its own __reduce__): every field comes back
    facts = TcpFacts(
        (Problem("gap", "1448 bytes lost", Direction.SERVER, 7),), (Direction.CLIENT,), Direction.SERVER
    )
    closed = ConnectionClosed(3, facts)
    opened = ConnectionOpened(3, Endpoint("::1", 443), Endpoint("10.0.0.1", 50000), 1.5)
    assert pickle.loads(pickle.dumps([closed, opened])) == [closed, opened]


@pytest.mark.parametrize("keep", [None, 0])
def test_folded_runs_of_opaque_records_read_as_one_by_one(monkeypatch, keep):  # type: ignore[no-untyped-def]
    """A run of unread application_data records crosses as its first Record and one
    OpaqueRecords: the transcripts are those of the records sent one by one, with and without
    keys (with keys and no body kept, each is skipped by the decryptor: its sequence number)."""
    from parsers import connection
    from parsers.boundary import OpaqueRecords

    if keep is not None:  # no application data body kept past 1 KiB: runs with keys too
        monkeypatch.setattr(connection, "KEEP_FIRST_BYTES", keep)
    folded_somewhere = 0
    for path in sorted(CAPTURES.glob("*.pcap*")):
        keys = path.with_suffix(".keys")
        for keylog_path in (None, keys if keys.exists() else None):
            runs: list[Transcript] = []
            for fold in (True, False):
                monkeypatch.setattr(FlowReader, "fold_runs", fold)
                keylog = KeyLog()
                if keylog_path is not None:
                    keylog.add_text(keylog_path.read_text())
                found: list[Transcript] = []
                items = _read_items(path, keylog, found)
                folded = sum(type(i) is OpaqueRecords for i in items)
                assert folded == 0 or fold
                folded_somewhere += folded
                runs.append(found)
            assert runs[0] == runs[1], path.name
    assert folded_somewhere > 20


def _read_items(path: Path, keylog: KeyLog, found: list[Transcript]) -> list[Item]:
    items: list[Item] = []
    builder = TranscriptBuilder(keylog, found.append)

    def take(item: Item) -> None:
        items.append(item)
        builder.feed(item)

    FlowReader(path, take, bool(len(keylog))).run()
    return items
