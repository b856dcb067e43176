"""tshark is the oracle for decoding: on every sample capture (decrypted with its key log where
there is one, as both tools can), our handshake messages, CA names, certificates and alerts must
be the ones Wireshark's dissector finds — per connection, per direction, per frame.

This is independent of our two decoders (scapy for captures, the hand reader for the probe):
a bug they share cannot hide here."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
SAMPLES = sorted([*CAPTURES.glob("*.pcap"), *CAPTURES.glob("*.pcapng")])
TSHARK = shutil.which("tshark")

pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (apt-get install tshark)")

#: our message names → TLS HandshakeType (HelloRetryRequest is a ServerHello on the wire)
HANDSHAKE_TYPES = {
    "HelloRequest": 0,
    "ClientHello": 1,
    "ServerHello": 2,
    "HelloRetryRequest": 2,
    "NewSessionTicket": 4,
    "EndOfEarlyData": 5,
    "EncryptedExtensions": 8,
    "Certificate": 11,
    "ServerKeyExchange": 12,
    "CertificateRequest": 13,
    "ServerHelloDone": 14,
    "CertificateStatus": 22,
    "CertificateVerify": 15,
    "ClientKeyExchange": 16,
    "Finished": 20,
    "KeyUpdate": 24,
}


@dataclass
class Connection:
    """What one tool saw on one TCP connection, keyed by frame and direction."""

    messages: list[tuple[int, str, int]] = field(default_factory=list)  # frame, direction, type
    ca_name_counts: list[int] = field(default_factory=list)  # per CertificateRequest
    certificates: list[tuple[str, str]] = field(default_factory=list)  # direction, sha256
    alerts: list[tuple[int, str, int]] = field(default_factory=list)  # frame, direction, description


def key_log(capture: Path) -> Path | None:
    keys = capture.with_suffix(".keys")
    if not keys.exists() or not any(line[:1].isalpha() for line in keys.read_text().splitlines()):
        return None  # absent, or only OpenSSL's header: the handshake ended before any secret
    return keys


def ours(cli, capture: Path) -> dict[int, Connection]:  # type: ignore[no-untyped-def]
    """Our decoding, keyed by the client's port (from `pcap --json --all`)."""
    keys = key_log(capture)
    result = cli("pcap", str(capture), "--json", "--all", *(["--keylog", str(keys)] if keys else []))
    assert result.status in (0, 1), result.err
    seen: dict[int, Connection] = {}
    for conn in result.json()["connections"]:
        port = int(conn["client"].rsplit(":", 1)[1])
        c = seen.setdefault(port, Connection())
        for event in conn["events"]:
            name = event["message"].split(" (")[0]
            if "alert" in event:
                if event["alert"].get("readable", True) and event["alert"].get("description") is not None:
                    c.alerts.append((event["frame"], event["direction"], event["alert"]["description"]))
                continue
            if name not in HANDSHAKE_TYPES:
                continue  # ChangeCipherSpec, application data, opaque records
            if event["encrypted"] and not conn["decrypted"]:
                continue  # a TLS 1.2 Finished we name by position; tshark cannot without keys
            c.messages.append((event["frame"], event["direction"], HANDSHAKE_TYPES[name]))
            if name == "CertificateRequest":
                c.ca_name_counts.append(len(event["ca_names"]))
            for cert in event.get("chain", []):
                c.certificates.append((event["direction"], cert["sha256"]))
    return seen


def _values(text: str) -> list[str]:
    return [v for v in text.split(",") if v] if text else []


def theirs(capture: Path) -> dict[int, Connection]:
    """tshark's dissection, keyed by the client's port (the side that sent the ClientHello)."""
    assert TSHARK is not None
    keys = key_log(capture)
    fields = [
        "frame.number",
        "tcp.stream",
        "tcp.srcport",
        "tls.handshake.type",
        "tls.handshake.dname_len",
        "tls.handshake.certificate",
        "tls.alert_message.desc",
    ]
    command = [TSHARK, "-n", "-r", str(capture), "-Y", "tls", "-T", "fields"]
    command += ["-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    if keys:
        command += ["-o", f"tls.keylog_file:{keys}"]
    for name in fields:
        command += ["-e", name]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    # a capture cut mid-packet (truncated.pcap) makes tshark exit 2 after printing what it read
    assert done.returncode == 0 or "cut short in the middle of a packet" in done.stderr, done.stderr
    out = done.stdout
    rows = [line.split("|") for line in out.splitlines() if line]
    client_port: dict[str, int] = {}
    for _frame, stream, src, types, *_ in rows:
        if "1" in _values(types) and stream not in client_port:
            client_port[stream] = int(src)
    seen: dict[int, Connection] = defaultdict(Connection)
    for frame, stream, src, types, dname_lens, certs, alerts in rows:
        if stream not in client_port:
            continue  # a connection whose ClientHello is not in the capture
        port = client_port[stream]
        direction = "client" if int(src) == port else "server"
        c = seen[port]
        for t in _values(types):
            c.messages.append((int(frame), direction, int(t)))
            if t == "13":
                c.ca_name_counts.append(len(_values(dname_lens)))
        for cert in _values(certs):
            der = bytes.fromhex(cert.replace(":", ""))
            c.certificates.append((direction, hashlib.sha256(der).hexdigest()))
        for alert in _values(alerts):
            c.alerts.append((int(frame), direction, int(alert)))
    return dict(seen)


#: what the two tools are compared on, per connection (the fields of Connection)
ASPECTS = {
    "messages": "handshake messages (frame, direction, type)",
    "ca_name_counts": "CA names per CertificateRequest",
    "certificates": "certificates (direction, SHA-256)",
    "alerts": "alerts (frame, direction, description)",
}


def disagreements(mine: dict[int, Connection], wireshark: dict[int, Connection]) -> list[str]:
    """Where our decoding and tshark's differ: 'connections', or 'PORT: ASPECT' per field."""
    if sorted(mine) != sorted(wireshark):
        return ["connections"]
    return [
        f"{port}: {aspect}"
        for port in sorted(wireshark)
        for aspect in ASPECTS
        if getattr(mine[port], aspect) != getattr(wireshark[port], aspect)
    ]


@pytest.mark.parametrize("capture", SAMPLES, ids=[p.name for p in SAMPLES])
def test_we_decode_what_tshark_decodes(cli, capture):  # type: ignore[no-untyped-def]
    mine, wireshark = ours(cli, capture), theirs(capture)
    assert wireshark, f"tshark found no TLS connection in {capture.name}"
    assert disagreements(mine, wireshark) == [], f"{capture.name}: see ASPECTS for what each one means"


def _edited(wireshark: dict[int, Connection], port: int, aspect: str) -> dict[int, Connection]:
    """tshark's answer with one thing wrong in `aspect` of one connection: its last item dropped
    (a message, a CA-name count, a certificate, an alert missed)."""
    copy = {p: Connection(**{a: list(getattr(c, a)) for a in ASPECTS}) for p, c in wireshark.items()}
    getattr(copy[port], aspect).pop()
    return copy


def test_the_oracle_can_fail(cli):  # type: ignore[no-untyped-def]
    """A check that always agrees proves nothing: the comparison the main test makes must name
    each kind of difference — one message, CA-name count, certificate or alert less, and a
    connection more — on a real capture where both tools agree."""
    capture = CAPTURES / "tls12-unknown-ca.pcap"  # a CertificateRequest, both chains, an alert
    mine, wireshark = ours(cli, capture), theirs(capture)
    assert disagreements(mine, wireshark) == []
    (port,) = wireshark
    for aspect in ASPECTS:
        assert getattr(wireshark[port], aspect), f"{capture.name} has no {aspect} to drop"
        assert disagreements(mine, _edited(wireshark, port, aspect)) == [f"{port}: {aspect}"]
    assert disagreements(mine, {**wireshark, port + 1: Connection()}) == ["connections"]
