"""OpenSSL's certificate verify errors: one table for everything that meets them.

The probe's client sees them on the server's chain, the reference server on the client's, and
a server's log quotes them (`(20:unable to get local issuer certificate)`). Each row keeps:
OpenSSL's own text (X509_verify_cert_error_string of OpenSSL 3.0, the library Debian's
servers use; the codes are 3.0's too: "invalid CA certificate" is 79 there, 24 in 1.1); the
alert an OpenSSL server sends for it (ssl_verify_alarm_type in ssl/statem/statem_lib.c: a
not-yet-valid certificate is `bad_certificate`, not `certificate_expired`, and anything
unlisted is `certificate_unknown`); our finding code for the client's chain; the cause in our
words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VerifyError:
    code: int
    #: OpenSSL's own words (OpenSSL 3.0 spelling: "self-signed")
    text: str
    #: the alert an OpenSSL server sends when the client's chain fails so
    alert: str
    #: our finding code for a client chain failing so (registered in the rules)
    finding: str
    #: the cause, for a person
    cause: str


_ROWS = (
    VerifyError(2, "unable to get issuer certificate", "unknown_ca", "client-chain-incomplete",
                "the issuer of a certificate is not available"),
    VerifyError(7, "certificate signature failure", "decrypt_error", "chain-out-of-order",
                "a certificate signature does not verify"),
    VerifyError(9, "certificate is not yet valid", "bad_certificate", "cert-not-yet-valid",
                "a certificate is not yet valid"),
    VerifyError(10, "certificate has expired", "certificate_expired", "client-cert-expired",
                "a certificate has expired"),
    VerifyError(18, "self-signed certificate", "unknown_ca", "self-signed-client-cert",
                "a self-signed certificate that is not trusted"),
    VerifyError(19, "self-signed certificate in certificate chain", "unknown_ca",
                "server-rejected-client-cert", "a self-signed root that is not trusted"),
    VerifyError(20, "unable to get local issuer certificate", "unknown_ca",
                "server-rejected-client-cert",
                "no trusted CA issued the chain (missing intermediate, or an untrusted CA)"),
    VerifyError(21, "unable to verify the first certificate", "unknown_ca", "client-chain-incomplete",
                "the issuer of the first certificate was neither sent nor trusted (a missing "
                "intermediate, or an untrusted CA)"),
    VerifyError(22, "certificate chain too long", "unknown_ca", "server-rejected-client-cert",
                "the chain is longer than the verifier's maximum depth"),
    VerifyError(23, "certificate revoked", "certificate_revoked", "server-rejected-client-cert",
                "a certificate is revoked (CRL or OCSP)"),
    VerifyError(25, "path length constraint exceeded", "unknown_ca", "server-rejected-client-cert",
                "a CA's pathLenConstraint is exceeded"),
    VerifyError(26, "unsuitable certificate purpose", "unsupported_certificate",
                "missing-client-auth-usage", "the certificate is not valid for TLS client authentication"),
    VerifyError(27, "certificate not trusted", "unknown_ca", "server-rejected-client-cert",
                "the anchor is not trusted for this purpose"),
    VerifyError(28, "certificate rejected", "bad_certificate", "server-rejected-client-cert",
                "the anchor is marked to reject this purpose"),
    VerifyError(32, "key usage does not include certificate signing", "certificate_unknown",
                "chain-out-of-order", "a certificate that issues another may not sign certificates"),
    VerifyError(34, "unhandled critical extension", "certificate_unknown", "server-rejected-client-cert",
                "a certificate has a critical extension the verifier does not know"),
    VerifyError(47, "permitted subtree violation", "certificate_unknown", "server-rejected-client-cert",
                "a name is outside a CA's name constraints"),
    VerifyError(48, "excluded subtree violation", "certificate_unknown", "server-rejected-client-cert",
                "a name is inside a CA's excluded name constraints"),
    VerifyError(62, "hostname mismatch", "bad_certificate", "server-rejected-client-cert",
                "the certificate does not carry the expected host name"),
    VerifyError(66, "EE certificate key too weak", "bad_certificate", "server-rejected-client-cert",
                "the certificate's key is below the verifier's security level"),
    VerifyError(67, "CA certificate key too weak", "bad_certificate", "server-rejected-client-cert",
                "a CA's key is below the verifier's security level"),
    VerifyError(68, "CA signature digest algorithm too weak", "bad_certificate",
                "server-rejected-client-cert",
                "a signature uses a digest below the security level (SHA-1, MD5)"),
    VerifyError(79, "invalid CA certificate", "unknown_ca", "chain-out-of-order",
                "a certificate that issues another is not a CA"),
)  # fmt: skip

VERIFY_ERRORS: dict[int, VerifyError] = {row.code: row for row in _ROWS}


def verify_error(code: int) -> VerifyError:
    """The row for `code`; an unknown code gets OpenSSL's default alert and a generic cause."""
    return VERIFY_ERRORS.get(
        code,
        VerifyError(code, f"verify error {code}", "certificate_unknown", "server-rejected-client-cert",
                    f"OpenSSL verify error {code}"),
    )  # fmt: skip
