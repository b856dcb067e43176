"""Options shared by select, probe and pcap: which JDK to simulate, and (select without a live
server) which signature algorithms and certificate types the request is assumed to carry."""

from __future__ import annotations

import argparse
from typing import Any

from inspector.java.versions import SUPPORTED, use
from inspector.system.errors import InputError

#: What common servers send in a CertificateRequest when we only know their CA names: OpenSSL 3
#: (s_server, nginx, Apache httpd), measured from openssl 3.0 s_server. In TLS 1.2 it offers
#: the DSA schemes and dss_sign: a Java client then also considers DSA key entries. Java
#: servers and IIS send subsets of it.
COMMON_SIGALGS = (
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0804, 0x0805, 0x0806,
    0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602,
)  # fmt: skip
#: The same server in TLS 1.3: no DSA schemes.
COMMON_SIGALGS_TLS13 = COMMON_SIGALGS[:16]
COMMON_CERT_TYPES = (1, 2, 64)  # rsa_sign, dss_sign, ecdsa_sign, in OpenSSL's order

_CERT_TYPE_NAMES = {"rsa_sign": 1, "rsa": 1, "dss_sign": 2, "dsa": 2, "ecdsa_sign": 64, "ecdsa": 64, "ec": 64}


def add_java_version_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--java-version",
        type=int,
        choices=list(SUPPORTED),
        default=None,
        help="simulate this JDK's client (default: the java on PATH, else 17)",
    )


def add_request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sigalgs",
        metavar="LIST",
        help="with --ca-names/--empty-ca-list: the signature algorithms the server sends, "
        "comma-separated names or hex (default: what OpenSSL-based servers send)",
    )
    p.add_argument(
        "--cert-types",
        metavar="LIST",
        help="with --ca-names/--empty-ca-list (TLS 1.2): certificate_types, e.g. rsa_sign,ecdsa_sign",
    )


def apply_java_version(args: argparse.Namespace) -> None:
    """Simulate --java-version, else the `java` on PATH, else JDK 17 (java_versions.DEFAULT)."""
    from inspector.java.detect import installed_version

    use(getattr(args, "java_version", None) or installed_version())


def parse_sigalgs(text: str) -> tuple[int, ...]:
    from parsers.constants import SIGNATURE_SCHEMES

    known = {name: code for code, name in SIGNATURE_SCHEMES.items()}
    out = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            out.append(known[item] if item in known else int(item, 16))
        except ValueError:
            raise InputError(
                f"--sigalgs: '{item}' is not a signature scheme",
                "use names such as ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256 or hex codes (0x0403)",
            ) from None
    return tuple(out)


def parse_cert_types(text: str) -> tuple[int, ...]:
    out = []
    for item in (t.strip().lower() for t in text.split(",")):
        if item in _CERT_TYPE_NAMES:
            out.append(_CERT_TYPE_NAMES[item])
        elif item.isdigit():
            out.append(int(item))
        elif item:
            raise InputError(
                f"--cert-types: '{item}' is not a certificate type", "use rsa_sign,ecdsa_sign,dss_sign"
            )
    return tuple(out)


def assumed_request(args: argparse.Namespace, tls13: bool) -> dict[str, Any]:
    """signature_algorithms / certificate_types for a request we did not see, and a label."""
    sigalgs = (
        parse_sigalgs(args.sigalgs) if args.sigalgs else COMMON_SIGALGS_TLS13 if tls13 else COMMON_SIGALGS
    )
    types = () if tls13 else parse_cert_types(args.cert_types) if args.cert_types else COMMON_CERT_TYPES
    label = (
        "given (--sigalgs)"
        if args.sigalgs
        else "assumed: what OpenSSL-based servers send (set with --sigalgs)"
    )
    return {"signature_algorithms": sigalgs, "certificate_types": types, "assumed": label}
