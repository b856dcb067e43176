"""Certificates as the JDK prints them, rebuilt as x509 objects for the shared rules.

The log shows subject, issuer, serial, validity, key type and extensions but never the DER, the
key or the signature. The rules and renderers work on `x509.Certificate`, so each printed
certificate becomes one carrying exactly the printed facts, signed by a throwaway key;
`facts_of` tells such a certificate apart, so nobody reports its fingerprint or key as real.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from parsers.javalog.names import parse_dn
from parsers.javalog.times import parse_java_time


@dataclass(frozen=True)
class CertFacts:
    """What the log printed about one certificate (None: not printed)."""

    subject: str
    issuer: str
    serial: int
    not_before: dt.datetime | None
    not_after: dt.datetime | None
    key_type: str | None = None
    key_bits: int | None = None
    signature_algorithm: str | None = None
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    ca: bool | None = None
    subject_key_id: bytes | None = None
    authority_key_id: bytes | None = None
    line: int = 0  # the dump's first line, counted from the start of its block


_FIELD = re.compile(r'^\s*"([a-z ]+?)"\s*:\s*"?(.*?)"?,?\s*$')
_HEX = re.compile(r"^\s*[0-9A-F]{4}: ((?:[0-9A-F]{2} {1,3}){0,16})")


def hex_bytes(lines: list[str], start: int) -> tuple[bytes, int]:
    out = bytearray()
    i = start
    while i < len(lines):
        m = _HEX.match(lines[i])
        if not m:
            break
        out += bytes.fromhex(m.group(1).replace(" ", ""))
        i += 1
    return bytes(out), i


def _extensions(lines: list[str]) -> dict[str, object]:
    found: dict[str, object] = {}
    current = ""
    dns: list[str] = []
    ips: list[str] = []
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        if "ObjectId:" in text and (text.startswith("ObjectId:") or text.startswith("[")):
            current = text.split("ObjectId:", 1)[1].split()[0]
        elif current == "2.5.29.17" and text.startswith("DNSName:"):
            dns.append(text.split(":", 1)[1].strip())
        elif current == "2.5.29.17" and text.startswith("IPAddress:"):
            ips.append(text.split(":", 1)[1].strip())
        elif current == "2.5.29.19" and text.startswith("CA:"):
            found["ca"] = text.split(":", 1)[1].strip().lower() == "true"
        elif current in ("2.5.29.14", "2.5.29.35") and text.startswith("KeyIdentifier ["):
            value, i = hex_bytes(lines, i + 1)
            found["ski" if current == "2.5.29.14" else "aki"] = value
            continue
        i += 1
    found["dns"], found["ips"] = tuple(dns), tuple(ips)
    return found


_PARSED: dict[str, list[CertFacts]] = {}


def parse_modern(lines: list[str], first_line: int = 0) -> list[CertFacts]:
    """Every `"certificate" : {` dump in a JDK 11+ block, in order (memoised: logs repeat chains)."""
    key = "\n".join(lines)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    found = _parse_modern(lines, 0)
    if len(_PARSED) > 512:
        _PARSED.clear()
    _PARSED[key] = found
    return found


def _parse_modern(lines: list[str], first_line: int = 0) -> list[CertFacts]:
    starts = [i for i, line in enumerate(lines) if line.strip().startswith('"certificate" : {')]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        values: dict[str, str] = {}
        ext_from = end
        for j in range(start + 1, end):
            m = _FIELD.match(lines[j])
            if m and m.group(1) not in values:
                values[m.group(1)] = m.group(2)
                if m.group(1) == "extensions":
                    ext_from = j
                    break
        if "subject" not in values or "issuer" not in values:
            continue
        ext = _extensions(lines[ext_from:end])
        serial_text = re.sub(r"[^0-9a-fA-F]", "", values.get("serial number", ""))
        out.append(
            CertFacts(
                subject=values["subject"],
                issuer=values["issuer"],
                serial=int(serial_text, 16) if serial_text else 0,
                not_before=parse_java_time(values.get("not before", "")),
                not_after=parse_java_time(values.get("not  after", values.get("not after", ""))),
                key_type=values.get("subject public key") or None,
                signature_algorithm=values.get("signature algorithm") or None,
                dns_names=ext["dns"],  # type: ignore[arg-type]
                ip_addresses=ext["ips"],  # type: ignore[arg-type]
                ca=ext.get("ca"),  # type: ignore[arg-type]
                subject_key_id=ext.get("ski"),  # type: ignore[arg-type]
                authority_key_id=ext.get("aki"),  # type: ignore[arg-type]
                line=first_line + start,
            )
        )
    return out


_JDK8_VALIDITY = re.compile(r"From: (.+?),\s*To: (.+?)\]", re.S)


def parse_jdk8(lines: list[str], first_line: int = 0) -> list[CertFacts]:
    """`chain [0] = [ ... ]` dumps of a JDK 8 `*** Certificate chain`."""
    starts = [i for i, line in enumerate(lines) if re.match(r"\s*chain \[\d+\] = \[", line)]
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = lines[start:end]
        text = "\n".join(body)
        values: dict[str, str] = {}
        for line in body:
            stripped = line.strip()
            for key in ("Subject:", "Issuer:", "SerialNumber:", "Signature Algorithm:", "Key:"):
                if stripped.startswith(key) and key not in values:
                    values[key] = stripped[len(key) :].strip()
        if "Subject:" not in values or "Issuer:" not in values:
            continue
        validity = _JDK8_VALIDITY.search(text)
        key = values.get("Key:", "")
        bits = re.search(r"(\d+) bits", key)
        kind = "RSA" if "RSA" in key else "EC" if "EC" in key else "DSA" if "DSA" in key else None
        ext = _extensions(body)
        serial = re.sub(r"[^0-9a-fA-F]", "", values.get("SerialNumber:", ""))
        out.append(
            CertFacts(
                subject=values["Subject:"],
                issuer=values["Issuer:"],
                serial=int(serial, 16) if serial else 0,
                not_before=parse_java_time(validity.group(1)) if validity else None,
                not_after=parse_java_time(validity.group(2)) if validity else None,
                key_type=kind,
                key_bits=int(bits.group(1)) if bits else None,
                signature_algorithm=values.get("Signature Algorithm:", "").split(",")[0] or None,
                dns_names=ext["dns"],  # type: ignore[arg-type]
                ip_addresses=ext["ips"],  # type: ignore[arg-type]
                ca=ext.get("ca"),  # type: ignore[arg-type]
                line=first_line + start,
            )
        )
    return out


@dataclass
class _Rebuilder:
    key: ec.EllipticCurvePrivateKey | None = None
    cache: dict[tuple[object, ...], x509.Certificate] = field(default_factory=dict)
    facts: dict[int, tuple[x509.Certificate, CertFacts]] = field(default_factory=dict)


_STATE = _Rebuilder()
_FAR_PAST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_FAR_FUTURE = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)


def rebuild(facts: CertFacts) -> x509.Certificate:
    """An x509 certificate with the printed facts (memoised: logs repeat the same chains)."""
    key = (facts.subject, facts.issuer, facts.serial, facts.not_before, facts.not_after, facts.dns_names)
    hit = _STATE.cache.get(key)
    if hit is not None:
        return hit
    if _STATE.key is None:
        _STATE.key = ec.generate_private_key(ec.SECP256R1())
    subject = parse_dn(facts.subject) or x509.Name([])
    issuer = parse_dn(facts.issuer) or x509.Name([])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(_STATE.key.public_key())
        .serial_number(facts.serial or 1)
        .not_valid_before(facts.not_before or _FAR_PAST)
        .not_valid_after(facts.not_after or _FAR_FUTURE)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in facts.dns_names if n.isascii()]
    for ip in facts.ip_addresses:
        with contextlib.suppress(ValueError):
            sans.append(x509.IPAddress(ipaddress.ip_address(ip)))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if facts.ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=facts.ca, path_length=None), critical=True)
    if facts.subject_key_id:
        builder = builder.add_extension(x509.SubjectKeyIdentifier(facts.subject_key_id), critical=False)
    if facts.authority_key_id:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier(facts.authority_key_id, None, None), critical=False
        )
    cert = builder.sign(_STATE.key, hashes.SHA256())
    _STATE.cache[key] = cert
    _STATE.facts[id(cert)] = (cert, facts)
    return cert


def facts_of(cert: x509.Certificate) -> CertFacts | None:
    """The printed facts when `cert` was rebuilt from a log's text; None for a real certificate."""
    hit = _STATE.facts.get(id(cert))
    return hit[1] if hit is not None and hit[0] is cert else None
