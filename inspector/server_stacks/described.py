"""The stacks' verdicts on a chain known only by its description: the certificates a Java log
prints (subject, issuer, serial, validity, key type, signature algorithm, extensions), never
their bytes.

Every model runs as it does on real certificates, with what cannot be read left open: no
signature is checked (that a certificate was issued by the one it names is inferred from the
names and key identifiers), a sent certificate is the trusted one when issuer and serial number
match, a key whose size the log does not print passes the size checks. Each verdict says so:
it is an inference, and names what was not checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from cryptography import x509

from inspector.pki import certs as C
from inspector.pki.chains import canonical_name
from inspector.server_stacks.facts import KNOWN_EXTENSIONS, Facts, read_cached, security_bits
from inspector.server_stacks.model import STACKS, Stack, StackVerdict
from inspector.server_stacks.predict import no_certificate, predict_facts, relevant

#: a size the log does not print is not held against the key (the checks pass; the verdict says so)
UNKNOWN_SIZE_BITS = 256
#: stacks that check a client key's size (OpenSSL's security level, jdk.certpath.disabledAlgorithms)
SIZE_CHECKED = frozenset(STACKS) - {Stack.GO}
SIGNATURES = (
    "signatures (a log prints none: that each certificate was issued by the one it names is "
    "inferred from names and key identifiers, and a name match is not proof of issuance)"
)
_FAR_PAST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_FAR_FUTURE = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)


class Printed(Protocol):
    """What a log printed about one certificate (parsers.javalog.certtext.CertFacts)."""

    @property
    def serial(self) -> int: ...
    @property
    def not_before(self) -> dt.datetime | None: ...
    @property
    def not_after(self) -> dt.datetime | None: ...
    @property
    def key_type(self) -> str | None: ...
    @property
    def key_bits(self) -> int | None: ...
    @property
    def signature_algorithm(self) -> str | None: ...
    @property
    def dns_names(self) -> tuple[str, ...]: ...
    @property
    def ip_addresses(self) -> tuple[str, ...]: ...
    @property
    def ca(self) -> bool | None: ...
    @property
    def subject_key_id(self) -> bytes | None: ...
    @property
    def authority_key_id(self) -> bytes | None: ...
    @property
    def eku(self) -> tuple[str, ...] | None: ...
    @property
    def key_usage(self) -> tuple[str, ...] | None: ...
    @property
    def path_length(self) -> int | None: ...
    @property
    def critical(self) -> tuple[str, ...]: ...
    @property
    def permitted_dns(self) -> tuple[str, ...] | None: ...
    @property
    def excluded_dns(self) -> tuple[str, ...]: ...


def _key_kind(printed: str | None) -> str:
    text = (printed or "").upper()
    if "RSA" in text:
        return "RSA"
    if text.startswith("EC"):
        return "EC"
    if "DSA" in text:
        return "DSA"
    if "ED448" in text:
        return "Ed448"
    if "ED" in text:
        return "Ed25519"
    return printed or "unknown"


def _signature(algorithm: str | None) -> tuple[str | None, str]:
    """(hash, name as Go spells it) from the JDK's name: SHA256withRSA → (sha256, SHA256-RSA)."""
    text = (algorithm or "").upper()
    if "WITH" not in text:
        return None, algorithm or "unknown"
    digest, _, kind = text.partition("WITH")
    kind = {"EC": "ECDSA"}.get(kind, kind)
    return digest.lower().replace("-", ""), f"{digest.replace('-', '')}-{kind}"


def describe(cert: x509.Certificate, printed: Printed) -> Facts:
    """A printed certificate as the facts the models read. `cert` carries the printed names (the
    javalog reader's stand-in certificate); nothing of its key or signature is used."""
    subject, issuer = canonical_name(cert.subject), canonical_name(cert.issuer)
    kind = _key_kind(printed.key_type)
    sig_hash, sig_name = _signature(printed.signature_algorithm)
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    bits = printed.key_bits
    return Facts(
        cert=cert,
        der=b"described:" + repr((printed.serial, C.dn(cert.issuer))).encode(),
        subject=subject,
        issuer=issuer,
        subject_text=C.dn(cert.subject),
        cn=str(cns[0].value) if cns else "",
        ski=printed.subject_key_id,
        aki=printed.authority_key_id,
        ca=printed.ca,
        path_length=printed.path_length,
        key_usage=frozenset(printed.key_usage) if printed.key_usage is not None else None,
        eku=frozenset(printed.eku) if printed.eku is not None else None,
        not_before=printed.not_before or _FAR_PAST,
        not_after=printed.not_after or _FAR_FUTURE,
        key_kind=kind,
        key_bits=bits,
        key_security=security_bits(kind, bits) if bits is not None else UNKNOWN_SIZE_BITS,
        sig_hash=sig_hash,
        sig_name=sig_name,
        unknown_critical=tuple(o for o in printed.critical if o not in KNOWN_EXTENSIONS),
        dns_names=printed.dns_names,
        has_san=bool(printed.dns_names or printed.ip_addresses),
        permitted_dns=printed.permitted_dns,
        excluded_dns=printed.excluded_dns,
        self_issued=subject == issuer,
        spki=None,
        identity=(issuer, printed.serial),
        described=True,
    )


def not_checked(printed: Sequence[Printed], stack: Stack) -> list[str]:
    """What the description leaves open for this stack, in the words the verdict uses."""
    out = [SIGNATURES]
    if stack in SIZE_CHECKED and any(p.key_bits is None for p in printed):
        out.append("key sizes (JDK 11 and later print the key type only)")
    if any(p.not_before is None or p.not_after is None for p in printed):
        out.append("validity (not printed)")
    return out


def predict_described(
    chain: Sequence[tuple[x509.Certificate, Printed]],
    trust: Sequence[x509.Certificate],
    at: dt.datetime | None = None,
    stacks: Iterable[Stack] = STACKS,
) -> list[tuple[StackVerdict, list[str]]]:
    """Each stack's verdict on a described chain (leaf first), with what was not checked; the
    reason says the verdict is inferred."""
    stacks = list(stacks)
    if not chain:
        return [(no_certificate(stack), []) for stack in stacks]
    sent = [describe(cert, printed) for cert, printed in chain]
    trusted = [read_cached(c) for c in relevant([c for c, _ in chain], trust)]
    out = []
    for verdict in predict_facts(sent, trusted, at, stacks):
        left = not_checked([p for _, p in chain], verdict.stack)
        out.append((dataclasses.replace(verdict, reason=_labelled(verdict, left)), left))
    return out


def _labelled(verdict: StackVerdict, left: list[str]) -> str:
    opened = "not checked: " + "; ".join(left)
    if verdict.accepted:
        return (
            "inferred from the log's description: by names, key identifiers, validity, usage and "
            f"constraints the chain leads to a certificate this server trusts ({opened})"
        )
    return f"{verdict.reason} (inferred from the log's description; {opened})"
