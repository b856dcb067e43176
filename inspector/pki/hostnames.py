"""Host names against certificates, as the two clients we model check them — no network I/O.

OpenSSL (`X509_check_host`, what the probe, curl and s_client use) and Java's endpoint
identification (`HostnameChecker`, TYPE_TLS, what an HTTPS client runs) disagree on real
certificates, so each has its own named matcher rather than one "RFC 6125 style" guess:

- no DNS SAN: OpenSSL tries every subject CN, Java only the last (most specific) one;
- `*.com` for `a.com`: OpenSSL refuses (fewer than two labels after the star), Java matches
  (it refuses only when the chain ends at a public CA, which we cannot see);
- an IP address: both match IP SANs only, never a CN or a DNS SAN.

Both were measured: `openssl x509 -checkhost` and JDK 17's HostnameChecker on the same
certificates (tests/test_hostnames.py keeps the cases).
"""

from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.x509.oid import NameOID


def is_ip(host: str) -> bool:
    """An IPv4/IPv6 literal, also as a URL writes it (`[::1]`) or with a zone (`fe80::1%eth0`)."""
    try:
        ipaddress.ip_address(_bare(host))
        return True
    except ValueError:
        return False


def _bare(host: str) -> str:
    return host.strip().strip("[]").split("%", 1)[0]


def _sans(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a SAN cryptography cannot decode: as good as none for matching
        return None


def _common_names(cert: x509.Certificate) -> list[str]:
    try:
        attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return []
    return [a.value for a in attrs if isinstance(a.value, str)]


def _ip_in_sans(sans: x509.SubjectAlternativeName | None, host: str) -> bool:
    if sans is None:
        return False
    return ipaddress.ip_address(_bare(host)) in sans.get_values_for_type(x509.IPAddress)


def _labels(name: str) -> list[str]:
    return name.lower().rstrip(".").split(".")


def _label_matches(pattern: str, label: str) -> bool:
    """One label against one pattern label holding at most one `*` (partial wildcards: `f*`)."""
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == label
    return len(label) >= len(head) + len(tail) and label.startswith(head) and label.endswith(tail)


def _openssl_dns_match(pattern: str, host: str) -> bool:
    want, pat = _labels(host), _labels(pattern)
    if "*" not in pattern:
        return want == pat
    # X509_check_host: the star only in the left-most label, once, not in an IDNA label,
    # and at least two labels after it (so `*.com` never matches)
    if pattern.count("*") != 1 or "*" not in pat[0] or pat[0].startswith("xn--") or len(pat) < 3:
        return False
    return len(want) == len(pat) and want[1:] == pat[1:] and _label_matches(pat[0], want[0])


def openssl_hostname_matches(cert: x509.Certificate, name: str) -> bool:
    """What OpenSSL's X509_check_host (default flags) / X509_check_ip decide for `name`."""
    sans = _sans(cert)
    if is_ip(name):
        return _ip_in_sans(sans, name)
    dns = sans.get_values_for_type(x509.DNSName) if sans is not None else []
    if dns:
        return any(_openssl_dns_match(p, name) for p in dns)
    return any(_openssl_dns_match(cn, name) for cn in _common_names(cert))


def _java_dns_match(pattern: str, host: str) -> bool:
    want, pat = _labels(host), _labels(pattern)
    if "*" not in pattern:
        return want == pat
    # HostnameChecker.matchLeftmostWildcard: the wildcard only in the first label
    if any("*" in label for label in pat[1:]) or pat[0].count("*") != 1:
        return False
    return len(want) == len(pat) and want[1:] == pat[1:] and _label_matches(pat[0], want[0])


def java_endpoint_identity(leaf: x509.Certificate, host: str) -> tuple[str, str] | None:
    """Java's HTTPS endpoint identification (HostnameChecker, TYPE_TLS): None when the name
    matches, else (Java's own words, the cause). A DNS name falls back to the last CN only
    when the certificate has no DNS SAN; an IP address is matched against IP SANs only."""
    sans = _sans(leaf)
    if is_ip(host):
        if _ip_in_sans(sans, host):
            return None
        if sans is None:
            return (
                "No subject alternative names present",
                "the certificate has no subjectAltName, and Java matches an IP address "
                f"against IP SANs only, never the CN ({_cn_text(leaf)})",
            )
        ips = sans.get_values_for_type(x509.IPAddress)
        return (
            f"No subject alternative names matching IP address {_bare(host)} found",
            "IP SANs: "
            + (", ".join(str(x) for x in ips) or "none")
            + " (a DNS SAN never matches an IP address)",
        )
    dns = sans.get_values_for_type(x509.DNSName) if sans is not None else []
    if dns:
        if any(_java_dns_match(p, host) for p in dns):
            return None
        return (
            f"No subject alternative DNS name matching {host} found.",
            "DNS SANs: " + ", ".join(dns) + " (with DNS SANs present Java ignores the CN)",
        )
    cns = _common_names(leaf)
    if cns and _java_dns_match(cns[-1], host):
        return None
    return (
        f"No name matching {host} found",
        f"the certificate has no DNS subjectAltName and its CN ({_cn_text(leaf)}) does not "
        "match; Java compares only the last CN when no DNS SAN is present",
    )


def _cn_text(cert: x509.Certificate) -> str:
    cns = _common_names(cert)
    return "CN=" + cns[-1] if cns else "no CN"
