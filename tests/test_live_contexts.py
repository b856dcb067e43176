"""The one builder of OpenSSL contexts (inspector/live/contexts.py): a client and a server context
built there complete a real mutual-TLS handshake with each other (OpenSSL over memory BIOs, no
socket), each side's options doing what they say: the version pin, the CA names, the chain
presented without its root, the callbacks."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from OpenSSL import SSL, crypto

from inspector.keystore.model import KeyEntry
from inspector.live.attempt import Target
from inspector.live.contexts import client_context, server_context
from inspector.system.errors import InputError
from tests import pki as P


@pytest.fixture(scope="module")
def pki() -> P.Pki:
    return P.make_pki("contexts-client")


@pytest.fixture
def files(tmp_path: Path, pki: P.Pki) -> Path:
    server = P.issue("localhost", pki.intermediate, eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    (tmp_path / "server.pem").write_bytes(server.pem + pki.intermediate.pem)
    (tmp_path / "server.key").write_bytes(server.key_pem)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    (tmp_path / "inter.pem").write_bytes(pki.intermediate.pem)
    return tmp_path


def _target(files: Path, version: str | None) -> Target:
    return Target("localhost", 443, None, version, 5.0, str(files / "root.pem"), False, None)


class Seen:
    """What the callbacks were given."""

    def __init__(self) -> None:
        self.keylog: list[bytes] = []
        self.verified: list[tuple[int, int, bool]] = []  # depth, errnum, ok

    def log(self, _conn: SSL.Connection, line: bytes) -> None:
        self.keylog.append(line)

    def verify(self, _conn: SSL.Connection, _cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
        self.verified.append((depth, errnum, bool(ok)))
        return bool(ok)


def _handshake(client_ctx: SSL.Context, server_ctx: SSL.Context) -> tuple[SSL.Connection, SSL.Connection]:
    """Both sides over memory BIOs until each has finished (or OpenSSL refuses: SSL.Error)."""
    client, server = SSL.Connection(client_ctx, None), SSL.Connection(server_ctx, None)
    client.set_connect_state()
    client.set_tlsext_host_name(b"localhost")
    server.set_accept_state()
    done: set[int] = set()
    for _ in range(20):
        for me, peer in ((client, server), (server, client)):
            try:
                me.do_handshake()
                done.add(id(me))
            except SSL.WantReadError:
                pass
            with contextlib.suppress(SSL.WantReadError):
                peer.bio_write(me.bio_read(1 << 20))
        if len(done) == 2:
            return client, server
    raise AssertionError("the handshake did not finish")


def test_a_client_and_a_server_built_here_complete_mutual_tls(files: Path, pki: P.Pki) -> None:
    entry = KeyEntry("me", (pki.leaf.cert, pki.intermediate.cert, pki.root.cert), pki.leaf.key)
    client_seen, server_seen = Seen(), Seen()
    client_ctx = client_context(_target(files, "1.2"), client_seen.log, client_seen.verify, entry)
    server_ctx = server_context(
        files / "server.pem", files / "server.key", [files / "root.pem"], server_seen.verify
    )
    client, server = _handshake(client_ctx, server_ctx)
    assert client.get_protocol_version_name() == "TLSv1.2"  # the client's pin
    # the server named the subjects of what it trusts; it verified the client's chain, sent
    # without its root (as Java sends it) and completed from the trusted root
    assert [n.der() for n in client.get_client_ca_list()] == [pki.root.cert.subject.public_bytes()]
    leaf = server.get_peer_certificate(as_cryptography=True)
    above = server.get_peer_cert_chain(as_cryptography=True) or []  # a server's excludes the leaf
    assert leaf is not None and leaf.subject == pki.leaf.cert.subject
    assert [c.subject for c in above] == [pki.intermediate.cert.subject]
    assert server_seen.verified == [(2, 0, True), (1, 0, True), (0, 0, True)]
    assert client_seen.verified == [(2, 0, True), (1, 0, True), (0, 0, True)]
    assert [line.split()[0] for line in client_seen.keylog] == [b"CLIENT_RANDOM"]


def test_the_version_pins_and_the_ca_names_are_the_callers(files: Path, pki: P.Pki) -> None:
    seen = Seen()
    tls13 = server_context(
        files / "server.pem",
        files / "server.key",
        [files / "root.pem"],
        seen.verify,
        ca_names=[files / "inter.pem"],
        optional=True,
        tls_version="1.3",
    )
    with pytest.raises(SSL.Error):
        _handshake(client_context(_target(files, "1.2"), seen.log, seen.verify), tls13)
    client, server = _handshake(client_context(_target(files, None), seen.log, seen.verify), tls13)
    assert client.get_protocol_version_name() == "TLSv1.3"
    assert [n.der() for n in client.get_client_ca_list()] == [pki.intermediate.cert.subject.public_bytes()]
    assert server.get_peer_certificate() is None  # optional: no certificate, still completed
    unnamed = server_context(
        files / "server.pem",
        files / "server.key",
        [files / "root.pem"],
        seen.verify,
        optional=True,
        send_ca_names=False,
    )
    client, _ = _handshake(client_context(_target(files, "1.3"), seen.log, seen.verify), unnamed)
    assert client.get_client_ca_list() == []


def test_server_files_that_do_not_load_are_one_line(files: Path) -> None:
    (files / "broken.pem").write_text("not a certificate\n")
    with pytest.raises(InputError) as caught:
        server_context(files / "broken.pem", files / "server.key", [], Seen().verify)
    line = caught.value.line()
    assert "\n" not in line
    assert line.startswith(f"{files / 'broken.pem'} / {files / 'server.key'}: cannot load (")
    assert line.endswith("give PEM files: the server chain and its key")
