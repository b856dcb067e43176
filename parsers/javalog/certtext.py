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
    #: extended key usage as dotted OIDs (None: no such extension printed)
    eku: tuple[str, ...] | None = None
    #: key usage bits in cryptography's names (digital_signature, key_cert_sign, ...)
    key_usage: tuple[str, ...] | None = None
    #: basicConstraints pathLenConstraint (None: none, or not a CA)
    path_length: int | None = None
    #: the OIDs of the extensions printed as critical
    critical: tuple[str, ...] = ()
    #: nameConstraints dNSName subtrees (permitted None: no permitted subtrees printed)
    permitted_dns: tuple[str, ...] | None = None
    excluded_dns: tuple[str, ...] = ()


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


#: the JDK's names for extended key usages (sun.security.util.KnownOIDs) and key usage bits
EKU_NAMES = {
    "serverAuth": "1.3.6.1.5.5.7.3.1",
    "clientAuth": "1.3.6.1.5.5.7.3.2",
    "codeSigning": "1.3.6.1.5.5.7.3.3",
    "emailProtection": "1.3.6.1.5.5.7.3.4",
    "ipsecEndSystem": "1.3.6.1.5.5.7.3.5",
    "ipsecTunnel": "1.3.6.1.5.5.7.3.6",
    "ipsecUser": "1.3.6.1.5.5.7.3.7",
    "timeStamping": "1.3.6.1.5.5.7.3.8",
    "OCSPSigning": "1.3.6.1.5.5.7.3.9",
    "anyExtendedKeyUsage": "2.5.29.37.0",
}
KEY_USAGE_NAMES = {
    "DigitalSignature": "digital_signature",
    "Non_repudiation": "content_commitment",
    "Key_Encipherment": "key_encipherment",
    "Data_Encipherment": "data_encipherment",
    "Key_Agreement": "key_agreement",
    "Key_CertSign": "key_cert_sign",
    "Crl_Sign": "crl_sign",
    "Encipher_Only": "encipher_only",
    "Decipher_Only": "decipher_only",
}
_OID = re.compile(r"^\d+(\.\d+)+$")
_PATHLEN = re.compile(r"PathLen:\s*(\d+)")


def _usage(found: dict[str, object], current: str, text: str) -> None:
    """EKU, key usage, path length and name constraints lines (the fields the server stacks read)."""
    word = text.strip(" ,[]")
    if current == "2.5.29.37" and (word in EKU_NAMES or _OID.match(word)):
        found.setdefault("eku", []).append(EKU_NAMES.get(word, word))  # type: ignore[attr-defined]
    elif current == "2.5.29.15" and word in KEY_USAGE_NAMES:
        found.setdefault("ku", []).append(KEY_USAGE_NAMES[word])  # type: ignore[attr-defined]
    elif current == "2.5.29.19" and (m := _PATHLEN.search(text)):
        found["pathlen"] = int(m.group(1)) if int(m.group(1)) < 2**31 - 1 else None
    elif current == "2.5.29.30":
        if "Permitted:" in text:
            found["nc"] = "permitted"
            found.setdefault("permitted", [])
        elif "Excluded:" in text:
            found["nc"] = "excluded"
        if "DNSName:" in text and "nc" in found:
            name = text.split("DNSName:", 1)[1].strip()
            found.setdefault(str(found["nc"]), []).append(name)  # type: ignore[attr-defined]


def _extensions(lines: list[str]) -> dict[str, object]:
    found: dict[str, object] = {}
    current = ""
    dns: list[str] = []
    ips: list[str] = []
    critical: list[str] = []
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        if "ObjectId:" in text and (text.startswith("ObjectId:") or text.startswith("[")):
            current = text.split("ObjectId:", 1)[1].split()[0]
            if "Criticality=true" in text:
                critical.append(current)
            if current == "2.5.29.37":
                found["eku"] = []
            elif current == "2.5.29.15":
                found["ku"] = []
        elif current in ("2.5.29.37", "2.5.29.15", "2.5.29.19", "2.5.29.30") and text:
            _usage(found, current, text)
            if current == "2.5.29.19" and text.startswith("CA:"):
                found["ca"] = text.split(":", 1)[1].strip().lower() == "true"
        elif current == "2.5.29.17" and text.startswith("DNSName:"):
            dns.append(text.split(":", 1)[1].strip())
        elif current == "2.5.29.17" and text.startswith("IPAddress:"):
            ips.append(text.split(":", 1)[1].strip())
        elif current in ("2.5.29.14", "2.5.29.35") and text.startswith("KeyIdentifier ["):
            value, i = hex_bytes(lines, i + 1)
            found["ski" if current == "2.5.29.14" else "aki"] = value
            continue
        i += 1
    found["dns"], found["ips"] = tuple(dns), tuple(ips)
    found["critical"] = tuple(critical)
    return found


def _usage_facts(ext: dict[str, object]) -> dict[str, object]:
    """The CertFacts fields `_usage` read, as keyword arguments."""
    eku, ku, permitted = ext.get("eku"), ext.get("ku"), ext.get("permitted")
    return {
        "eku": tuple(eku) if isinstance(eku, list) else None,
        "key_usage": tuple(ku) if isinstance(ku, list) else None,
        "path_length": ext.get("pathlen"),
        "critical": ext["critical"],
        "permitted_dns": tuple(permitted) if isinstance(permitted, list) else None,
        "excluded_dns": tuple(ext.get("excluded", ())),  # type: ignore[arg-type]
    }


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
                **_usage_facts(ext),  # type: ignore[arg-type]
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
                **_usage_facts(ext),  # type: ignore[arg-type]
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
    key: tuple[object, ...] = (facts.subject, facts.issuer, facts.serial, facts.not_before, facts.not_after)
    key += (facts.dns_names, facts.key_type, facts.key_bits, facts.signature_algorithm, facts.eku)
    key += (facts.key_usage, facts.critical, facts.path_length, facts.permitted_dns, facts.excluded_dns)
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
