"""OpenVPN's TCP framing taken apart (parsers/openvpn.py): which first packets say OpenVPN,
how control packets are put back in order, and what is passed over. The packets are built
here around byte strings; real OpenVPN peers are in tests/live/test_pcap_openvpn.py."""

from __future__ import annotations

import pytest

from parsers import openvpn as V

SID, PEER = bytes(range(1, 9)), bytes(range(11, 19))


def control(opcode: int, packet_id: int, payload: bytes = b"", acks: tuple[int, ...] = (),
            auth: bytes = b"", key_id: int = 0) -> bytes:  # fmt: skip
    """One OpenVPN-over-TCP packet, its 2-byte length first."""
    body = bytes([opcode << 3 | key_id]) + SID + auth + bytes([len(acks)])
    body += b"".join(a.to_bytes(4, "big") for a in acks) + (PEER if acks else b"")
    body += packet_id.to_bytes(4, "big") + payload
    return len(body).to_bytes(2, "big") + body


def ack_packet(*acks: int) -> bytes:
    """An ACK: acknowledgements, no packet id, no payload."""
    body = (
        bytes([V.ACK << 3]) + SID + bytes([len(acks)]) + b"".join(a.to_bytes(4, "big") for a in acks) + PEER
    )
    return len(body).to_bytes(2, "big") + body


def data_packet(size: int) -> bytes:
    body = bytes([V.DATA_V2 << 3]) + b"\xaa" * (size - 1)
    return len(body).to_bytes(2, "big") + body


class Sink:
    def __init__(self) -> None:
        self.got = b""
        self.losses = 0

    def data(self, data: bytes, skipped: int = 0) -> int:
        self.got += data
        return 0

    def lost(self) -> None:
        self.losses += 1


PLAIN = V.Framing(0)


def unwrapper(framing: V.Framing = PLAIN) -> tuple[V.OpenVpnUnwrapper, Sink, list[tuple[str, str]]]:
    sink, said = Sink(), []
    return V.OpenVpnUnwrapper(sink, framing, lambda kind, detail: said.append((kind, detail))), sink, said


def test_a_client_hard_reset_says_openvpn() -> None:
    assert V.client_reset(control(V.HARD_RESET_CLIENT_V2, 0), 0) == V.Framing(0)
    # 2.6 clients add an early-negotiation list after the packet id
    assert V.client_reset(control(V.HARD_RESET_CLIENT_V2, 0, b"\x0f\x00\x00\x02\x00\x01"), 0) == V.Framing(0)


@pytest.mark.parametrize("hmac", [16, 20, 32, 64])
def test_tls_auth_is_told_by_where_the_packet_id_fits(hmac: int) -> None:
    auth = b"\x5a" * hmac + (1).to_bytes(4, "big") + (1_765_000_000).to_bytes(4, "big")
    assert V.client_reset(control(V.HARD_RESET_CLIENT_V2, 0, auth=auth), 0) == V.Framing(hmac + 8)


def test_tls_crypt_is_named_not_read() -> None:
    wrapped = (1).to_bytes(4, "big") + (1_765_000_000).to_bytes(4, "big") + b"\x77" * 32 + b"\x99" * 10
    packet = bytes([V.HARD_RESET_CLIENT_V2 << 3]) + SID + wrapped
    framing = V.client_reset(len(packet).to_bytes(2, "big") + packet, 0)
    assert framing == V.Framing(0, encrypted=True)
    assert "tls-crypt" in framing.describe()


@pytest.mark.parametrize(
    "first",
    [
        b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00" + b"\0" * 20,  # a TLS ClientHello record
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        control(V.HARD_RESET_CLIENT_V2, 0, key_id=1),  # not a first packet
        control(V.HARD_RESET_SERVER_V2, 0),  # the server's
        control(V.HARD_RESET_CLIENT_V2, 0)[:-1],  # cut
    ],
)
def test_other_first_bytes_are_not_openvpn(first: bytes) -> None:
    assert V.client_reset(first, 0) is None


def test_control_payloads_come_out_in_packet_id_order_once() -> None:
    u, sink, said = unwrapper()
    stream = (
        control(V.HARD_RESET_CLIENT_V2, 0)
        + control(V.CONTROL, 2, b"world", acks=(0,))
        + ack_packet(5)
        + control(V.CONTROL, 1, b"hello ")
        + control(V.CONTROL, 1, b"hello ")  # OpenVPN's own retransmission
        + data_packet(300)
        + control(V.CONTROL, 3, b"!")
    )
    # delivered in small pieces, as TCP may
    for i in range(0, len(stream), 7):
        u.data(stream[i : i + 7])
    assert sink.got == b"hello world!"
    assert said == []


def test_the_vpns_data_is_passed_over_by_its_length() -> None:
    u, sink, _ = unwrapper()
    packet = data_packet(5000)
    assert u.data(packet[:100]) == 5000 + 2 - 100  # the rest need not be seen
    assert u.data(control(V.CONTROL, 0, b"after"), skipped=5000 + 2 - 100) == 0
    assert sink.got == b"after"


def test_a_loss_ends_the_direction_and_is_said() -> None:
    u, sink, said = unwrapper()
    u.data(control(V.CONTROL, 0, b"one")[:9])
    u.lost()
    u.data(control(V.CONTROL, 1, b"two"))
    assert (sink.got, sink.losses) == (b"", 1)
    assert said == [("gap", "bytes lost inside OpenVPN's framing: the rest of this direction is not read")]


def test_a_renegotiation_is_named_once_and_not_mixed_in() -> None:
    u, sink, said = unwrapper()
    u.data(control(V.CONTROL, 0, b"first session"))
    u.data(control(V.SOFT_RESET, 0, key_id=1) + control(V.CONTROL, 1, b"second", key_id=1))
    assert sink.got == b"first session"
    assert said == [("tunnel", "OpenVPN key renegotiation (key id 1): its TLS session is not read")]


def test_too_many_out_of_order_packets_stop_reading() -> None:
    u, sink, said = unwrapper()
    for packet_id in range(1, V.MAX_HELD + 2):
        u.data(control(V.CONTROL, packet_id, b"x"))
    assert sink.got == b""
    assert said == [("malformed", f"more than {V.MAX_HELD} OpenVPN control packets out of order")]
