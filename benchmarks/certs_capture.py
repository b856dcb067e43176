"""A medium capture full of certificates, for bench_pcap.py --certs.

    python -m benchmarks.certs_capture OUT.pcap [--connections 400] [--servers 40] [--sans 300]
        [--intermediates 1] [--tls13-every 0]

The shape that was slow: few MB, every connection a full handshake carrying long certificates
(a leaf with hundreds of subjectAltNames, its intermediates; a client chain on most), many
distinct servers. Real handshakes (OpenSSL through Python's ssl, client and server in memory,
no root and no network needed; TLS 1.2, every `tls13_every`-th TLS 1.3) framed as
Ethernet/IPv4/TCP at a 1448-byte MSS, one connection after another. The client's NSS key log
is written next to the capture (.keys).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import ssl
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers import framing  # noqa: E402
from parsers.pcapfile import PcapWriter  # noqa: E402

MSS = 1448


def _identities(d: Path, servers: int, sans: int, intermediates: int) -> list[Path]:
    """`servers` server identities (a leaf with `sans` DNS names, then `intermediates` CAs up to
    the root), one client. The leaves share one key: only their certificates need to differ."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from tests import pki as P

    pki = P.make_pki("bench-client", org="Bench", days=3650)
    (d / "root.pem").write_bytes(pki.root.pem)
    (d / "client.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    (d / "client.key").write_bytes(pki.leaf.key_pem)
    chain = [pki.intermediate]
    for n in range(1, intermediates):
        chain.insert(0, P.issue(f"Bench Issuing CA {n}", chain[0], ca=True, org="Bench"))
    issuer, chain_pem = chain[0], b"".join(c.pem for c in chain)
    leaf_key = P.new_key()
    out = []
    for n in range(servers):
        names = [x509.DNSName(f"host{k}.tenant{n}.example.com") for k in range(sans)]
        cert = (
            x509.CertificateBuilder()
            .subject_name(P.name(f"tenant{n}.example.com", "Bench"))
            .issuer_name(issuer.cert.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(P.NOW - dt.timedelta(days=1))
            .not_valid_after(P.NOW + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
        )
        path = d / f"server{n}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + chain_pem)
        path.with_suffix(".key").write_bytes(
            leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        out.append(path)
    return out


def _exchange(
    server_pem: Path, d: Path, client_cert: bool, keylog: Path, tls13: bool = False, body: int = 0
) -> list[tuple[bool, bytes]]:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server_pem, server_pem.with_suffix(".key"))
    server_ctx.verify_mode = ssl.CERT_OPTIONAL
    server_ctx.load_verify_locations(d / "root.pem")
    server_ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.keylog_filename = str(keylog)
    if client_cert:
        client_ctx.load_cert_chain(d / "client.pem", d / "client.key")
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_side=False)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    chunks: list[tuple[bool, bytes]] = []
    for _ in range(20):
        for end in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
        moved = False
        for out, into, from_server in ((c_out, s_in, False), (s_out, c_in, True)):
            data = out.read()
            if data:
                chunks.append((from_server, data))
                into.write(data)
                moved = True
        if not moved:
            break
    client.write(b"GET / HTTP/1.0\r\n\r\n")
    chunks.append((False, c_out.read()))
    s_in.write(chunks[-1][1])
    server.read(1024)
    server.write(b"HTTP/1.0 200 OK\r\n\r\n" + bytes(body))  # `body` bytes: records of 16 KiB
    chunks.append((True, s_out.read()))
    return chunks


class _Connection:
    """One TCP connection's frames, written as they are sent."""

    def __init__(
        self, writer: PcapWriter, client: tuple[str, int], server: tuple[str, int], t: float
    ) -> None:
        self.writer, self.client, self.server, self.t = writer, client, server, t
        self.seq = {False: 1000, True: 5000}

    def send(self, from_server: bool, flags: int, payload: bytes = b"") -> None:
        (sip, sport), (dip, dport) = (self.server, self.client) if from_server else (self.client, self.server)
        seq = self.seq
        frame = framing.tcp_packet(
            sip, dip, sport, dport, seq[from_server], seq[not from_server], flags, payload
        )
        self.writer.write(self.t, frame)
        self.t += 0.0001
        seq[from_server] += len(payload) + (1 if flags & (framing.SYN | framing.FIN) else 0)

    def carry(self, chunks: list[tuple[bool, bytes]]) -> float:
        self.send(False, framing.SYN)
        self.send(True, framing.SYN | framing.ACK)
        self.send(False, framing.ACK)
        for from_server, data in chunks:
            for i in range(0, len(data), MSS):
                self.send(from_server, framing.ACK | framing.PSH, data[i : i + MSS])
        self.send(False, framing.FIN | framing.ACK)
        self.send(True, framing.FIN | framing.ACK)
        self.send(False, framing.ACK)
        return self.t


def write(
    path: Path,
    connections: int,
    servers: int,
    sans: int,
    intermediates: int = 1,
    tls13_every: int = 0,
    body: int = 0,
) -> None:
    """`body`: bytes the server sends after its status line (a download after the handshake)."""
    keylog = path.with_suffix(".keys")
    keylog.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        identities = _identities(d, servers, sans, intermediates)
        with path.open("wb") as handle:
            writer = PcapWriter(handle)
            t = 1_800_000_000.0
            for n in range(connections):
                client = (str(ipaddress.ip_address("10.1.0.1") + n // 20000), 20000 + n % 40000)
                server = (str(ipaddress.ip_address("10.2.0.1") + n % servers), 443)
                tls13 = tls13_every > 0 and n % tls13_every == tls13_every - 1
                chunks = _exchange(identities[n % servers], d, n % 4 != 0, keylog, tls13, body)
                t = _Connection(writer, client, server, t).carry(chunks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--connections", type=int, default=400)
    parser.add_argument("--servers", type=int, default=40)
    parser.add_argument("--sans", type=int, default=300)
    parser.add_argument("--intermediates", type=int, default=1)
    parser.add_argument("--tls13-every", type=int, default=0)
    args = parser.parse_args()
    write(args.out, args.connections, args.servers, args.sans, args.intermediates, args.tls13_every)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {args.connections} connections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
