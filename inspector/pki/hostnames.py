"""Host names against certificates (RFC 6125 style), without any network I/O."""

from __future__ import annotations

import ipaddress

from cryptography import x509


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def hostname_matches(cert: x509.Certificate, name: str) -> bool:
    """RFC 6125 style: SAN DNS names (one left-most wildcard label) or IP addresses."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if is_ip(name):
        return ipaddress.ip_address(name) in san.get_values_for_type(x509.IPAddress)
    wanted = name.lower().rstrip(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        pattern = pattern.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False
