"""A recognised form of words: a pattern, what it means, whose words they are."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.errortext.alerts import by_number, rfc_name
from parsers.errortext.model import Family, Kind, Speaker


@dataclass(frozen=True)
class Sign:
    """`pattern` is searched in a line (never anchored to its start: prefixes do not matter).
    Named groups it may have: `alert` (words: 'bad certificate', 'TLSV1_ALERT_UNKNOWN_CA'),
    `code` (curl -v's number: fatal alerts are 0x200 + the alert's number), `number` (OpenSSL's
    "SSL alert number N"), `detail` (a verify reason, a file name). With `by_detail`, the kind is
    read from the detail (a certificate verify reason); family None: the family of the text
    (OpenSSL's error strings, which curl, Python, Node and .NET all print)."""

    name: str
    family: Family | None
    pattern: re.Pattern[str]
    kind: Kind
    speaker: Speaker
    by_detail: bool = False
    #: found even inside another sign's match (a second reason within one message)
    alongside: bool = False


def sign(
    name: str,
    family: Family | None,
    pattern: str,
    kind: Kind,
    speaker: Speaker,
    *,
    by_detail: bool = False,
    alongside: bool = False,
    flags: int = 0,
) -> Sign:
    return Sign(name, family, re.compile(pattern, flags), kind, speaker, by_detail, alongside)


def alert_of(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("alert"):
        return rfc_name(groups["alert"])
    if groups.get("code"):
        return by_number(int(groups["code"]) & 0xFF)
    if groups.get("number"):
        return by_number(int(groups["number"]))
    return None


def verify_kind(detail: str) -> Kind:
    """A certificate verify reason (OpenSSL's words, Node's codes, Go's and .NET's) → its kind."""
    d = detail.lower().replace("-", " ").replace("_", " ")
    if "chainerrors" in d or "untrustedroot" in d or "partialchain" in d:
        return Kind.SERVER_CERT_UNTRUSTED
    if "expired" in d or "not yet valid" in d or "nottimevalid" in d:
        return Kind.SERVER_CERT_EXPIRED
    if "hostname" in d or "altname" in d or "name mismatch" in d or "namemismatch" in d:
        return Kind.HOSTNAME_MISMATCH
    if ("self signed" in d and "in certificate chain" not in d and "in chain" not in d) or (
        "depth zero self signed" in d
    ):
        return Kind.SERVER_CERT_SELF_SIGNED
    return Kind.SERVER_CERT_UNTRUSTED


#: OpenSSL's verify reasons and Node's codes for them (the client judging the server's chain)
VERIFY_REASONS = (
    r"unable to get local issuer certificate|unable to verify the first certificate"
    r"|unable to get issuer certificate|self[- ]signed certificate in certificate chain"
    r"|self[- ]signed certificate|certificate has expired|certificate is not yet valid"
    r"|unable to verify leaf signature"
)
NODE_VERIFY_CODES = (
    r"UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN"
    r"|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|UNABLE_TO_GET_ISSUER_CERT"
    r"|ERR_TLS_CERT_ALTNAME_INVALID"
)
