"""The one place OpenSSL contexts are built, for the probe's client and the reference server:
the version pin, what each side trusts and how it verifies, and the certificate and key it
presents. The callbacks (key log, verify) belong to the caller, which records what they see.

pyOpenSSL is imported when a context is built, not with this module: it is slow to import, and
most commands never make a handshake."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from inspector.live.rsassa_pss import install_private_key
from inspector.system.errors import InputError

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto

    from inspector.keystore.model import KeyEntry
    from inspector.live.attempt import Target

#: OpenSSL's verify callback: (connection, certificate, error number, depth, OpenSSL's ok) → go on
VerifyCallback = Callable[["SSL.Connection", "crypto.X509", int, int, int], bool]
#: OpenSSL's key-log callback: (connection, one NSS key-log line)
KeylogCallback = Callable[["SSL.Connection", bytes], None]


def pin_version(ctx: SSL.Context, tls_version: str | None) -> None:
    """`--tls-version 1.2|1.3`: that version only; None leaves OpenSSL's range."""
    from OpenSSL import SSL

    versions = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
    if tls_version:
        ctx.set_min_proto_version(versions[tls_version])
        ctx.set_max_proto_version(versions[tls_version])


def client_context(
    target: Target,
    keylog: KeylogCallback,
    verify: VerifyCallback,
    entry: KeyEntry | None = None,
    *,
    sha1_signing: bool = False,
) -> SSL.Context:
    """The probe's client: it verifies the server (the callback records each problem and goes
    on), trusts `target.ca_file` or the system store, and presents `entry` (None: no
    certificate; the caller has checked that OpenSSL holds its key). `sha1_signing`: a TLS 1.2
    server that offers only SHA-1 signatures, which Java (11-21) signs with and OpenSSL 3
    refuses below security level 1 (it would send an empty Certificate instead)."""
    from OpenSSL import SSL

    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    pin_version(ctx, target.tls_version)
    ctx.set_keylog_callback(keylog)
    # a server without RFC 5746 renegotiation_info: OpenSSL 3 refuses it, Java connects
    # (allowLegacyHelloMessages) — connect as Java does; the wire rules say what it means
    ctx.set_options(SSL.OP_LEGACY_SERVER_CONNECT)
    ctx.set_verify(SSL.VERIFY_PEER, verify)
    if target.ca_file:
        ctx.load_verify_locations(target.ca_file)
    elif not target.insecure:
        ctx.set_default_verify_paths()
    if entry is not None:
        present(ctx, entry)
    if sha1_signing:  # after the certificate: its key is held to the default level, as before
        ctx.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
    return ctx


def present(ctx: SSL.Context, entry: KeyEntry) -> None:
    """The entry's chain and key on `ctx`, as Java sends them: the root is left out."""
    assert entry.private_key is not None and entry.chain
    # pyOpenSSL 24+ takes cryptography objects directly (its own types are deprecated)
    ctx.use_certificate(entry.chain[0])
    install_private_key(ctx, entry)  # RSASSA-PSS keys as RSA-PSS for OpenSSL
    for cert in entry.chain[1:]:
        if cert.issuer != cert.subject:  # roots are not sent, as Java does not either
            ctx.add_extra_chain_cert(cert)


def server_context(
    cert: Path,
    key: Path,
    client_ca: list[Path],
    verify: VerifyCallback,
    *,
    ca_names: list[Path] | None = None,
    optional: bool = False,
    tls_version: str | None = None,
    send_ca_names: bool = True,
) -> SSL.Context:
    """The reference server: `cert` (a PEM chain) and `key`; clients verified against
    `client_ca`; the CertificateRequest names `ca_names` (default: the subjects of `client_ca`),
    or none when not `send_ca_names`; a client certificate is required unless `optional`."""
    from OpenSSL import SSL, crypto

    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    pin_version(ctx, tls_version)
    try:
        ctx.use_certificate_chain_file(str(cert))
        ctx.use_privatekey_file(str(key))
        for ca in client_ca:
            ctx.load_verify_locations(str(ca))
    except SSL.Error as exc:
        raise InputError(
            f"{cert} / {key}: cannot load ({exc})", "give PEM files: the server chain and its key"
        ) from None
    names: list[crypto.X509Name] = []
    # pyOpenSSL deprecates X509Name, but it is still the only way to set the CA list.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for path in ca_names if ca_names is not None else client_ca:
            for c in x509.load_pem_x509_certificates(path.read_bytes()):
                names.append(crypto.X509.from_cryptography(c).get_subject())
        if send_ca_names:
            ctx.set_client_ca_list(names)
    mode = SSL.VERIFY_PEER | (0 if optional else SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
    ctx.set_verify(mode, verify)
    return ctx
