"""TLS inside OpenVPN over TCP: the control channel's packets → the TLS byte stream.

OpenVPN authenticates both ends with a mutual-TLS handshake carried in its control channel;
over TCP every OpenVPN packet is prefixed with its 2-byte length. A control packet is
`opcode|key id` (1 byte), the sender's session id (8), with `--tls-auth` an HMAC and a replay
id and time, the acknowledgements (a count, the ids, the peer's session id), the message's
packet id (4) and then a piece of the TLS stream. Pieces are put back in packet-id order
(duplicates dropped), so the record splitter behind this sees the plain TLS stream. Data
channel packets (the VPN's own traffic) are skipped by their length, never copied.

With `--tls-crypt` the control packets are encrypted with a key only the two ends hold: the
connection is named, not read. Only the first TLS session (key id 0) is read; a key
renegotiation is named.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.tcp import ByteSink, ReportFn

#: opcodes (the high five bits of the first byte)
HARD_RESET_CLIENT_V1, HARD_RESET_SERVER_V1, SOFT_RESET, CONTROL, ACK, DATA_V1 = 1, 2, 3, 4, 5, 6
HARD_RESET_CLIENT_V2, HARD_RESET_SERVER_V2, DATA_V2, HARD_RESET_CLIENT_V3, CONTROL_WKC = 7, 8, 9, 10, 11
_RESETS = frozenset((HARD_RESET_CLIENT_V1, HARD_RESET_SERVER_V1, HARD_RESET_CLIENT_V2, HARD_RESET_SERVER_V2))
_RESETS_V3 = frozenset((HARD_RESET_CLIENT_V3,))
_CONTROL = frozenset((*_RESETS, *_RESETS_V3, SOFT_RESET, CONTROL, CONTROL_WKC))
_DATA = frozenset((DATA_V1, DATA_V2))
SESSION_ID = 8
#: HMAC sizes `--tls-auth` uses (its --auth digest: MD5, SHA-1, SHA-224/256/384/512)
_TLS_AUTH_HMACS = (20, 32, 16, 28, 48, 64)
_REPLAY = 8  # tls-auth's replay packet id (4) and time (4) after the HMAC
_TLS_CRYPT_TAG = 32
#: out-of-order control packets held per direction (TCP delivers them in order; a
#: retransmission by OpenVPN's own reliability layer is a duplicate, dropped)
MAX_HELD = 64
#: the first packet a client sends is small: a hard reset, with at most an early-negotiation
#: list or (tls-crypt-v2) a wrapped key of about 1 KB
_MAX_FIRST = 2048


@dataclass(frozen=True, slots=True)
class Framing:
    """How this connection's control packets are laid out: `auth` bytes of tls-auth HMAC and
    replay fields after the session id (0 without it); `encrypted` for tls-crypt."""

    auth: int
    encrypted: bool = False

    def describe(self) -> str:
        if self.encrypted:
            return "OpenVPN over TCP with --tls-crypt: its TLS handshake is encrypted and not read"
        auth = f", --tls-auth HMAC of {self.auth - _REPLAY} bytes" if self.auth else ""
        return f"TLS read from inside OpenVPN's control channel (over TCP{auth})"


def client_reset(data: bytes, i: int) -> Framing | None:
    """The framing of the OpenVPN connection whose client's first packet (a hard reset, key
    id 0, message packet id 0 acknowledging nothing) starts at `i`; None when it is not one."""
    if len(data) - i < 2 + 1 + SESSION_ID + 5:
        return None
    length = (data[i] << 8) | data[i + 1]
    first = data[i + 2]
    opcode, key_id = first >> 3, first & 7
    if key_id or opcode not in (HARD_RESET_CLIENT_V2, HARD_RESET_CLIENT_V3, HARD_RESET_CLIENT_V1):
        return None
    if not 1 + SESSION_ID + 5 <= length <= _MAX_FIRST or len(data) - i - 2 < length:
        return None
    packet = data[i + 2 : i + 2 + length]
    if _acks_nothing(packet, 1 + SESSION_ID):
        return Framing(0)
    for hmac in _TLS_AUTH_HMACS:
        at = 1 + SESSION_ID + hmac
        if (
            length >= at + _REPLAY + 5
            and packet[at : at + 4] == b"\0\0\0\1"
            and _acks_nothing(packet, at + 8)
        ):
            return Framing(hmac + _REPLAY)
    if length >= 1 + SESSION_ID + _REPLAY + _TLS_CRYPT_TAG and packet[9:13] == b"\0\0\0\1":
        return Framing(0, encrypted=True)
    return None


def _acks_nothing(packet: bytes, at: int) -> bool:
    """An empty acknowledgement list then message packet id 0 at `at` (a first packet)."""
    return len(packet) >= at + 5 and packet[at] == 0 and packet[at + 1 : at + 5] == b"\0\0\0\0"


class OpenVpnUnwrapper:
    """A `parsers.tcp.ByteSink` in front of the direction's record splitter (`inner`)."""

    __slots__ = ("dead", "expected", "framing", "held", "inner", "packet", "report", "skip", "told")

    def __init__(self, inner: ByteSink, framing: Framing, report: ReportFn) -> None:
        self.inner = inner
        self.framing = framing
        self.report = report
        self.packet = bytearray()  # the packet being read, its 2-byte length first
        self.skip = 0  # bytes of a data-channel packet still to pass over
        self.expected = 0  # the next message packet id of key id 0
        self.held: dict[int, bytes] = {}
        self.dead = framing.encrypted
        self.told = False  # the renegotiation said once

    def data(self, data: bytes, skipped: int = 0) -> int:
        self.skip -= skipped
        if self.dead:
            return 0
        i, n = 0, len(data)
        while i < n:
            if self.skip:
                take = min(self.skip, n - i)
                self.skip -= take
                i += take
                continue
            packet = self.packet
            if len(packet) < 3:
                take = min(3 - len(packet), n - i)
                packet += data[i : i + take]
                i += take
                if len(packet) < 3:
                    break
                if packet[2] >> 3 in _DATA:  # the VPN's traffic: passed over by its length
                    self.skip = ((packet[0] << 8) | packet[1]) - 1
                    packet.clear()
                    continue
            want = 2 + ((packet[0] << 8) | packet[1]) - len(packet)
            take = min(want, n - i)
            packet += data[i : i + take]
            i += take
            if take == want:
                self._control(bytes(packet[2:]))
                packet.clear()
                if self.dead:
                    return 0
        return self.skip

    def lost(self) -> None:
        """OpenVPN's framing has no marker to find again after a loss: the rest is not read."""
        self.packet.clear()
        self.skip = 0
        if not self.dead:
            self.dead = True
            self.report("gap", "bytes lost inside OpenVPN's framing: the rest of this direction is not read")
            self.inner.lost()

    def _control(self, packet: bytes) -> None:
        if not packet:
            return
        opcode, key_id = packet[0] >> 3, packet[0] & 7
        if opcode == ACK:
            return
        if opcode not in _CONTROL:
            self._stop(f"OpenVPN packet with unknown opcode {opcode}: the rest of this direction is not read")
            return
        if key_id:
            self._note(f"OpenVPN key renegotiation (key id {key_id}): its TLS session is not read")
            return
        at = 1 + SESSION_ID + self.framing.auth
        if len(packet) < at + 1:
            self._stop("OpenVPN control packet too short: the rest of this direction is not read")
            return
        acks = packet[at]
        at += 1 + 4 * acks + (SESSION_ID if acks else 0)
        if len(packet) < at + 4:
            self._stop("OpenVPN control packet too short: the rest of this direction is not read")
            return
        packet_id = int.from_bytes(packet[at : at + 4], "big")
        payload = b"" if opcode in _RESETS or opcode in _RESETS_V3 else packet[at + 4 :]
        self._deliver(packet_id, payload)

    def _deliver(self, packet_id: int, payload: bytes) -> None:
        if packet_id < self.expected or packet_id in self.held:
            return  # a retransmission
        if packet_id > self.expected:
            if len(self.held) >= MAX_HELD:
                self._stop(f"more than {MAX_HELD} OpenVPN control packets out of order")
                return
            self.held[packet_id] = payload
            return
        while True:
            self.expected += 1
            if payload:
                self.inner.data(payload)
            if self.expected not in self.held:
                return
            payload = self.held.pop(self.expected)

    def _stop(self, detail: str) -> None:
        self.dead = True
        self.report("malformed", detail)

    def _note(self, detail: str) -> None:
        if not self.told:
            self.told = True
            self.report("tunnel", detail)
