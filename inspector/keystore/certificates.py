"""Certificates from any keystore format, read leniently: an odd certificate is a finding, not an end."""

from __future__ import annotations

from cryptography import x509

from inspector.keystore.model import CertificateProblem
from inspector.pki import certs as C


def read_certificate(
    der: bytes, alias: str, position: int | None, problems: list[CertificateProblem]
) -> x509.Certificate | None:
    """The certificate (re-encoded where needed), or None; what was odd is appended to problems."""
    loaded = C.load_certificate(der)
    if loaded.problems or loaded.nonstandard:
        subject = C.dn(loaded.cert.subject) if loaded.cert is not None else ""
        problems.append(
            CertificateProblem(
                alias=alias,
                position=position,
                subject=subject,
                problems=loaded.problems,
                nonstandard=loaded.nonstandard,
                readable=loaded.cert is not None,
            )
        )
    return loaded.cert
