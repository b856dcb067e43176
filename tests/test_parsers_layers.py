"""Each layer of parsers/ alone, through its plain interface: TCP reassembly, record framing,
handshake assembly, key selection, transcript events, one TLS session."""

from __future__ import annotations

import pytest

from parsers.boundary import Record, TcpFacts
from parsers.connection import KEEP_FIRST_BYTES, PRELUDE_MAX, TcpConnection
from parsers.events import TranscriptWriter
from parsers.handshake import MAX_HANDSHAKE_MESSAGE, AbsurdLength, HandshakeAssembler
from parsers.keylog import KeyLog
from parsers.keys import Epoch, KeySchedule, UnsupportedSuite, secret_label
from parsers.model import Alert, Direction, EncryptedRecords, Endpoint, Problem, SimpleMessage, Transcript
from parsers.records import RecordSplitter, find_header, plausible_header
from parsers.tcp import MAX_PENDING, TcpReassembler
from parsers.tls import TlsSession
from tests.helpers import tls_bytes as TB

#: a handshake record holding one byte, a ClientHello's type: what makes a connection TLS
ONE_BYTE_HELLO = TB.record(TB.HANDSHAKE, bytes([TB.CLIENT_HELLO]), TB.TLS10)


class Sink:
    """A ByteSink that remembers what reached it; after each delivery it lets `skippable`
    bytes pass unseen."""

    def __init__(self, skippable: int = 0) -> None:
        self.out: list[bytes | str] = []
        self.skippable = skippable

    def data(self, data: bytes, skipped: int = 0) -> int:
        if skipped:
            self.out.append(f"SKIPPED {skipped}")
        if data:
            self.out.append(bytes(data))
        return self.skippable

    def lost(self) -> None:
        self.out.append("LOST")


def _reassembler(sink: Sink) -> tuple[TcpReassembler, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    tcp = TcpReassembler(sink, lambda kind, detail: problems.append((kind, detail)))
    return tcp, problems


# -- TCP -------------------------------------------------------------------------------------
def test_tcp_delivers_out_of_order_segments_in_order_and_trims_retransmissions() -> None:
    sink = Sink()
    tcp, problems = _reassembler(sink)
    tcp.syn(99)
    tcp.feed(105, b"world")
    tcp.feed(100, b"hello")
    tcp.feed(103, b"lowor")  # overlaps both: only nothing new
    tcp.feed(110, b"!")
    assert sink.out == [b"hello", b"world", b"!"]
    assert problems == []


def test_tcp_says_a_retransmission_whose_bytes_differ_and_keeps_the_first_copy() -> None:
    sink = Sink()
    tcp, problems = _reassembler(sink)
    tcp.syn(99)
    tcp.feed(100, b"hello")
    tcp.feed(105, b"world")
    tcp.feed(103, b"loWOR")  # the same range as bytes read, other bytes
    tcp.feed(200, b"later")  # past a hole: waits
    tcp.feed(200, b"LATER")  # the same range, other bytes, while waiting
    tcp.finish()
    assert sink.out == [b"hello", b"world", "LOST", b"later"]
    assert [(kind, detail.split(":")[0]) for kind, detail in problems] == [
        (
            "conflict",
            "a retransmission carries other bytes than the first copy of the same 5 bytes "
            "(from relative sequence number 4)",
        ),
        (
            "conflict",
            "a retransmission carries other bytes than the first copy of the same 5 bytes "
            "(from relative sequence number 101)",
        ),
        ("gap", "90 bytes missing (lost segments)"),
    ]


def test_tcp_sequence_numbers_wrap_around() -> None:
    sink = Sink()
    tcp, _ = _reassembler(sink)
    tcp.syn(0xFFFFFFFD)  # next is 0xFFFFFFFE
    tcp.feed(0, b"cd")
    tcp.feed(0xFFFFFFFE, b"ab")
    assert sink.out == [b"ab", b"cd"]
    assert tcp.next_seq == 2


def test_tcp_declares_a_gap_when_too_much_waits_and_resynchronises() -> None:
    sink = Sink()
    tcp, problems = _reassembler(sink)
    tcp.syn(0)
    tcp.feed(1001, b"x" * (MAX_PENDING + 1))
    assert problems == [("gap", "1000 bytes missing (lost segments)")]
    assert sink.out == ["LOST", b"x" * (MAX_PENDING + 1)]


def test_tcp_snaplen_cut_skips_what_was_not_captured() -> None:
    sink = Sink()
    tcp, problems = _reassembler(sink)
    tcp.syn(0)
    tcp.feed(1, b"abc")
    tcp.cut(1, 3, 10)
    tcp.feed(11, b"next")
    assert problems == [("snaplen", "packet cut by the capture's snaplen: 7 of 10 bytes not captured")]
    assert sink.out == [b"abc", "LOST", b"next"]


def test_tcp_fast_forward_only_in_order_and_only_what_the_next_layer_skips() -> None:
    sink = Sink(skippable=100)
    tcp, _ = _reassembler(sink)
    tcp.syn(0)
    assert not tcp.fast_forward(1, 10)  # nothing delivered yet: nothing known to be skippable
    tcp.feed(1, b"head")
    assert not tcp.fast_forward(50, 10)  # not the next byte
    assert tcp.fast_forward(5, 10)
    assert tcp.fast_forward(15, 60)
    assert tcp.next_seq == 75
    assert not tcp.fast_forward(75, 30)  # more than the rest the sink allowed
    tcp.feed(75, b"tail")
    assert sink.out == [b"head", "SKIPPED 70", b"tail"]


# -- records ---------------------------------------------------------------------------------
def _splitter(keep: bool = True) -> tuple[RecordSplitter, list[tuple[bytes, bytes | None]], list[str]]:
    records: list[tuple[bytes, bytes | None]] = []
    problems: list[str] = []
    splitter = RecordSplitter(lambda t, n: keep, lambda h, b: records.append((h, b)), problems.append)
    return splitter, records, problems


def test_records_are_split_across_and_within_segments() -> None:
    splitter, records, problems = _splitter()
    sent = [
        TB.record(TB.HANDSHAKE, b"hi"),
        TB.alert_record(TB.HANDSHAKE_FAILURE),
        TB.record(TB.APPLICATION_DATA, b""),
    ]
    stream = b"".join(sent)
    for i in range(0, len(stream), 3):
        splitter.data(stream[i : i + 3])
    assert records == [(r[:5], r[5:]) for r in sent]
    assert [len(body or b"") for _, body in records] == [2, 2, 0]
    assert problems == []
    assert not splitter.inside_record


def test_skipped_bodies_are_not_buffered() -> None:
    splitter, records, _ = _splitter(keep=False)
    first = TB.record(TB.APPLICATION_DATA, b"z" * 100, length=0x4000)  # 100 bytes of its 16384
    assert splitter.data(first) == 0x4000 - 100
    assert splitter.body is None
    # 1000 bytes passed by unseen (as allowed), then the record's last bytes and the next header
    assert splitter.data(b"z" * (0x4000 - 1100) + b"\x15\x03", skipped=1000) == 0
    assert records == [(first[:5], None)]
    assert splitter.inside_record  # the next record's header is half there


def test_a_bad_header_ends_the_direction_with_one_problem() -> None:
    splitter, records, problems = _splitter()
    splitter.data(b"GET / HTTP/1.1\r\n")
    splitter.data(TB.record(TB.HANDSHAKE, b""))
    assert records == []
    assert problems == ["not a TLS record header (47 45 54 20 2f); the rest of this direction is skipped"]
    assert splitter.dead


def test_after_a_loss_the_splitter_resumes_at_the_next_plausible_header() -> None:
    splitter, records, _ = _splitter()
    splitter.data(TB.record(TB.HANDSHAKE, b"abc", length=16))  # a record whose end is lost
    splitter.lost()
    warning = TB.alert_record(TB.CLOSE_NOTIFY, level=TB.WARNING)
    splitter.data(b"garbage" + warning)
    assert records == [(warning[:5], b"\x01\x00")]


def test_the_one_record_header_check() -> None:
    assert plausible_header(b"\x17\x03\x03\x48\x00")  # 16384 + 2048: the largest allowed
    assert not plausible_header(b"\x17\x03\x03\x48\x01")
    assert not plausible_header(b"\x18\x03\x03\x00\x01")
    assert not plausible_header(b"\x16\x02\x00\x00\x01")
    assert not plausible_header(b"\x16\x03\x05\x00\x01")
    assert find_header(b"xx\x16\x03\x01\x00\x05") == 2
    assert find_header(b"\x16\x03\x01\x00") == -1


# -- one TCP connection → records ------------------------------------------------------------
def _tcp_connection(keep_app_data: bool) -> tuple[TcpConnection, list[Record]]:
    records: list[Record] = []
    conn = TcpConnection(records.append, keep_app_data, index=7)
    conn.segment(Direction.CLIENT, 0, 0x02, b"", 1, 0.0)
    conn.segment(Direction.SERVER, 0, 0x12, b"", 2, 0.0)
    return conn, records


def test_a_connection_that_does_not_start_like_tls_is_not_tls() -> None:
    """Plaintext may precede TLS (STARTTLS, CONNECT): undecided until PRELUDE_MAX bytes of it
    went by without a hello, then not TLS."""
    conn, records = _tcp_connection(False)
    request = b"GET / HTTP/1.1\r\n\r\n"
    conn.segment(Direction.CLIENT, 1, 0x18, request, 3, 0.1)
    assert conn.is_tls is None and not conn.ended
    body = b"x" * PRELUDE_MAX
    conn.segment(Direction.SERVER, 1, 0x18, body, 4, 0.2)
    assert conn.is_tls is False and conn.ended
    assert records == []


def test_plaintext_then_a_hello_is_tls_from_the_hello() -> None:
    conn, records = _tcp_connection(False)
    conn.segment(Direction.SERVER, 1, 0x18, b"220 ready\r\n", 3, 0.1)
    conn.segment(Direction.CLIENT, 1, 0x18, b"STARTTLS\r\n", 4, 0.2)
    conn.segment(Direction.SERVER, 12, 0x18, b"220 go ahead\r\n", 5, 0.3)
    assert conn.is_tls is None
    hello = ONE_BYTE_HELLO
    conn.segment(Direction.CLIENT, 11, 0x18, hello, 6, 0.4)
    assert conn.is_tls is True
    assert [(r.frame, r.header) for r in records] == [(6, hello[:5])]
    assert conn.finish().problems == ()


def test_a_connection_yields_numbered_records_and_its_tcp_facts() -> None:
    conn, records = _tcp_connection(False)
    data = TB.record(TB.APPLICATION_DATA, b"abc")
    cut = TB.alert_record(TB.CLOSE_NOTIFY)[:3]  # the capture ends three bytes into a header
    conn.segment(Direction.CLIENT, 1, 0x18, ONE_BYTE_HELLO, 3, 0.5)
    conn.segment(Direction.SERVER, 1, 0x18, data + cut, 4, 0.6)
    conn.segment(Direction.SERVER, 12, 0x11, b"", 5, 0.7)
    assert conn.is_tls is True
    assert records == [
        Record(7, False, 3, 0.5, ONE_BYTE_HELLO[:5], b"\x01"),
        Record(7, True, 4, 0.6, data[:5], None),  # no keys: body not kept
    ]
    assert conn.finish() == TcpFacts(
        (Problem("truncated", "capture ends inside a TLS record", Direction.SERVER, 5),),
        (Direction.SERVER,),
        None,
    )


def test_with_keys_application_data_is_kept_up_to_a_budget() -> None:
    conn, records = _tcp_connection(True)
    conn.segment(Direction.CLIENT, 1, 0x18, ONE_BYTE_HELLO, 3, 0.0)
    big = TB.record(TB.APPLICATION_DATA, b"b" * 0x4000)
    seq = 1
    for frame in range(4, 4 + KEEP_FIRST_BYTES // 0x4000 + 2):
        conn.segment(Direction.SERVER, seq, 0x18, big, frame, 0.0)
        seq += len(big)
    conn.segment(Direction.SERVER, seq, 0x18, TB.record(TB.APPLICATION_DATA, b"s"), 99, 0.0)
    kept = [r.body is not None for r in records if r.from_server]
    assert kept == [True] * (KEEP_FIRST_BYTES // 0x4000) + [False, False, True]


# -- handshake assembly ----------------------------------------------------------------------
def test_handshake_messages_span_records_and_share_them() -> None:
    done, finished = TB.server_hello_done(), TB.handshake(TB.FINISHED, b"ab")
    hs = HandshakeAssembler()
    assert hs.feed(done + finished[:2]) == ([done], None)  # a record ending inside a header
    assert hs.feed(finished[2:] + done) == ([finished, done], None)
    assert finished == b"\x14\x00\x00\x02ab"


def test_an_absurd_message_length_is_refused_not_buffered() -> None:
    hs = HandshakeAssembler()
    n = MAX_HANDSHAKE_MESSAGE + 1
    complete, absurd = hs.feed(TB.server_hello_done() + TB.handshake(TB.CERTIFICATE, b"", length=n))
    assert complete == [TB.server_hello_done()]  # what came before it is still read
    assert isinstance(absurd, AbsurdLength)
    assert str(absurd) == f"handshake message of {n} bytes announced: absurd, skipped"
    assert hs.buffer == bytearray()


# -- keys ------------------------------------------------------------------------------------
def test_key_log_labels_per_direction_and_epoch() -> None:
    assert secret_label(Direction.CLIENT, Epoch.TLS12) == "CLIENT_RANDOM"
    assert secret_label(Direction.SERVER, Epoch.HANDSHAKE) == "SERVER_HANDSHAKE_TRAFFIC_SECRET"
    assert secret_label(Direction.CLIENT, Epoch.APPLICATION) == "CLIENT_TRAFFIC_SECRET_0"


def test_a_suite_we_do_not_decrypt_is_named() -> None:
    keylog = KeyLog()
    keylog.add_text(f"CLIENT_RANDOM {'11' * 32} {'22' * 48}\n")
    keys = KeySchedule(keylog)
    keys.client_random, keys.server_random, keys.suite = b"\x11" * 32, b"\x33" * 32, 0x000A
    assert keys.fetch_secrets()
    with pytest.raises(UnsupportedSuite, match="cipher suite 0x000a is not one we decrypt"):
        keys.decryptor(Direction.CLIENT, Epoch.TLS12)
    keys.suite = 0xC02F
    assert keys.decryptor(Direction.SERVER, Epoch.TLS12) is not None


# -- transcript events -----------------------------------------------------------------------
def _transcript() -> Transcript:
    return Transcript(1, Endpoint("127.0.0.1", 5000), Endpoint("127.0.0.1", 443), 10.0)


def test_opaque_records_of_one_direction_fold_into_one_event() -> None:
    t = _transcript()
    w = TranscriptWriter(t)
    for size in (100, 200, 300):
        w.opaque(Direction.SERVER, size, 5, 11.0)
    w.emit(Direction.CLIENT, Alert(1, 0), 6, 12.0, encrypted=False)
    w.opaque(Direction.CLIENT, 50, 7, 13.0)
    w.flush()
    assert [(e.direction, e.message, e.frame, e.time) for e in t.events] == [
        (Direction.SERVER, EncryptedRecords(3, (100, 200, 300)), 5, 1.0),
        (Direction.CLIENT, Alert(1, 0), 6, 2.0),
        (Direction.CLIENT, EncryptedRecords(1, (50,)), 7, 3.0),
    ]


# -- one TLS session: records in, events out -------------------------------------------------
def test_a_session_reads_records_without_any_tcp() -> None:
    t = _transcript()
    session = TlsSession(t, None)
    done, refused = TB.record(TB.HANDSHAKE, TB.server_hello_done()), TB.alert_record(TB.UNKNOWN_CA)
    session.record(Record(1, True, 3, 10.5, done[:5], done[5:]))
    session.record(Record(1, True, 4, 10.6, refused[:5], refused[5:]))
    out = session.close(TcpFacts((), (Direction.SERVER,), None))
    assert out is t
    assert [(e.frame, e.message) for e in t.events] == [(3, SimpleMessage(14, 0)), (4, Alert(2, 48))]
    assert t.fin_by == [Direction.SERVER]
    assert t.events[1].label == "Alert unknown_ca"
