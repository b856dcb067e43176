"""`--server-ca` on `pcap` and `log`: the client chain of each connection (or logged handshake)
judged by the partner's server stacks, each distinct chain once, the connections that sent it
grouped; those that sent an empty Certificate, or whose chain the log did not print, noted.

A chain seen on the wire is judged from its bytes; one a Java log printed is judged from its
description (inspector/server_stacks/described.py), an inference that says what it left open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.analysis.server_verdicts import ServerJudgement, judge, judge_described
from inspector.findings import Finding
from inspector.server_stacks import Stack
from inspector.system.times import utc_from_timestamp
from parsers.javalog.certtext import facts_of
from parsers.model import Certificate, Direction, Transcript

ChainKey = tuple[object, ...]


@dataclass
class ChainGroup:
    """One distinct client chain, its verdicts, and every connection (handshake) that sent it."""

    judgement: ServerJudgement
    indices: list[int] = field(default_factory=list)


@dataclass
class ServerChains:
    """The partner's server stacks on every client chain of a capture or a log."""

    trust: Sequence[x509.Certificate]
    source: str
    stack: Stack | None
    at: dt.datetime | None
    groups: dict[ChainKey, ChainGroup] = field(default_factory=dict)
    #: sent an empty Certificate (no client certificate)
    empty: list[int] = field(default_factory=list)
    #: (a log) a client Certificate named but not printed: nothing to judge
    unprinted: list[int] = field(default_factory=list)

    def judge(self, t: Transcript, index: int, unprinted: bool = False) -> list[Finding]:
        """The client chain of `t` judged (once per distinct chain); its findings, [] when the
        client sent none."""
        event = t.first(Certificate, Direction.CLIENT)
        if event is None or not isinstance(event.message, Certificate):
            return []
        chain = list(event.message.chain)
        if not chain:
            (self.unprinted if unprinted else self.empty).append(index)
            return []
        printed = [facts_of(c) for c in chain]
        described = all(p is not None for p in printed)
        key: ChainKey = (
            tuple((p.subject, p.issuer, p.serial) for p in printed if p is not None)
            if described
            else tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)
        )
        group = self.groups.get(key)
        if group is None:
            when = self.at or (utc_from_timestamp(t.start_time) if t.start_time else None)
            when = when or dt.datetime.now(dt.timezone.utc)
            if described:
                pairs = [(c, p) for c, p in zip(chain, printed, strict=True) if p is not None]
                judged = judge_described(pairs, self.trust, self.source, when, self.stack)
            else:
                judged = judge(chain, self.trust, self.source, when, self.stack)
            group = self.groups[key] = ChainGroup(judged)
        group.indices.append(index)
        return list(group.judgement.findings)

    @property
    def judged(self) -> list[ChainGroup]:
        return sorted(self.groups.values(), key=lambda g: g.indices[0])
