"""The peer's certificates as OpenSSL holds them, as DER: nothing here parses a name, so a
certificate cryptography refuses (an 8-bit T61String CN, a BIT STRING CN) cannot end a
handshake's report. `inspector.pki.certs.readable` and `subject_of` read them leniently."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto


def der(cert: crypto.X509) -> bytes:
    from OpenSSL import crypto

    return bytes(crypto.dump_certificate(crypto.FILETYPE_ASN1, cert))


def peer_chain(conn: SSL.Connection, server_side: bool = False) -> list[bytes]:
    """The peer's chain, leaf first. A server's OpenSSL leaves the client's leaf out of
    get_peer_cert_chain(): it is put back in front."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        chain = [der(c) for c in conn.get_peer_cert_chain() or []]
        if server_side:
            leaf = conn.get_peer_certificate()
            if leaf is not None:
                first = der(leaf)
                chain = [first, *(c for c in chain if c != first)]
    return chain
