"""The JSON-like blocks of JDK 11+ logs (and JDK 8 sections), read into the shared message model.

The blocks are not JSON (unquoted values, missing commas, `<empty list>`): each reader looks for
the few keys it needs, line by line, and tolerates whatever else is there.
"""

from __future__ import annotations

import re

from parsers.constants import ALERT_NAMES, CERTIFICATE_TYPES, SIGNATURE_SCHEMES
from parsers.javalog.certtext import CertFacts, parse_jdk8, parse_modern, rebuild
from parsers.javalog.model import Thrown
from parsers.javalog.names import parse_dn, split_dn_list
from parsers.model import Alert, Certificate, CertificateRequest, ClientHello, DistinguishedName, ServerHello

VERSIONS = {"TLSv1.3": 0x0304, "TLS13": 0x0304, "TLSv1.2": 0x0303, "TLS12": 0x0303, "TLSv1.1": 0x0302}
VERSIONS |= {"TLS11": 0x0302, "TLSv1": 0x0301, "TLS10": 0x0301, "SSLv3": 0x0300}
SCHEMES = {name: code for code, name in SIGNATURE_SCHEMES.items()}
SCHEMES |= {"rsa_sha224": 0x0301, "dsa_sha224": 0x0302, "ecdsa_sha224": 0x0303, "rsa_md5": 0x0101}
SCHEMES |= {"ecdsa_sha1": 0x0203, "rsa_pkcs1_sha1": 0x0201, "dsa_sha1": 0x0202}
JDK8_SCHEMES = {
    "SHA256withECDSA": 0x0403,
    "SHA384withECDSA": 0x0503,
    "SHA512withECDSA": 0x0603,
    "SHA256withRSA": 0x0401,
    "SHA384withRSA": 0x0501,
    "SHA512withRSA": 0x0601,
    "SHA1withRSA": 0x0201,
    "SHA1withECDSA": 0x0203,
    "SHA256withDSA": 0x0402,
    "SHA1withDSA": 0x0202,
    "SHA224withRSA": 0x0301,
    "SHA224withECDSA": 0x0303,
    "SHA224withDSA": 0x0302,
    "MD5withRSA": 0x0101,
}
CERT_TYPES = {name: code for code, name in CERTIFICATE_TYPES.items()}
JDK8_CERT_TYPES = {"RSA": 1, "DSS": 2, "ECDSA": 64}
ALERT_CODES = {name: code for code, name in ALERT_NAMES.items()}

#: `"key": value` up to the value; the value is the rest less `"?,?\s*` at its end (what a lazy
#: `(.*?)"?,?\s*$` takes, without trying it at each of a cipher-suite list's 1,500 characters).
_KEY = re.compile(r'\s*"([^"]+)"\s*:\s*"?')
_LIST = re.compile(r"\[(.*)\]")
_SUITE = re.compile(r"\(0x([0-9A-Fa-f]{4})\)")


def _value_of(rest: str) -> str:
    """A value as printed, less its closing quote, comma and trailing blanks."""
    rest = rest.rstrip()
    if rest.endswith(","):
        rest = rest[:-1]
    return rest[:-1] if rest.endswith('"') else rest


def _values(block: list[str], stop: str = '"extensions"') -> dict[str, str]:
    """Top-level `"key": value` pairs before `stop` (first occurrence wins)."""
    out: dict[str, str] = {}
    for line in block:
        if stop in line:
            break
        m = _KEY.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = _value_of(line[m.end() :])
    return out


def _list_after(block: list[str], key: str) -> list[str] | None:
    """The `[a, b, c]` list on the line holding `key` (None when the key is absent)."""
    for i, line in enumerate(block):
        if key in line:
            rest = line.split(key, 1)[1]
            if "[" in rest and "]" not in rest:  # a pasted line wrapped (or cut) inside the list
                for follow in block[i + 1 : i + 8]:
                    if follow.lstrip().startswith('"'):
                        break
                    rest += follow.strip()
                    if "]" in follow:
                        break
                else:
                    rest += "]"
                if "]" not in rest:
                    rest += "]"
            m = _LIST.search(rest)
            return [x.strip() for x in m.group(1).split(",") if x.strip()] if m else []
    return None


def _section(block: list[str], title: str) -> list[str]:
    """The lines of an extension `"title": {` ... up to the next extension at the same depth."""
    for i, line in enumerate(block):
        if line.strip().startswith(f'"{title}'):
            indent = len(line) - len(line.lstrip())
            out: list[str] = []
            for follow in block[i + 1 :]:
                if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                    # a pasted line wrapped inside a list continues at column 0: still this section
                    wrapped = (
                        out and "[" in out[-1] and "]" not in out[-1] and follow[:1] not in ('"', "}", "]")
                    )
                    if not wrapped:
                        break
                    out[-1] = out[-1] + follow.strip()
                    continue
                out.append(follow)
            return out
    return []


def _has(block: list[str], title: str) -> bool:
    return any(line.strip().startswith(f'"{title}') for line in block)


def version_of(name: str) -> int | None:
    return VERSIONS.get(name.strip().strip('"[]'))


def client_hello(block: list[str]) -> ClientHello:
    """One pass over the block (ClientHellos are long and every handshake has one)."""
    values = _values(block)
    sni = None
    versions: list[str] = []
    schemes: list[str] = []
    pha = False
    section = ""
    for line in block:
        stripped = line.lstrip()
        if stripped.startswith('"') and stripped.endswith("{"):
            section = stripped
            if section.startswith('"post_handshake_auth'):
                pha = True
            continue
        if section.startswith('"server_name (0)') and "value=" in stripped:
            m = re.search(r"value=([^,}\s]+)", stripped)
            sni = m.group(1) if m else sni
        elif section.startswith('"supported_versions (43)') and stripped.startswith('"versions"'):
            versions = _list_after([stripped], '"versions"') or []
        elif section.startswith('"signature_algorithms (13)') and stripped.startswith('"signature schemes"'):
            schemes = _list_after([stripped], '"signature schemes"') or []
    suites = tuple(int(x, 16) for x in _SUITE.findall(values.get("cipher suites", "")))
    legacy = version_of(values.get("client version", "")) or 0x0303
    random, session = values.get("random", ""), values.get("session id", "")
    return ClientHello(
        random=bytes.fromhex(random) if _is_hex(random) else b"",
        server_name=sni,
        legacy_version=legacy,
        supported_versions=tuple(v for v in (version_of(x) for x in versions) if v is not None),
        cipher_suites=suites,
        signature_algorithms=tuple(SCHEMES[s] for s in schemes if s in SCHEMES),
        post_handshake_auth=pha,
        session_id=bytes.fromhex(session) if _is_hex(session) else b"",
    )


_HEXTEXT = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def _is_hex(text: str) -> bool:
    return _HEXTEXT.fullmatch(text) is not None


def server_hello(block: list[str], negotiated: int | None = None) -> ServerHello:
    values = _values(block)
    hrr = any(line.strip().startswith('"HelloRetryRequest"') for line in block[:3])
    selected = _list_after(_section(block, "supported_versions (43)"), '"selected version"')
    version = version_of(selected[0]) if selected else None
    version = version or negotiated or version_of(values.get("server version", "")) or 0x0303
    suite = _SUITE.search(values.get("cipher suite", ""))
    session = values.get("session id", "")
    return ServerHello(
        random=bytes.fromhex(values.get("random", "")) if _is_hex(values.get("random", "")) else b"",
        version=version,
        cipher_suite=int(suite.group(1), 16) if suite else 0,
        hello_retry_request=hrr,
        session_id=bytes.fromhex(session) if _is_hex(session) else b"",
        psk=_has(block, "pre_shared_key"),
    )


def _names(texts: list[str]) -> tuple[list[DistinguishedName], list[str]]:
    names, bad = [], []
    for text in texts:
        parsed = parse_dn(text)
        if parsed is None:
            bad.append(text)
        else:
            names.append(DistinguishedName(parsed.public_bytes(), parsed.rfc4514_string()))
    return names, bad


class RequestRead:
    """A CertificateRequest and what reading it took (a guessed split, an invalid extension)."""

    def __init__(self, message: CertificateRequest, guessed: bool, invalid: bool, bad: list[str]) -> None:
        self.message, self.guessed, self.invalid, self.unparsed = message, guessed, invalid, bad


def certificate_request(block: list[str]) -> RequestRead:
    tls13 = any('"certificate_request_context"' in line for line in block)
    if not tls13:
        types = _list_after(block, '"certificate types"') or []
        schemes = _list_after(block, '"supported signature algorithms"') or []
        raw = ""
        for line in block:
            if '"certificate authorities"' in line:
                m = _LIST.search(line.split('"certificate authorities"', 1)[1])
                raw = m.group(1) if m else ""
        texts, guessed = split_dn_list(raw) if raw.strip() else ([], False)
        names, bad = _names(texts)
        message = CertificateRequest(
            tls13=False,
            certificate_types=tuple(CERT_TYPES[t] for t in types if t in CERT_TYPES),
            signature_algorithms=tuple(SCHEMES[s] for s in schemes if s in SCHEMES),
            signature_algorithms_cert=(),
            ca_names=tuple(names),
        )
        return RequestRead(message, guessed, False, bad)
    schemes = _list_after(_section(block, "signature_algorithms (13)"), '"signature schemes"') or []
    cert_schemes = _list_after(_section(block, "signature_algorithms_cert (50)"), '"signature schemes"') or []
    ca_lines = _section(block, "certificate_authorities (47)")
    invalid = any("Invalid certificate_authorities" in line for line in ca_lines + block)
    texts = []
    collecting = False
    for line in ca_lines:
        stripped = line.strip()
        if stripped.startswith('"certificate authorities"'):
            collecting = True
            rest = stripped.split("[", 1)[1] if "[" in stripped else ""
            stripped = rest
        if collecting and stripped:
            done = stripped.endswith("]")
            text = stripped[:-1] if done else stripped
            if text.strip():
                texts.append(text.strip())
            if done:
                break
    names, bad = _names(texts)
    message = CertificateRequest(
        tls13=True,
        certificate_types=(),
        signature_algorithms=tuple(SCHEMES[s] for s in schemes if s in SCHEMES),
        signature_algorithms_cert=tuple(SCHEMES[s] for s in cert_schemes if s in SCHEMES),
        ca_names=tuple(names),
        ca_names_present=bool(ca_lines) or _has(block, "certificate_authorities"),
    )
    return RequestRead(message, False, invalid, bad)


def certificates(block: list[str], first_line: int) -> tuple[Certificate, list[CertFacts]]:
    facts = parse_modern(block, first_line)
    return Certificate(chain=tuple(rebuild(f) for f in facts)), facts


def certificates_jdk8(block: list[str], first_line: int) -> tuple[Certificate, list[CertFacts]]:
    facts = parse_jdk8(block, first_line)
    return Certificate(chain=tuple(rebuild(f) for f in facts)), facts


#: How the JDK names an alert code it does not know: `UNKNOWN ALERT (200)` (11+),
#: `<UNKNOWN ALERT: 200>` (6 to 8).
UNKNOWN_ALERT = re.compile(r"<?UNKNOWN ALERT(?: \(|: )(\d{1,3})[)>]?")


def alert_description(text: str) -> int | None:
    """The alert code a JDK's description names: its name, or the number of an alert the JDK
    could not name (kept: it is not close_notify); None when it says neither."""
    text = text.strip()
    if text in ALERT_CODES:
        return ALERT_CODES[text]
    unknown = UNKNOWN_ALERT.fullmatch(text)
    return int(unknown.group(1)) if unknown and int(unknown.group(1)) < 256 else None


def alert(block: list[str]) -> Alert:
    """A received alert block; a description not shown or not read is said so, never a 0."""
    values = _values(block)
    level = 2 if values.get("level", "fatal") == "fatal" else 1
    code = alert_description(values.get("description", ""))
    return Alert(level, 0, described=False) if code is None else Alert(level, code)


_EXC = re.compile(r"((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error))(?:: (.*))?$")


def exception_line(text: str) -> Thrown | None:
    """`...SSLHandshakeException: message` anywhere in a line → (class, message)."""
    m = _EXC.search(text.strip())
    if m is None:
        start = text.find("Exception: ")
        if start == -1:
            return None
        head = text[:start].split()[-1] if text[:start].split() else ""
        m = _EXC.search(head + "Exception: " + text[start + 11 :])
        if m is None:
            return None
    message = (m.group(2) or "").strip()
    if message.endswith(" (") or message == "(":  # a JDK 11+ block opener cut with its line
        message = message[:-1].rstrip()
    while message.endswith(")") and message.count(")") > message.count("("):  # the paste's own ")"
        message = message[:-1].rstrip()
    return Thrown(m.group(1), message)


def _exception_head(text: str) -> Thrown | None:
    m = re.match(r"\s*((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?:: (.*))?$", text)
    return Thrown(m.group(1), (m.group(2) or "").strip()) if m else None


def throwable(block: list[str]) -> list[Thrown]:
    """The exception chain of a `"throwable" : {` block."""
    chain: list[Thrown] = []
    for line in block:
        stripped = line.strip()
        if not stripped or stripped.startswith("at ") or stripped.startswith('"throwable"'):
            continue
        if stripped.startswith("Caused by: "):
            head = _exception_head(stripped[len("Caused by: ") :])
            if head:
                chain.append(head)
        elif not chain:
            head = _exception_head(stripped)
            if head:
                chain.append(head)
    return chain


def jdk8_request(block: list[str]) -> RequestRead:
    types, schemes, texts = [], [], []
    in_names = False
    for line in block:
        stripped = line.strip()
        if stripped.startswith("Cert Types:"):
            types = [t.strip() for t in stripped[11:].split(",") if t.strip()]
        elif stripped.startswith("Supported Signature Algorithms:"):
            schemes = [t.strip() for t in stripped[31:].split(",") if t.strip()]
        elif stripped.startswith("Cert Authorities:"):
            in_names = True
        elif in_names and stripped.startswith("<") and stripped.endswith(">"):
            if stripped != "<Empty>":
                texts.append(stripped[1:-1])
        elif in_names and stripped:
            in_names = False
    names, bad = _names(texts)
    message = CertificateRequest(
        tls13=False,
        certificate_types=tuple(JDK8_CERT_TYPES[t] for t in types if t in JDK8_CERT_TYPES),
        signature_algorithms=tuple(JDK8_SCHEMES[s] for s in schemes if s in JDK8_SCHEMES),
        signature_algorithms_cert=(),
        ca_names=tuple(names),
    )
    return RequestRead(message, False, False, bad)


def jdk8_client_hello(block: list[str], version: str) -> ClientHello:
    sni = None
    schemes: list[int] = []
    for line in block:
        m = re.search(r"server_name: \[type=host_name \(0\), value=([^\]\s,]+)", line)
        if m:
            sni = m.group(1)
        if line.startswith("Extension signature_algorithms,") and ":" in line:
            names = line.split(":", 1)[1].split(",")
            schemes = [JDK8_SCHEMES[n.strip()] for n in names if n.strip() in JDK8_SCHEMES]
    legacy = VERSIONS.get(version.strip(), 0x0303)
    return ClientHello(
        random=b"",
        server_name=sni,
        legacy_version=legacy,
        supported_versions=(),
        cipher_suites=(),
        signature_algorithms=tuple(schemes),
        post_handshake_auth=False,
    )
