"""Capture shapes met in other projects' captures, each made at test
time: the TLS bytes come from a real handshake (OpenSSL through Python's ssl module, client and
server in memory, key log written by OpenSSL), and the packets around them are built here (TCP,
plaintext before TLS, tunnels, offload lengths) where a loopback capture cannot make the shape.
tshark is the truth where a decoder decides (test_tshark_oracle's readers)."""

from __future__ import annotations

import select
import socket
import ssl
import struct
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from parsers import framing
from parsers.pcapfile import PcapWriter
from tests import pki as P
from tests import test_tshark_oracle as oracle
from tests.helpers import tls_bytes as TB

CLIENT, SERVER = ("10.1.0.1", 40001), ("10.2.0.2", 443)
MSS = 1448
Chunk = tuple[bool, bytes]  # (from the server, bytes)


# -- real TLS bytes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Identities:
    root_pem: bytes
    root: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> Identities:
    d = tmp_path_factory.mktemp("ids")
    pki = P.make_pki("shapes-client", org="Shapes")
    server = P.issue("localhost", pki.intermediate, org="Shapes", eku=None)
    files = {
        "server.pem": server.pem + pki.intermediate.pem,
        "server.key": server.key_pem,
        "client.pem": pki.leaf.pem + pki.intermediate.pem,
        "client.key": pki.leaf.key_pem,
        "root.pem": pki.root.pem,
        "inter.pem": pki.intermediate.pem,
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    server_files, client_files = (d / "server.pem", d / "server.key"), (d / "client.pem", d / "client.key")
    return Identities(pki.root.pem, d / "root.pem", server_files, client_files)


def _version(name: str) -> ssl.TLSVersion:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        versions = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}
        return versions.get(name, ssl.TLSVersion.TLSv1_2)


def tls_exchange(
    ids: Identities,
    version: str,
    client_cert: bool = True,
    keylog: Path | None = None,
    ciphers: str = "ECDHE-RSA-AES128-SHA:AES128-SHA",
    encrypt_then_mac: bool = True,
) -> list[Chunk]:
    """One real handshake (and an HTTP request and answer when it succeeds), as the bytes each
    side wrote, in order. The server requires a client certificate. `encrypt_then_mac=False`:
    the client does not offer it (RFC 7366), so CBC records are MAC-then-encrypt."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ctx in (server_ctx, client_ctx):
        with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = _version(version)
        ctx.set_ciphers(f"{ciphers}:@SECLEVEL=0")
    server_ctx.load_cert_chain(*ids.server)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cadata=ids.root_pem.decode())
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    if client_cert:
        client_ctx.load_cert_chain(*ids.client)
    if keylog is not None:
        client_ctx.keylog_filename = str(keylog)
    if not encrypt_then_mac:
        client_ctx.options |= 0x00080000  # SSL_OP_NO_ENCRYPT_THEN_MAC (no name in the ssl module)
    pipes = {side: (ssl.MemoryBIO(), ssl.MemoryBIO()) for side in ("client", "server")}
    client = client_ctx.wrap_bio(*pipes["client"], server_side=False)
    server = server_ctx.wrap_bio(*pipes["server"], server_side=True)
    chunks: list[Chunk] = []

    def pump() -> bool:
        moved = False
        for name, peer, from_server in (("client", "server", False), ("server", "client", True)):
            data = pipes[name][1].read()
            if data:
                chunks.append((from_server, data))
                pipes[peer][0].write(data)
                moved = True
        return moved

    done = {"client": False, "server": False}
    for _ in range(50):
        for name, end in (("client", client), ("server", server)):
            if done[name]:
                continue
            try:
                end.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                done[name] = True  # the alert it sent is in its outgoing pipe
        if not pump() and all(done.values()):
            break
    try:
        client.write(b"GET / HTTP/1.0\r\n\r\n")
        pump()
        server.read(1024)
        server.write(b"HTTP/1.0 200 OK\r\n\r\nhello")
        pump()
        client.read(1024)
    except ssl.SSLError:
        pump()
    return chunks


def openssl_exchange(ids: Identities, version: str, client_cert: bool = True) -> list[Chunk]:
    """The same through real `openssl s_server` / `s_client` processes on 127.0.0.1 and a relay
    that records what each wrote (s_server sends its CA names, Python's ssl cannot)."""
    flag = {"1.0": "-tls1", "1.1": "-tls1_1", "1.2": "-tls1_2"}[version]
    weak = ["-cipher", "DEFAULT:@SECLEVEL=0"]
    identity = ["-cert", str(ids.server[0]), "-key", str(ids.server[1]), "-CAfile", str(ids.root)]
    once = ["-Verify", "3", "-verify_return_error", "-naccept", "1", "-www"]
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", "127.0.0.1:0", *identity, *once, flag, *weak],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client: subprocess.Popen[bytes] | None = None
    relay = socket.create_server(("127.0.0.1", 0))
    try:
        assert server.stdout is not None
        line = ""
        while not line.startswith("ACCEPT"):
            line = server.stdout.readline()
            assert line, "s_server did not start"
        server_port = int(line.rsplit(":", 1)[1])
        relay.settimeout(10)
        cert = ["-cert", str(ids.client[0]), "-key", str(ids.client[1])] if client_cert else []
        cert += ["-cert_chain", str(ids.root.parent / "inter.pem")] if client_cert else []
        target = f"127.0.0.1:{relay.getsockname()[1]}"
        client = subprocess.Popen(
            ["openssl", "s_client", "-connect", target, "-ign_eof", flag, *weak, *cert],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert client.stdin is not None
        client.stdin.write(b"GET / HTTP/1.0\r\n\r\n")
        client.stdin.close()
        a, _ = relay.accept()
        b = socket.create_connection(("127.0.0.1", server_port), timeout=10)
        return _relay(a, b)
    finally:
        relay.close()
        for process in (client, server):
            if process is not None:
                process.kill()
                process.wait(timeout=10)


def _relay(client: socket.socket, server: socket.socket) -> list[Chunk]:
    chunks: list[Chunk] = []
    peer = {client: server, server: client}
    open_ = {client, server}
    deadline = time.monotonic() + 10
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_), [], [], 0.5)
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                open_.discard(sock)
                peer[sock].shutdown(socket.SHUT_WR)
                continue
            from_server = sock is server
            if chunks and chunks[-1][0] == from_server:
                chunks[-1] = (from_server, chunks[-1][1] + data)
            else:
                chunks.append((from_server, data))
            peer[sock].sendall(data)
    client.close()
    server.close()
    return chunks


# -- packets around them ----------------------------------------------------------------------
Wrap = Callable[[bytes], bytes]  # an Ethernet frame (IPv4/IPv6 inside) → the frame captured


@dataclass
class Flow:
    client: tuple[str, int] = CLIENT
    server: tuple[str, int] = SERVER
    isn: tuple[int, int] = (1000, 5000)


def segments(
    chunks: list[Chunk], flow: Flow | None = None, syn: bool = True, fin: bool = True
) -> list[bytes]:
    """The Ethernet frames of one TCP connection carrying `chunks`."""
    f = flow or Flow()
    (cip, cport), (sip, sport) = f.client, f.server
    seq = {False: f.isn[0], True: f.isn[1]}
    out: list[bytes] = []

    def send(from_server: bool, flags: int, payload: bytes = b"") -> None:
        src, dst = (f.server, f.client) if from_server else (f.client, f.server)
        ack = seq[not from_server]
        out.append(framing.tcp_packet(src[0], dst[0], src[1], dst[1], seq[from_server], ack, flags, payload))
        seq[from_server] += len(payload) + (1 if flags & (framing.SYN | framing.FIN) else 0)

    if syn:
        send(False, framing.SYN)
        send(True, framing.SYN | framing.ACK)
        send(False, framing.ACK)
    else:
        seq[False] += 1
        seq[True] += 1
    for from_server, data in chunks:
        for i in range(0, len(data), MSS):
            send(from_server, framing.ACK | framing.PSH, data[i : i + MSS])
    if fin:
        send(False, framing.FIN | framing.ACK)
        send(True, framing.FIN | framing.ACK)
        send(False, framing.ACK)
    del cip, cport, sip, sport
    return out


def write_pcap(path: Path, frames: list[bytes], linktype: int = 1, wrap: Wrap | None = None) -> Path:
    with path.open("wb") as handle:
        writer = PcapWriter(handle, linktype=linktype)
        for n, frame in enumerate(frames):
            writer.write(P.NOW.timestamp() + n * 0.001, wrap(frame) if wrap else frame)
    return path


def pcap_json(cli, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    result = cli("pcap", str(path), "--json", "--all", *extra)
    assert result.status in (0, 1), result.err
    return result


def agrees_with_tshark(cli, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Our messages, CA names, certificates and alerts per connection are tshark's."""
    if oracle.TSHARK is None:
        return
    mine, theirs = oracle.ours(cli, path), oracle.theirs(path)
    assert theirs, "tshark saw no TLS"
    assert oracle.disagreements(mine, theirs) == []


def messages(connection: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["message"].split(" (")[0].split(" [")[0] for e in connection["events"]]


# -- point 8: CertificateRequest before TLS 1.2 -----------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_legacy_certificate_request_is_read(cli, ids, tmp_path, version):  # type: ignore[no-untyped-def]
    chunks = openssl_exchange(ids, version, client_cert=True)
    path = write_pcap(tmp_path / f"tls{version}-mtls.pcap", segments(chunks))
    doc = pcap_json(cli, path).json()
    (conn,) = doc["connections"]
    assert conn["version"] == f"TLS {version}"
    assert conn["cert_requested"] == "yes"
    assert conn["client_cert"] == "CN=shapes-client"
    assert conn["problems"] == []
    request = next(e for e in conn["events"] if e["message"].startswith("CertificateRequest"))
    assert request["ca_names"] == ["CN=Shapes Root CA,O=Shapes"]
    assert doc["findings"] == []
    agrees_with_tshark(cli, path)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_legacy_empty_client_certificate_is_diagnosed(cli, ids, tmp_path, version):  # type: ignore[no-untyped-def]
    chunks = tls_exchange(ids, version, client_cert=False)
    path = write_pcap(tmp_path / f"tls{version}-nocert.pcap", segments(chunks))
    result = pcap_json(cli, path)
    assert result.status == 1
    (conn,) = result.json()["connections"]
    assert (conn["cert_requested"], conn["client_cert"]) == ("yes", "empty")
    assert result.error_codes() == ["client-cert-not-sent", "server-rejected-client-cert"]
    agrees_with_tshark(cli, path)


def test_legacy_request_without_server_hello(cli, ids, tmp_path):  # type: ignore[no-untyped-def]
    """A capture that starts after the ServerHello: the request's layout is found by trying."""
    chunks = tls_exchange(ids, "1.0", client_cert=False)
    # drop the client's ClientHello and the ServerHello record (first of the server's flight)
    server_flight = chunks[1][1]
    hello_len = struct.unpack("!H", server_flight[3:5])[0] + 5
    cut = [(True, server_flight[hello_len:]), *chunks[2:]]
    path = write_pcap(tmp_path / "tls10-late.pcap", segments(cut))
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert conn["cert_requested"] == "yes"
    assert "CertificateRequest" in messages(conn)


# -- point 13: JSON that cannot mislead -------------------------------------------------------
def test_unreadable_alert_has_no_description(cli, ids, tmp_path):  # type: ignore[no-untyped-def]
    """Without keys a TLS 1.2 alert after the handshake cannot be read: no level, no
    description 0 (close_notify's number), and the event says it was encrypted."""
    chunks = tls_exchange(ids, "1.2", client_cert=True)
    chunks.append((False, TB.record(TB.ALERT, bytes(range(32)))))  # an encrypted alert record
    path = write_pcap(tmp_path / "tls12-enc-alert.pcap", segments(chunks))
    (conn,) = pcap_json(cli, path).json()["connections"]
    alert = next(e for e in conn["events"] if "alert" in e)
    assert alert["encrypted"] is True
    assert alert["alert"] == {"level": None, "description": None, "name": None, "readable": False}
    assert conn["outcome"] == "completed"


def _with_alert(chunks: list[Chunk], description: int) -> list[Chunk]:
    """The server's plaintext fatal alert (the last chunk) with another description: alerts are
    not covered by any MAC or transcript before ChangeCipherSpec, so the capture stays coherent."""
    from_server, last = chunks[-1]
    assert from_server and last[:1] == b"\x15" and last[5] == 2, last.hex()
    return [*chunks[:-1], (True, last[:6] + bytes([description]) + last[7:])]


@pytest.mark.parametrize(("description", "name"), [(42, "bad_certificate"), (48, "unknown_ca")])
def test_empty_certificate_rejected_with_any_alert_says_none_was_sent(  # type: ignore[no-untyped-def]
    cli, ids, tmp_path, description, name
):
    chunks = _with_alert(tls_exchange(ids, "1.2", client_cert=False), description)
    path = write_pcap(tmp_path / f"empty-{name}.pcap", segments(chunks))
    result = pcap_json(cli, path)
    rejected = next(f for f in result.json()["findings"] if f["code"] == "server-rejected-client-cert")
    assert rejected["summary"] == (
        f"the server answered an empty Certificate with a fatal {name} alert: no certificate was "
        f"sent, so {name} here means the server requires one (servers name a missing certificate "
        "with various alerts)"
    )
    assert rejected["fix"] == "configure the client certificate; see why it was not sent"
    assert "chain order" not in result.out
    agrees_with_tshark(cli, path)


# -- point 9: plaintext before TLS, SSLv2-format ClientHello ----------------------------------
C, S = False, True
#: protocol → (server port, the plaintext dialogue before the ClientHello)
UPGRADES: dict[str, tuple[int, list[Chunk]]] = {
    "smtp": (
        25,
        [
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO c\r\n"),
            (S, b"250-mx\r\n250 STARTTLS\r\n"),
            (C, b"STARTTLS\r\n"),
            (S, b"220 2.0.0 Ready to start TLS\r\n"),
        ],
    ),
    "imap": (143, [(S, b"* OK IMAP4rev1 ready\r\n"), (C, b"a1 STARTTLS\r\n"), (S, b"a1 OK Begin TLS\r\n")]),
    "pop3": (110, [(S, b"+OK POP3 ready\r\n"), (C, b"STLS\r\n"), (S, b"+OK Begin TLS\r\n")]),
    "ftp": (21, [(S, b"220 FTP ready\r\n"), (C, b"AUTH TLS\r\n"), (S, b"234 AUTH TLS ok\r\n")]),
    "xmpp": (
        5222,
        [
            (
                C,
                b"<?xml version='1.0'?><stream:stream to='x' xmlns='jabber:client' "
                b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
            ),
            (
                S,
                b"<?xml version='1.0'?><stream:stream from='x' id='1' version='1.0'><stream:features>"
                b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
            ),
            (C, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
            (S, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        ],
    ),
    "ldap": (
        389,
        [
            (C, bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"),
            (S, bytes.fromhex("300c02010178070a010004000400")),
        ],
    ),
    "postgresql": (5432, [(C, bytes.fromhex("0000000804d2162f")), (S, b"S")]),
    "mysql": (
        3306,
        [
            (
                S,
                bytes.fromhex("4a0000000a382e302e3333000b000000")
                + b"abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15"
                + bytes(10)
                + b"ijklmnopqrst\x00caching_sha2_password\x00",
            ),
            (C, bytes.fromhex("2000000185ae7f0000000001ff") + bytes(23)),
        ],
    ),
    "http-connect": (
        3128,
        [
            (C, b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"),
            (S, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        ],
    ),
    "socks5": (
        1080,
        [
            (C, b"\x05\x01\x00"),
            (S, b"\x05\x00"),
            (C, b"\x05\x01\x00\x03\x09localhost\x01\xbb"),
            (S, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x01\xbb"),
        ],
    ),
}


@pytest.fixture(scope="module")
def mtls12(ids: Identities) -> list[Chunk]:
    return tls_exchange(ids, "1.2", client_cert=True)


@pytest.mark.parametrize("protocol", sorted(UPGRADES))
def test_plaintext_before_tls_keeps_the_connection(cli, mtls12, tmp_path, protocol):  # type: ignore[no-untyped-def]
    port, dialogue = UPGRADES[protocol]
    flow = Flow(server=(SERVER[0], port))
    path = write_pcap(tmp_path / f"{protocol}.pcap", segments([*dialogue, *mtls12], flow))
    result = pcap_json(cli, path)
    doc = result.json()
    (conn,) = doc["connections"]
    assert (conn["client"], conn["server"]) == (f"{CLIENT[0]}:{CLIENT[1]}", f"{SERVER[0]}:{port}")
    assert conn["problems"] == []
    assert conn["start_time"] == doc["connections"][0]["start_time"]
    first = conn["events"][0]
    assert (first["message"], first["direction"], first["frame"]) == (
        "ClientHello",
        "client",
        4 + len(dialogue),
    )
    assert first["time"] == round(0.001 * (3 + len(dialogue)), 6)  # since the SYN, frame 1
    assert (conn["cert_requested"], conn["client_cert"], conn["outcome"]) == (
        "yes",
        "CN=shapes-client",
        "completed",
    )
    assert "non-TLS" not in cli("pcap", str(path)).out.splitlines()[0]
    assert "capture starts inside" not in result.out


def test_plain_http_is_not_tls_whatever_its_body_holds(cli, tmp_path):  # type: ignore[no-untyped-def]
    """A long plaintext exchange whose body later holds TLS-looking bytes at a segment start is
    never a TLS connection, in one piece or cut in two by the end of the plaintext allowance."""
    looks_tls = TB.record(TB.HANDSHAKE, bytes([TB.CLIENT_HELLO]), TB.TLS10, length=0x30)  # a header, a type
    body = (looks_tls + bytes(100)) * 500
    dialogue: list[Chunk] = [
        (C, b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\n\r\n" + body),
    ]
    path = write_pcap(tmp_path / "http.pcap", segments(dialogue, Flow(server=(SERVER[0], 80))))
    result = pcap_json(cli, path)
    assert result.json()["connections"] == []
    assert "1 non-TLS TCP connection(s) ignored" in cli("pcap", str(path)).out


def _sslv2_hello(tls_hello_record: bytes) -> bytes:
    """The SSLv2-format ClientHello (RFC 5246 E.2) a client offering TLS 1.0 would send in
    place of this one: same version, same suites, a 32-byte challenge (its random)."""
    body = tls_hello_record[9:]
    version, random = body[:2], body[2:34]
    pos = 34 + 1 + body[34]
    suites = body[pos + 2 : pos + 2 + struct.unpack_from("!H", body, pos)[0]]
    specs = b"".join(b"\x00" + suites[k : k + 2] for k in range(0, len(suites), 2))
    v2 = b"\x01" + version + struct.pack("!HHH", len(specs), 0, 32) + specs + random
    return struct.pack("!H", 0x8000 | len(v2)) + v2


def test_sslv2_format_client_hello(cli, tmp_path, ids):  # type: ignore[no-untyped-def]
    """The client's first flight in SSLv2 format, the server answering in TLS 1.0 (real bytes
    from the server; the ServerKeyExchange signature covers the challenge as client random)."""
    chunks = tls_exchange(ids, "1.0", client_cert=False)
    hello = _sslv2_hello(chunks[0][1])
    path = write_pcap(tmp_path / "sslv2-hello.pcap", segments([(C, hello), *chunks[1:]]))
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert conn["client"] == f"{CLIENT[0]}:{CLIENT[1]}" and conn["problems"] == []
    assert messages(conn)[:6] == [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "CertificateRequest",
        "ServerHelloDone",
    ]
    ske = next(e for e in conn["events"] if e["message"] == "ServerKeyExchange")
    assert ske["signature"] == "valid"
    assert (conn["cert_requested"], conn["client_cert"]) == ("yes", "empty")
    agrees_with_tshark(cli, path)


# -- point 10: one TCP stream is one connection -----------------------------------------------
def _late(frames: list[bytes], extra: list[bytes]) -> list[bytes]:
    return [*frames, *extra]


def test_retransmission_after_fin_and_data_after_rst_open_nothing(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    frames = segments(mtls12)
    last_server = next(f for f in reversed(frames[:-3]) if f[34:36] == struct.pack("!H", SERVER[1]))
    rst = framing.tcp_packet(CLIENT[0], SERVER[0], CLIENT[1], SERVER[1], 1, 0, framing.RST)
    path = write_pcap(tmp_path / "late.pcap", _late(frames, [last_server, last_server, rst, last_server]))
    doc = pcap_json(cli, path).json()
    (conn,) = doc["connections"]
    assert conn["problems"] == [] and conn["outcome"] == "completed"


def test_tcp_fast_open_hello_in_the_syn(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    frames = segments(mtls12)
    hello = mtls12[0][1]
    assert len(hello) <= MSS
    syn = framing.tcp_packet(CLIENT[0], SERVER[0], CLIENT[1], SERVER[1], 1000, 0, framing.SYN, hello)
    # the SYN carries the ClientHello; the segment that carried it on its own is gone
    path = write_pcap(tmp_path / "tfo.pcap", [syn, frames[1], frames[2], *frames[4:]])
    (conn,) = pcap_json(cli, path).json()["connections"]
    first = conn["events"][0]
    assert (first["message"], first["frame"]) == ("ClientHello", 1)
    assert conn["problems"] == [] and conn["outcome"] == "completed"
    agrees_with_tshark(cli, path)


def test_a_second_isn_from_the_server(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    """Two SYN-ACKs with different ISNs (a Fast Open fallback, a middlebox), the data following
    the second, the first retransmitted late: no gap of a billion bytes, no phantom."""
    frames = segments(mtls12, Flow(isn=(1000, 900_000_000)))
    stale = framing.tcp_packet(
        SERVER[0], CLIENT[0], SERVER[1], CLIENT[1], 3_000_000_000, 1001, framing.SYN | framing.ACK
    )
    path = write_pcap(
        tmp_path / "isn.pcap", [frames[0], stale, frames[1], stale, *frames[2:6], stale, *frames[6:]]
    )
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert conn["problems"] == [] and conn["outcome"] == "completed"
    assert messages(conn)[:2] == ["ClientHello", "ServerHello"]


# -- point 11: everything the capture holds is read or named ----------------------------------
def _ip(frame: bytes) -> bytes:
    return frame[14:]  # framing.tcp_packet: a 14-byte Ethernet header, then IP


def _eth(ethertype: int, payload: bytes) -> bytes:
    return framing.ETH_DST + framing.ETH_SRC + struct.pack("!H", ethertype) + payload


def _outer_ipv4(proto: int, payload: bytes) -> bytes:
    from scapy.layers.inet import IP

    return bytes(IP(src="192.0.2.1", dst="192.0.2.2", proto=proto) / payload)  # type: ignore[no-untyped-call]


def _udp(port: int, payload: bytes) -> bytes:
    from scapy.layers.inet import IP, UDP

    outer = IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40000, dport=port) / payload  # type: ignore[no-untyped-call,operator]
    return _eth(0x0800, bytes(outer))


def _pppoe(frame: bytes) -> bytes:
    ip = _ip(frame)
    return _eth(0x8864, struct.pack("!BBHH", 0x11, 0, 0x1234, len(ip) + 2) + b"\x00\x21" + ip)


def _gre(frame: bytes) -> bytes:
    return _eth(0x0800, _outer_ipv4(47, struct.pack("!HH", 0, 0x0800) + _ip(frame)))


def _gre_keyed_ethernet(frame: bytes) -> bytes:
    return _eth(0x0800, _outer_ipv4(47, struct.pack("!HHI", 0x2000, 0x6558, 7) + frame))


def _ipip(frame: bytes) -> bytes:
    return _eth(0x0800, _outer_ipv4(4, _ip(frame)))


def _4in6(frame: bytes) -> bytes:
    from scapy.layers.inet6 import IPv6

    outer = IPv6(src="2001:db8::1", dst="2001:db8::2", nh=4) / _ip(frame)  # type: ignore[no-untyped-call]
    return _eth(0x86DD, bytes(outer))


def _vxlan(frame: bytes) -> bytes:
    return _udp(4789, struct.pack("!II", 0x08000000, 42 << 8) + frame)


def _geneve(frame: bytes) -> bytes:
    option = struct.pack("!HBB", 0x0103, 0x80, 1) + b"\x00" * 4  # one 8-byte option
    return _udp(6081, struct.pack("!BBHI", len(option) // 4, 0, 0x6558, 42 << 8) + option + frame)


def _gtp(frame: bytes) -> bytes:
    ip = _ip(frame)
    header = struct.pack("!BBHI", 0x32, 0xFF, len(ip) + 4, 0x1234) + struct.pack("!HBB", 1, 0, 0)
    return _udp(2152, header + ip)


def _capwap(frame: bytes) -> bytes:
    """CAPWAP data, native 802.11 (binding 1), the frame control byte-swapped as some access
    points write it, LLC/SNAP before the IP packet."""
    header = bytes([0x00, 0x20, 0x03, 0x20]) + bytes(12)  # HLEN 4 words, WBID 1, T=1
    dot11 = bytes([0x01, 0x08]) + bytes(22)  # swapped: flags 0x01 (to DS), type data
    return _udp(5247, header + dot11 + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + _ip(frame))


def _cisco_metadata(frame: bytes) -> bytes:
    return _eth(0x8909, bytes([1, 1, 0, 1, 0, 10]) + b"\x08\x00" + _ip(frame))


def _ipv4_total_length_0(frame: bytes) -> bytes:
    """Segmentation offload: the IPv4 header's total length left 0."""
    return frame[:16] + b"\x00\x00" + frame[18:]


TUNNELS: dict[str, tuple[Wrap, int]] = {
    "pppoe": (_pppoe, 1),
    "gre": (_gre, 1),
    "gre-ethernet-keyed": (_gre_keyed_ethernet, 1),
    "ipip": (_ipip, 1),
    "4in6": (_4in6, 1),
    "vxlan": (_vxlan, 1),
    "geneve": (_geneve, 1),
    "gtp-u": (_gtp, 1),
    "capwap": (_capwap, 1),
    "cisco-metadata": (_cisco_metadata, 1),
    "ipv4-total-length-0": (_ipv4_total_length_0, 1),
}


@pytest.mark.parametrize("shape", sorted(TUNNELS))
def test_encapsulated_connections_are_read(cli, mtls12, tmp_path, shape):  # type: ignore[no-untyped-def]
    wrap, linktype = TUNNELS[shape]
    path = write_pcap(tmp_path / f"{shape}.pcap", segments(mtls12), linktype, wrap)
    doc = pcap_json(cli, path).json()
    (conn,) = doc["connections"]
    assert (conn["client"], conn["server"]) == (f"{CLIENT[0]}:{CLIENT[1]}", f"{SERVER[0]}:{SERVER[1]}")
    assert (conn["problems"], conn["outcome"], conn["client_cert"]) == ([], "completed", "CN=shapes-client")
    assert doc["capture"]["problems"] == []
    agrees_with_tshark(cli, path)


def test_6in4(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    flow = Flow(client=("2001:db8:1::1", 40001), server=("2001:db8:2::2", 443))

    def wrap(frame: bytes) -> bytes:
        return _eth(0x0800, _outer_ipv4(41, _ip(frame)))

    path = write_pcap(tmp_path / "6in4.pcap", segments(mtls12, flow), 1, wrap)
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert (conn["client"], conn["outcome"]) == ("[2001:db8:1::1]:40001", "completed")
    agrees_with_tshark(cli, path)


def test_an_encapsulation_not_opened_is_named(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    def wrap(frame: bytes) -> bytes:  # GRE carrying a protocol this reader does not open
        return _eth(0x0800, _outer_ipv4(47, struct.pack("!HH", 0, 0x0101) + _ip(frame)))

    frames = segments(mtls12)
    path = write_pcap(tmp_path / "gre-other.pcap", frames, 1, wrap)
    result = cli("pcap", str(path), "--json")
    doc = result.json()
    assert doc["connections"] == []
    assert doc["capture"]["problems"] == [f"{len(frames)} packet(s) in GRE (protocol 0x0101) not read"]


# -- point 12: a key log never makes it worse -------------------------------------------------
@pytest.mark.parametrize("etm", [True, False], ids=["encrypt-then-mac", "mac-then-encrypt"])
@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_cbc_handshakes_are_decrypted_with_a_key_log(cli, ids, tmp_path, version, etm):  # type: ignore[no-untyped-def]
    """Each record's MAC checked, whichever order the two sides agreed on."""
    path = tmp_path / f"tls{version}-keys.pcap"
    keys = path.with_suffix(".keys")  # where test_tshark_oracle's reader looks for it
    chunks = tls_exchange(ids, version, client_cert=True, keylog=keys, encrypt_then_mac=etm)
    assert any(b"\x00\x16\x00\x00" in data for from_server, data in chunks if from_server) is etm
    write_pcap(path, segments(chunks))
    without = pcap_json(cli, path).json()["connections"][0]
    (conn,) = pcap_json(cli, path, "--keylog", str(keys)).json()["connections"]
    assert conn["decrypted"] is True and conn["problems"] == []
    assert (conn["outcome"], without["outcome"]) == ("completed", "completed")
    finished = [(e["direction"], e["encrypted"]) for e in conn["events"] if e["message"] == "Finished"]
    assert finished == [("client", True), ("server", True)]
    data = [e["message"] for e in conn["events"] if e["message"].startswith("ApplicationData")]
    assert data[-1] == 'ApplicationData 24 bytes "HTTP/1.0 200 OK"'  # the server's answer, read
    agrees_with_tshark(cli, path)


def test_a_key_log_that_does_not_open_the_records_changes_nothing(cli, ids, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "tls10-wrong-keys.pcap"
    keys = tmp_path / "real.keys"
    chunks = tls_exchange(ids, "1.0", client_cert=True, keylog=keys)
    write_pcap(path, segments(chunks))
    label, random, _secret = keys.read_text().splitlines()[-1].split()
    wrong = tmp_path / "wrong.keys"
    wrong.write_text(f"{label} {random} {'00' * 48}\n")
    without = pcap_json(cli, path).json()["connections"][0]
    (conn,) = pcap_json(cli, path, "--keylog", str(wrong)).json()["connections"]
    assert conn["outcome"] == without["outcome"] == "completed"
    assert messages(conn)[: len(messages(without))] == messages(without)
    assert [p["kind"] for p in conn["problems"]] == ["undecryptable", "undecryptable"]


def _records(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        length = struct.unpack_from("!H", data, pos + 3)[0]
        out.append(data[pos : pos + 5 + length])
        pos += 5 + length
    return out


def test_after_an_unframeable_handshake_message_the_direction_is_still_read(cli, ids, tmp_path):  # type: ignore[no-untyped-def]
    """A handshake record announcing a 16 MiB message in the server's flight: reported, and the
    rest of the server's direction (its certificate, CCS, Finished, data) still read."""
    chunks = tls_exchange(ids, "1.2", client_cert=True)
    flight = _records(chunks[1][1])
    bogus = TB.record(TB.HANDSHAKE, TB.handshake(TB.CERTIFICATE, b"", length=0xFFFFFF))
    chunks[1] = (True, flight[0] + bogus + b"".join(flight[1:]))
    path = write_pcap(tmp_path / "absurd.pcap", segments(chunks))
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert [(p["kind"], p["detail"]) for p in conn["problems"]] == [
        ("malformed", "handshake message of 16777215 bytes announced: absurd, skipped")
    ]
    assert conn["outcome"] == "completed"
    server = [m for m, e in zip(messages(conn), conn["events"], strict=True) if e["direction"] == "server"]
    assert server[:7] == [
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "CertificateRequest",
        "ServerHelloDone",
        "NewSessionTicket",
        "ChangeCipherSpec",
    ]


def test_a_segment_the_capture_lost_is_known_at_the_peers_ack(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    """The server's first segment is missing from the capture; the client's next segment
    acknowledges it: what the server sent after it is read there, in order, not at the end of
    the capture (the ladder stays in frame order)."""
    frames = segments(mtls12)
    server_port = struct.pack("!H", SERVER[1])
    first_server_data = next(i for i, f in enumerate(frames) if i > 2 and f[34:36] == server_port)
    kept = frames[:first_server_data] + frames[first_server_data + 1 :]
    path = write_pcap(tmp_path / "lost.pcap", kept)
    (conn,) = pcap_json(cli, path).json()["connections"]
    frames_seen = [e["frame"] for e in conn["events"]]
    assert frames_seen == sorted(frames_seen)
    (gap,) = [p for p in conn["problems"] if p["kind"] == "gap"]
    client_port = struct.pack("!H", CLIENT[1])
    # the client's next segment (after the rest of the server's flight): its ACK covers the loss
    acking = 1 + next(i for i, f in enumerate(kept) if i >= first_server_data and f[34:36] == client_port)
    assert gap["frame"] == acking
    assert [e["frame"] for e in conn["events"] if e["message"] == "ServerHelloDone"] == [acking]
    assert messages(conn)[0] == "ClientHello" and "ServerHello" not in messages(conn)


def test_data_from_another_sequence_space_is_no_gigabyte_gap(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    frames = segments(mtls12)
    stray = framing.tcp_packet(
        SERVER[0], CLIENT[0], SERVER[1], CLIENT[1], 1_000_005_001, 1001, 0x18, b"x" * 100
    )
    path = write_pcap(tmp_path / "stray.pcap", [*frames[:4], stray, *frames[4:]])
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert conn["problems"] == [] and conn["outcome"] == "completed"


def test_a_null_cipher_is_read_without_a_key_log(cli, ids, tmp_path):  # type: ignore[no-untyped-def]
    """TLS_RSA_WITH_NULL_SHA (Grid/GSI services still use it): nothing is encrypted, so the
    Finished messages are read (tshark reads them too), the MAC stripped."""
    chunks = tls_exchange(ids, "1.2", client_cert=True, ciphers="NULL-SHA")
    path = write_pcap(tmp_path / "null-sha.pcap", segments(chunks))
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert (conn["decrypted"], conn["outcome"], conn["problems"]) == (True, "completed", [])
    finished = [e["direction"] for e in conn["events"] if e["message"] == "Finished"]
    assert finished == ["client", "server"]
    agrees_with_tshark(cli, path)


def test_a_capture_that_starts_at_the_syn_ack(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    """The client's SYN was not captured: the SYN-ACK's acknowledgement gives its ISN, so the
    client's first bytes are its first bytes, not 'inside the connection'."""
    path = write_pcap(tmp_path / "from-syn-ack.pcap", segments(mtls12)[1:])
    (conn,) = pcap_json(cli, path).json()["connections"]
    assert (conn["client"], conn["problems"], conn["outcome"]) == (
        f"{CLIENT[0]}:{CLIENT[1]}",
        [],
        "completed",
    )


def _until_client_finished(chunks: list[Chunk]) -> list[Chunk]:
    """The exchange up to the client's Certificate ... Finished flight (the server's answer cut)."""
    flight = next(i for i, (from_server, data) in enumerate(chunks) if not from_server and i > 0)
    return chunks[: flight + 1]


def test_closed_after_an_alert_is_not_closed_without_one(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    encrypted_alert = (False, TB.record(TB.ALERT, bytes(32)))
    frames = segments([*_until_client_finished(mtls12), encrypted_alert])
    path = write_pcap(tmp_path / "alert-then-fin.pcap", frames)
    result = pcap_json(cli, path)
    assert "connection-reset" not in result.codes()
    (conn,) = result.json()["connections"]
    assert conn["events"][-1]["alert"]["readable"] is False


def test_a_reset_right_after_the_client_flight_is_still_named(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    frames = segments(_until_client_finished(mtls12), fin=False)
    rst = framing.tcp_packet(SERVER[0], CLIENT[0], SERVER[1], CLIENT[1], 1, 0, framing.RST)
    path = write_pcap(tmp_path / "rst.pcap", [*frames, rst])
    result = pcap_json(cli, path)
    reset = next(f for f in result.json()["findings"] if f["code"] == "connection-reset")
    assert reset["summary"] == (
        "the server reset (RST) the connection during the handshake, after Finished, without a TLS "
        "alert: the server likely rejected the client certificate silently"
    )


def test_a_capture_that_starts_after_the_handshake_claims_no_handshake_reset(cli, mtls12, tmp_path):  # type: ignore[no-untyped-def]
    """Only application data and a FIN were captured: nothing says a handshake was cut short."""
    frames = segments(mtls12)
    data_only = [f for f in frames[-5:] if f[47] & framing.PSH or f[47] & framing.FIN]
    path = write_pcap(tmp_path / "late-start.pcap", data_only)
    result = pcap_json(cli, path)
    assert "connection-reset" not in result.codes()
    assert result.json()["connections"][0]["problems"][0]["kind"] == "mid-stream"
