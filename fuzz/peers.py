"""Fuzz targets for certificates that arrive from a peer, not from a file the user gives.

A live server's certificate (`probe`) and a client's (`serve`) reach the tool through OpenSSL's
verify callback, where one exception ends the process: the round of hostile input that found
exit 70 there sent certificates whose names cryptography refuses and OpenSSL accepts. Each run
here makes such a certificate: a self-signed EC certificate whose CN value has a random ASN.1
tag (strings, SEQUENCE, BIT STRING, INTEGER, context tags) and random bytes, re-signed so OpenSSL
loads it, then

- `peer-probe`: a real TLS server on 127.0.0.1 (Python's ssl, i.e. OpenSSL) presents it, and
  `probe` (with or without --insecure) must end in a report or one line;
- `peer-serve`: a real TLS client presents it to `serve --max-connections 1`, whose line on
  stdout must be there, escaped;
- `peer-der`: the certificate itself, mutated further, read as a DER file by `keystore`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from parsers.der import element

#: tags a CN value is given: the DirectoryString choices, IA5, and what is no string at all
TAGS = (0x0C, 0x13, 0x14, 0x16, 0x1E, 0x1C, 0x30, 0x31, 0x03, 0x04, 0x02, 0x05, 0x80, 0xA0)
PIECES = (b"\x1b[31m", b"\x1b]0;T\x07", b"\xe9", b"\xff\xfe", b"\xc3\xa9", b"\x00", b"\r\n", b"#", b",+=")
_KEY = ec.generate_private_key(ec.SECP256R1())


def _value(rnd: random.Random, size: int) -> bytes:
    out = b""
    while len(out) < size:
        out += rnd.choice(PIECES) if rnd.random() < 0.5 else rnd.randbytes(rnd.randint(1, 4))
    return out[:size]


def odd_certificate(rnd: random.Random, odd: bool = True) -> bytes:
    """A self-signed certificate (DER) whose subject and issuer CN have a random tag and bytes:
    made with a placeholder CN of the same length, so no outer length changes, then re-signed.
    With `odd` False the CN stays a UTF8String (a certificate OpenSSL always loads)."""
    size = rnd.randint(1, 40)
    placeholder = "Q" * size
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, placeholder),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fz"),
        ]
    )
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_KEY.public_key())
        .serial_number(rnd.randint(1, 1 << 64))
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(_KEY, hashes.SHA256())
    )
    old = element(0x0C, placeholder.encode())
    if not odd:
        return cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes.replace(old, element(rnd.choice(TAGS), _value(rnd, size)))
    signature = _KEY.sign(tbs, ec.ECDSA(hashes.SHA256()))
    algorithm = element(0x30, element(0x06, bytes.fromhex("2a8648ce3d040302")))
    return element(0x30, tbs + algorithm + element(0x03, b"\x00" + signature))


def _pem(der: bytes) -> bytes:
    return ssl.DER_cert_to_PEM_cert(der).encode()


def key_file(work: Path) -> Path:
    path = work / "peer.key"
    if not path.exists():
        path.write_bytes(
            _KEY.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


def loadable(der: bytes, work: Path) -> bool:
    """Whether OpenSSL takes it as a certificate for a TLS context (it refuses some tags)."""
    cert = work / "check.pem"
    cert.write_bytes(_pem(der))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key_file(work))
    except ssl.SSLError:
        return False
    return True


def make_peer_certificate(rnd: random.Random, work: Path) -> bytes:
    """An odd certificate OpenSSL loads (a few tries; a plain one when none loads)."""
    for _ in range(20):
        der = odd_certificate(rnd)
        if loadable(der, work):
            return der
    return odd_certificate(rnd, odd=False)


@contextlib.contextmanager
def tls_server(der: bytes, work: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 presenting `der` to one client (bounded: 5 s to be reached)."""
    cert = work / "server.pem"
    cert.write_bytes(_pem(der))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key_file(work))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(5)

    def answer() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conn.settimeout(5)
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
        thread.join(10)


@contextlib.contextmanager
def tls_client(der: bytes, work: Path, port: int) -> Iterator[None]:
    """A TLS client presenting `der` to 127.0.0.1:port once the server listens (within 5 s)."""
    cert = work / "client.pem"
    cert.write_bytes(_pem(der))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(cert, key_file(work))

    def connect() -> None:
        deadline = dt.datetime.now() + dt.timedelta(seconds=5)
        while dt.datetime.now() < deadline:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                threading.Event().wait(0.05)
                continue
            with contextlib.suppress(OSError), context.wrap_socket(sock) as tls:
                tls.recv(1)
            return

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def probed(path: Path, work: Path, rnd: random.Random) -> Iterator[tuple[list[str], str]]:
    """`probe` of a live server presenting the certificate in `path`: (argv, what names it)."""
    with tls_server(path.read_bytes(), work) as port:
        argv = ["probe", f"127.0.0.1:{port}", "--timeout", "5"]
        yield argv + (["--insecure"] if rnd.random() < 0.5 else []), f"127.0.0.1:{port}"


@contextlib.contextmanager
def served(path: Path, work: Path) -> Iterator[tuple[list[str], str]]:
    """`serve` for one client presenting the certificate in `path`: (argv, what names it)."""
    port = free_port()
    server_cert = work / "serve.pem"
    server_cert.write_bytes(_pem(odd_certificate(random.Random(0), odd=False)))
    with tls_client(path.read_bytes(), work, port):
        key = str(key_file(work))
        argv = ["serve", "--cert", str(server_cert), "--key", key, "--client-ca", str(server_cert)]
        yield [*argv, "--port", str(port), "--max-connections", "1"], f"127.0.0.1:{port}"
