"""The server's chain judged the way a Java client's PKIX trust manager judges it.

Java differs from OpenSSL in ways that decide real cases: the anchors are the truststore's
entries (any certificate there is an anchor, an intermediate too, and the first certificate of
every key entry), path building ignores the order and the extras of what the server sent, the
anchor itself is not checked for validity, and HTTPS endpoint identification reads the
subjectAltName only (no CN fallback; an IP address only in an IP SAN). Failures are said in
Java's words, with the cause and the keytool command that fixes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from inspector.java.verdict import TrustVerdict
from inspector.pki import certs as C

CACERTS_PASSWORD = "changeit"
PKIX_BUILD = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
PKIX_VALIDITY = (
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed"
)


@dataclass(frozen=True)
class Truststore:
    """The anchors Java would use, and where they came from (said in every verdict)."""

    label: str  # "truststore.jks (JKS, 2 anchors)" / "the JDK's cacerts at ... (144 anchors)"
    path: Path | None
    anchors: tuple[tuple[str, x509.Certificate], ...]
    notes: tuple[str, ...] = ()
    #: The JDK's own cacerts (no --truststore): fixes go to a truststore of the user's, not into the JDK.
    jdk_default: bool = False


def find_jdk_cacerts() -> Path | None:
    """The JDK's own cacerts: $JAVA_HOME first, then the `java` on PATH (symlinks resolved)."""
    homes = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    java = shutil.which("java")
    if java:
        homes.append(Path(java).resolve().parent.parent)
    for home in homes:
        for candidate in (
            home / "lib" / "security" / "cacerts",
            home / "jre" / "lib" / "security" / "cacerts",
        ):
            if candidate.exists():
                return candidate
    return None


def load_truststore(path: Path, password: str | None, label: str | None = None) -> Truststore:
    """JKS, PKCS#12 or PEM; raises InputError (one line) like every keystore loader."""
    from inspector.keystore import load_keystore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cacerts holds old roots cryptography warns about
        store = load_keystore(path, password)
    anchors = [(e.alias, e.certificate) for e in store.trusted_entries]
    anchors += [(e.alias, e.chain[0]) for e in store.key_entries if e.chain]
    notes = []
    kind = store.store_type.value
    if kind.upper() == "PEM":
        notes.append(
            "Java cannot read a PEM file as a truststore: import it (keytool -importcert -trustcacerts "
            "-alias ca -file CA.pem -keystore truststore.jks)"
        )
    name = label or f"{path} ({kind}, {len(anchors)} anchor{'s' if len(anchors) != 1 else ''})"
    return Truststore(name, path, tuple(anchors), tuple(notes))


def default_truststore() -> Truststore | None:
    """The JDK's cacerts with its default password, when a JDK is found."""
    cacerts = find_jdk_cacerts()
    if cacerts is None:
        return None
    store = load_truststore(cacerts, CACERTS_PASSWORD, label="")
    return Truststore(
        f"the JDK's cacerts at {cacerts} ({len(store.anchors)} anchors; no --truststore given)",
        cacerts,
        store.anchors,
        jdk_default=True,
    )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _key_ids(cert: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    ski = aki = None
    with contextlib.suppress(x509.ExtensionNotFound):
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    with contextlib.suppress(x509.ExtensionNotFound):
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    return ski, aki


def _issues(issuer: x509.Certificate, cert: x509.Certificate, check_signatures: bool) -> bool:
    if issuer.subject != cert.issuer:
        return False
    if check_signatures:
        return _signed_by(cert, issuer)
    ski, _ = _key_ids(issuer)
    _, aki = _key_ids(cert)
    return ski is None or aki is None or ski == aki


def _build(
    current: x509.Certificate,
    sent: list[x509.Certificate],
    anchors: list[tuple[str, x509.Certificate]],
    path: list[x509.Certificate],
    check: bool,
) -> tuple[list[x509.Certificate], tuple[str, x509.Certificate]] | None:
    """Depth-first forward path building, anchors before intermediates (as SunCertPathBuilder)."""
    for alias, anchor in anchors:
        if anchor == current or _issues(anchor, current, check):
            return path, (alias, anchor)
    if len(path) > 8:
        return None
    for candidate in sent:
        if candidate in path or candidate == current:
            continue
        if _issues(candidate, current, check):
            found = _build(candidate, sent, anchors, [*path, candidate], check)
            if found is not None:
                return found
    return None


_BUILT: dict[tuple[int, ...], tuple[tuple[x509.Certificate, ...], Truststore, object]] = {}


def _cached_build(
    chain: tuple[x509.Certificate, ...], store: Truststore, check: bool
) -> tuple[list[x509.Certificate], tuple[str, x509.Certificate]] | None:
    """Path building once per (chain, store): a log repeats the same chain thousands of times."""
    key = (id(store), int(check), *(id(c) for c in chain))
    hit = _BUILT.get(key)
    if hit is not None and hit[1] is store and all(a is b for a, b in zip(hit[0], chain, strict=True)):
        return hit[2]  # type: ignore[return-value]
    found = _build(chain[0], list(chain[1:]), list(store.anchors), [chain[0]], check)
    if len(_BUILT) > 1024:
        _BUILT.clear()
    _BUILT[key] = (chain, store, found)
    return found


def _slug(name: x509.Name) -> str:
    text = C.short_dn(name).removeprefix("CN=")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "server-ca"


def judge(
    chain: tuple[x509.Certificate, ...],
    store: Truststore,
    host: str | None,
    at: dt.datetime,
    check_signatures: bool = True,
) -> TrustVerdict:
    """Java's verdict on a server chain (PKIX path, validity at `at`, then HTTPS identity)."""
    verdict = TrustVerdict(False, store.label, signatures_checked=check_signatures)
    if not chain:
        verdict.java_says = "Empty server certificate chain"
        verdict.cause = "the server sent no certificate"
        return verdict
    leaf = chain[0]
    found = _cached_build(chain, store, check_signatures)
    if found is None:
        top = chain[0]
        for cert in chain[1:]:  # the furthest the server's own certificates reach
            if _issues(cert, top, check_signatures):
                top = cert
        missing = C.dn(top.issuer)
        leaf_only = len(chain) == 1 and leaf.issuer != leaf.subject
        verdict.java_says = PKIX_BUILD
        verdict.cause = f"no trust anchor in {store.label} for {missing}" + (
            " — the server sent its leaf only; an anchor for its issuer would also do" if leaf_only else ""
        )
        target = store.path if store.path is not None and not store.jdk_default else Path("truststore.jks")
        verdict.fix = (
            f"keytool -importcert -trustcacerts -alias {_slug(top.issuer)} -file {_slug(top.issuer)}.pem "
            f"-keystore {target}   (the certificate of {missing}, from the server's operator)"
            + (
                "; then run the client with -Djavax.net.ssl.trustStore=truststore.jks "
                "-Djavax.net.ssl.trustStorePassword=... (rather than editing the JDK's cacerts)"
                if store.jdk_default
                else ""
            )
        )
        return verdict
    path, (alias, anchor) = found
    verdict.path = [C.dn(c.subject) for c in path] + [f"{C.dn(anchor.subject)} (anchor '{alias}')"]
    verdict.anchor = alias
    for cert in path:
        if anchor == cert:
            continue
        state = C.validity_state(cert, at)
        if state != "valid":
            verdict.java_says = PKIX_VALIDITY
            verdict.cause = (
                f"{C.dn(cert.subject)} is {state.replace('-', ' ')} at {at:%Y-%m-%d %H:%M} UTC "
                f"(valid {cert.not_valid_before_utc:%Y-%m-%d} .. {cert.not_valid_after_utc:%Y-%m-%d})"
            )
            verdict.fix = "the server must renew its certificate (or check the clocks)"
            return verdict
    if host:
        problem = identity_problem(leaf, host)
        if problem:
            verdict.java_says, verdict.cause = problem
            verdict.fix = (
                "connect with a name the certificate carries, or have it reissued with "
                f"subjectAltName {'IP' if _is_ip(host) else 'DNS'}:{host} (Java ignores the CN)"
            )
            return verdict
    verdict.trusted = True
    return verdict


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern == host:
        return True
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:] and rest.count(".") >= 1
    return False


def identity_problem(leaf: x509.Certificate, host: str) -> tuple[str, str] | None:
    """HTTPS endpoint identification as HostnameChecker does it: (Java's words, cause) or None."""
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (
            "No subject alternative names present",
            "the certificate has no subjectAltName; Java does not fall back to the CN "
            f"({C.short_dn(leaf.subject)})",
        )
    if _is_ip(host):
        ip = ipaddress.ip_address(host.strip("[]"))
        ips = sans.get_values_for_type(x509.IPAddress)
        if ip in ips:
            return None
        return (
            f"No subject alternative names matching IP address {host} found",
            "IP SANs: "
            + (", ".join(str(x) for x in ips) or "none")
            + " (a DNS SAN never matches an IP address)",
        )
    names = sans.get_values_for_type(x509.DNSName)
    if any(_dns_match(n, host) for n in names):
        return None
    return (
        f"No subject alternative DNS name matching {host} found.",
        "DNS SANs: " + (", ".join(names) or "none"),
    )
