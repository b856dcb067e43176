"""Certificates from any keystore format, read leniently: an odd certificate is a finding, not an end."""

from __future__ import annotations

from cryptography import x509

from inspector.keystore.model import CertificateProblem, JavaLoadFailure
from inspector.pki import certs as C

#: X9.42 DH (dhpublicnumber): Java's DH key parser reads its q where PKCS#3 has an optional int
X942_DH = "1.2.840.10046.2.1"
#: what Java's X.509 parser throws on such a key (JDK 17, measured)
X942_JAVA_ERROR = (
    "java.security.cert.CertificateParsingException: java.io.IOException: Integer exceeds maximum valid value"
)


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


def java_refuses(der: bytes, where: str, encrypted_pkcs12: bool = False) -> JavaLoadFailure | None:
    """A certificate Java's X.509 parser refuses, failing KeyStore.load on the whole store
    (JDK 17, measured with keytool). Inside an encrypted PKCS#12 SafeContents Java reports it as
    "keystore password was incorrect"; elsewhere (JKS, JCEKS, plain PKCS#12 bags) as the
    parsing error itself."""
    from asn1crypto import x509 as ax

    try:
        spki = ax.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"]
        oid = spki["algorithm"]["algorithm"].dotted
    except (ValueError, TypeError, KeyError):
        return None
    if oid != X942_DH:
        return None
    cause = (
        f"{X942_JAVA_ERROR} (an X9.42 DH public key: Java reads DH parameters as PKCS#3 and takes "
        "q for the private-value length)"
    )
    if encrypted_pkcs12:
        return JavaLoadFailure(
            "keystore password was incorrect", f"failed to decrypt safe contents entry: {cause}", where
        )
    return JavaLoadFailure(X942_JAVA_ERROR, cause, where)
