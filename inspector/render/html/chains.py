"""Certificates: one card per certificate on the page, and the CA names matched to a chain."""

from __future__ import annotations

import re
from typing import Any

from inspector.render.html.coerce import as_dict, as_int, as_str, as_strs
from inspector.render.html.model import CaMatch, CaName, CertView, ChainItem

_RDN_SPLIT = re.compile(r"(?<!\\),")


def dn_key(dn: str) -> str:
    """Compare DNs as a person would: case, spacing around `,` and `=` do not matter."""
    parts = []
    for rdn in _RDN_SPLIT.split(dn):
        name, _, value = rdn.partition("=")
        parts.append(f"{name.strip().lower()}={' '.join(value.split()).lower()}")
    return ",".join(parts)


def common_name(dn: str) -> str:
    for rdn in _RDN_SPLIT.split(dn):
        name, _, value = rdn.partition("=")
        if name.strip().upper() == "CN":
            return value.strip()
    return dn


def _key_text(cert: dict[str, Any]) -> str:
    algorithm = as_str(cert.get("key_algorithm"))
    size = as_int(cert.get("key_size"))
    return f"{algorithm} {size} bits" if algorithm and size else algorithm


def _list_text(value: Any, absent: str) -> str:
    if value is None:
        return absent
    items = as_strs(value)
    return ", ".join(items) if items else "(empty)"


class CertIndex:
    """Each certificate once (by SHA-256), with every place it was seen."""

    def __init__(self) -> None:
        self._by_key: dict[str, CertView] = {}

    def add(self, cert: dict[str, Any], seen_in: str) -> str:
        subject, issuer = as_str(cert.get("subject")), as_str(cert.get("issuer"))
        sha = as_str(cert.get("sha256")).lower()
        key = sha or f"{subject}|{issuer}|{as_str(cert.get('serial'))}"
        view = self._by_key.get(key)
        if view is None:
            view = CertView(
                anchor=f"cert-{len(self._by_key) + 1}",
                title=common_name(subject) or "(no subject)",
                subject=subject,
                issuer=issuer,
                serial=as_str(cert.get("serial")),
                not_before=as_str(cert.get("not_before")),
                not_after=as_str(cert.get("not_after")),
                validity=as_str(cert.get("validity")),
                key=_key_text(cert),
                eku=_list_text(cert.get("extended_key_usage"), "absent (any use)")
                if "extended_key_usage" in cert
                else "",
                key_usage=_list_text(cert.get("key_usage"), "absent") if "key_usage" in cert else "",
                is_ca=_is_ca_text(cert),
                signature_hash=as_str(cert.get("signature_hash")),
                sha256=sha,
            )
            self._by_key[key] = view
        if seen_in not in view.seen_in:
            view.seen_in.append(seen_in)
        return view.anchor

    def all(self) -> list[CertView]:
        return list(self._by_key.values())


def _is_ca_text(cert: dict[str, Any]) -> str:
    if "is_ca" not in cert:
        return ""
    value = cert.get("is_ca")
    if value is None:
        return "no basicConstraints"
    return "yes" if value is True else "no"


def keystore_chain(chain: list[dict[str, Any]], index: CertIndex, where: str) -> list[ChainItem]:
    items = []
    for number, cert in enumerate(chain):
        position = as_int(cert.get("position"))
        position = number if position is None else position
        link = as_dict(cert.get("issued_by_next"))
        state, text = "", ""
        if link:
            state = "ok" if link.get("ok") is True else "broken"
            text = _link_text(link)
        items.append(
            ChainItem(
                position=position,
                subject=as_str(cert.get("subject")),
                issuer=as_str(cert.get("issuer")),
                cert_anchor=index.add(cert, f"{where}, chain[{position}]"),
                validity=as_str(cert.get("validity")),
                link_state=state,
                link_text=text,
            )
        )
    return items


def _link_text(link: dict[str, Any]) -> str:
    if link.get("ok") is True:
        return "issued by the next certificate"
    reasons = []
    if link.get("issuer_name_matches") is False:
        reasons.append("issuer name is not the next certificate's subject")
    if link.get("key_id_matches") is False:
        reasons.append("authority key id differs")
    if link.get("signature_valid") is False:
        reasons.append("signature does not verify")
    return "not issued by the next certificate" + (f": {'; '.join(reasons)}" if reasons else "")


def ca_match(
    request: dict[str, Any] | None,
    client_chain: list[dict[str, Any]] | None,
    index: CertIndex,
    where: str,
    anchor_prefix: str,
) -> CaMatch | None:
    """Which CA name each chain certificate's issuer matches, or which one is missing.

    `client_chain` None: the client's Certificate was not seen; []: it was empty.
    """
    if request is None:
        return None
    names = as_strs(request.get("ca_names"))
    keys = [dn_key(name) for name in names]
    chain = [] if client_chain is None else client_chain
    items: list[ChainItem] = []
    matched: dict[int, list[int]] = {}
    for position, cert in enumerate(chain):
        issuer = as_str(cert.get("issuer"))
        number = keys.index(dn_key(issuer)) + 1 if dn_key(issuer) in keys else 0
        if number:
            matched.setdefault(number, []).append(position)
        items.append(
            ChainItem(
                position=position,
                subject=as_str(cert.get("subject")),
                issuer=issuer,
                cert_anchor=index.add(cert, f"{where}, client chain[{position}]"),
                link_state="ok" if number else "broken",
                link_text=f"issuer is CA name {number}" if number else "issuer not named by the server",
                ca_anchor=f"{anchor_prefix}-ca-{number}" if number else "",
                ca_number=number,
            )
        )
    ca_names = [
        CaName(anchor=f"{anchor_prefix}-ca-{n}", number=n, dn=name, matched_by=matched.get(n, []))
        for n, name in enumerate(names, start=1)
    ]
    client_label = "client's chain"
    if not names:
        state, message = "any", "The server names no CA: a client may send any certificate whose key fits."
    elif client_chain is None:
        state, message = "unseen", "The client's Certificate message is not visible (encrypted or not sent)."
    elif not chain:
        state = "empty"
        message = (
            f"The client sent an empty Certificate; the server names {' or '.join(names)}. "
            "The findings say why nothing was sent."
        )
    elif matched:
        first = min(matched)
        state = "match"
        message = (
            f"The chain reaches a named CA: the issuer of chain[{matched[first][0]}] is CA name {first} "
            f"({names[first - 1]})."
        )
    else:
        state = "missing"
        issuers = "; ".join(as_str(c.get("issuer")) for c in chain)
        message = (
            f"Missing link: the server wants a certificate issued by {' or '.join(names)}; "
            f"this chain's issuers are {issuers}."
        )
    return CaMatch(state=state, message=message, ca_names=ca_names, chain=items, client_label=client_label)
