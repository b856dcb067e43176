"""`--redact`: hostnames, IP addresses and e-mail addresses replaced by consistent pseudonyms.

The same name always gets the same pseudonym across the page, so the story still reads
("host-1 named CN=Acme Root CA; the client at 192.0.2.1 sent ..."). IPv4 addresses become
documentation addresses (RFC 5737: 192.0.2.x, then 198.51.100.x, 203.0.113.x), IPv6 ones
2001:db8::x (RFC 3849), so nobody mistakes them for a real network. Hostnames are taken from
where the document says a host is (SNI, the probe's target, server name and proxy) and from
certificate names whose CN is a hostname; CA and organisation names are kept: they are the
diagnosis. File paths keep only their last component (the fix commands still name the file).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from inspector.pki.hostnames import is_ip
from inspector.render.html.sanitize import map_strings

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[\w.]+)?(?![\w:])")
_CN = re.compile(r"(?<![\w])CN\s*=\s*((?:\\.|[^,+\\])+)", re.I)  # a whole CN value
_CN_WORD = re.compile(r"(?<![\w])CN\s*=\s*([^,+;\s()\\]+)", re.I)  # a CN value that is one word
_HOSTNAME = re.compile(r"^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$")
_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")


def _host_of(endpoint: str) -> str:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address → the host part."""
    text = endpoint.strip()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


class Pseudonyms:
    """First come, first numbered: the walk order of the document fixes the names."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self._count = {"v4": 0, "v6": 0, "host": 0, "mail": 0}

    def _next(self, kind: str) -> int:
        self._count[kind] += 1
        return self._count[kind]

    def address(self, text: str) -> str:
        key = text.lower()
        if key not in self.names:
            if ":" in text:
                self.names[key] = f"2001:db8::{self._next('v6'):x}"
            else:
                n = self._next("v4") - 1
                net, host = divmod(n, 254)
                self.names[key] = f"{_DOC_NETS[net]}{host + 1}" if net < len(_DOC_NETS) else f"ip-{n + 1}"
        return self.names[key]

    def host(self, text: str) -> str:
        bare = text.lower().rstrip(".")
        if bare.startswith("*."):
            return "*." + self.host(bare[2:])
        if is_ip(bare):
            return self.address(bare)
        if bare not in self.names:
            self.names[bare] = f"host-{self._next('host')}"
        return self.names[bare]

    def mail(self, text: str) -> str:
        key = text.lower()
        if key not in self.names:
            self.names[key] = f"mail-{self._next('mail')}@example.invalid"
        return self.names[key]


def _strings(value: Any) -> list[str]:
    """Every distinct string of the document, in order of first appearance."""
    found: list[str] = []

    def keep(text: str) -> str:
        found.append(text)
        return text

    map_strings(value, keep)
    return found


#: keys whose value is a host (or HOST:PORT) wherever they appear in a document: probe, pcap,
#: log (handshakes[]), select (selection.request.source: "server HOST:PORT")
_HOST_KEYS = frozenset({"target", "servername", "proxy", "client", "server", "server_name", "sni", "host"})
#: a single-label host name (localhost, an intranet name), only where a key says it is a host
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
#: Java's and OpenSSL's host-name refusals name the host the client asked for
_NAMED_HOST = re.compile(
    r"(?:No (?:subject alternative )?(?:DNS )?names? matching|doesn't match|does not match|"
    r"not valid for)\s+'?([A-Za-z0-9*][A-Za-z0-9.*-]*[A-Za-z0-9])'?",
    re.I,
)


def _host_value(text: str) -> str | None:
    """The host in a value that names one (`host`, `host:port`, `[v6]:port`), else None (a
    thread name, prose)."""
    host = _host_of(text)
    if not host or any(c.isspace() for c in host):
        return None
    if is_ip(host) or _HOSTNAME.match(host) or _LABEL.match(host):
        return host
    return None


def _declared_hosts(part: Any) -> list[str]:
    """Where the document says "this is a host": any value under a host key, anywhere in it; a
    select document's source ("server HOST:PORT"); a server certificate's CN."""
    hosts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and key in _HOST_KEYS:
                    host = _host_value(item)
                    if host is not None:
                        hosts.append(host)
                elif isinstance(item, str) and key == "source" and item.startswith(("server ", "proxy ")):
                    host = _host_value(item.split()[-1])
                    if host is not None:
                        hosts.append(host)
                elif key == "chain" and value.get("direction") == "server" and isinstance(item, list):
                    if item and isinstance(item[0], dict):
                        hosts.extend(_cn_values(str(item[0].get("subject", ""))))
                elif key == "server_chain" and isinstance(item, list) and item:
                    hosts.extend(_cn_values(str(item[0])))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(part)
    return hosts


def _cn_values(dn: str) -> list[str]:
    """A server certificate's CN names a host (even a one-label one such as `localhost`)."""
    return [m.group(1).strip() for m in _CN.finditer(dn) if " " not in m.group(1).strip()]


class Redactor:
    """Names are collected part by part (each member of the document, each item of its lists, in
    the document's order), so a capture of thousands of connections is never held whole; the
    pseudonyms are numbered as if the whole document had been read at once: declared hosts first,
    then hosts named by refusals, then addresses and names in the order they appear."""

    def __init__(self) -> None:
        self._declared: dict[str, None] = {}
        self._named: dict[str, None] = {}
        self._found: dict[tuple[str, str], None] = {}  # (kind, text) in order of appearance
        self._folders: set[str] = set()

    def scan(self, part: Any, key: str | None = None) -> None:
        """One part; `key`: the document member it is (a top-level member is given whole)."""
        value = {key: part} if key is not None else part
        self._declared.update(dict.fromkeys(_declared_hosts(value)))
        for text in _strings(value):
            if "matching" in text or "match" in text or "valid for" in text:
                self._named.update(dict.fromkeys(m.group(1) for m in _NAMED_HOST.finditer(text)))
            self._candidates(text)
        self._paths(part, key)

    def _candidates(self, text: str) -> None:
        found = self._found
        if "." in text:
            for match in _IPV4.finditer(text):
                if is_ip(match.group()):
                    found["ip", match.group()] = None
        if "::" in text or text.count(":") >= 6:
            for match in _IPV6.finditer(text):
                if match.group().count(":") >= 2 and is_ip(match.group()):
                    found["ip", match.group()] = None
        if "=" in text:
            for match in _CN_WORD.finditer(text):
                found["cn", match.group(1).strip()] = None
        if "@" in text:
            for match in _EMAIL.finditer(text):
                found["mail", match.group()] = None

    def _paths(self, part: Any, key: str | None) -> None:
        if key in ("keystore", "capture") and isinstance(part, dict) and isinstance(part.get("path"), str):
            self._folders.add(_folder(part["path"]))
        location = part.get("location") if key is None and isinstance(part, dict) else None
        if isinstance(location, dict) and isinstance(location.get("file"), str):
            self._folders.add(_folder(location["file"]))

    def replacer(self) -> Callable[[str], str]:
        """The replacement of every string, once every part has been scanned."""
        names = Pseudonyms()
        for host in (*self._declared, *self._named):
            names.host(host)
        for kind, text in self._found:
            if kind == "ip":
                names.address(text)
            elif kind == "mail":
                names.mail(text)
            elif _HOSTNAME.match(text) or text.lower() in names.names:
                names.host(text)
        folders = sorted(self._folders - {"", "/", "\\"}, key=len, reverse=True)
        tokens = sorted(names.names, key=len, reverse=True)
        pattern = (
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in tokens) + r")(?![\w-]|\.[\w-])", re.I)
            if tokens
            else None
        )

        def replace(text: str) -> str:
            for folder in folders:
                text = text.replace(folder, "")
            if "@" in text:
                text = _EMAIL.sub(lambda m: names.mail(m.group()), text)
            if pattern is not None:
                text = pattern.sub(lambda m: names.names[m.group(1).lower()], text)
            return text

        return replace


def _folder(path: str) -> str:
    """`dir/sub/file.jks` → `dir/sub/`: stripped everywhere, so derived names in fixes lose it too."""
    return path[: max(path.rfind("/"), path.rfind("\\")) + 1]
