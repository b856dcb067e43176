"""Which failures in a client's error text are distinct. One client failure often prints several
lines (curl's summary beside OpenSSL's reason, a closed socket after an alert): each distinct
failure is one group of sightings, and a line that only restates another is folded into it, so
the diagnosis counts failures, not lines."""

from __future__ import annotations

from dataclasses import dataclass

from parsers.errortext.model import ErrorTextReading, Kind, Sighting

#: the order diagnoses come in (and which one a restating line is folded into)
PRIMARY = (
    Kind.CLIENT_CERT_UNUSABLE,
    Kind.ALERT_RECEIVED,
    Kind.HTTP_NO_CERT,
    Kind.HTTP_CERT_ERROR,
    Kind.HTTP_PLAIN_TO_TLS,
    Kind.SERVER_CERT_UNTRUSTED,
    Kind.SERVER_CERT_EXPIRED,
    Kind.SERVER_CERT_SELF_SIGNED,
    Kind.HOSTNAME_MISMATCH,
    Kind.VERIFY_FAILED,
)
#: a failure of these kinds only restates a primary one when one is there
RESTATING = (Kind.ALERT_SENT, Kind.CLOSED_WITHOUT_ALERT, Kind.HANDSHAKE_FAILED, Kind.HTTP_BAD_REQUEST)
#: with no primary failure, a weaker restating kind gives way to a stronger one when both are there
_WEAKER_THAN = (
    (Kind.HANDSHAKE_FAILED, Kind.CLOSED_WITHOUT_ALERT),
    (Kind.HANDSHAKE_FAILED, Kind.ALERT_SENT),
    (Kind.HTTP_BAD_REQUEST, Kind.CLOSED_WITHOUT_ALERT),
)


@dataclass(frozen=True)
class Grouping:
    #: each distinct failure's sightings, most decisive failure first
    distinct: list[list[Sighting]]
    #: sightings that only restate a distinct failure
    folded: list[Sighting]


def group_failures(reading: ErrorTextReading) -> Grouping:
    """The reading's failures, grouped by kind (and alert), the restating ones folded away."""
    groups: dict[tuple[Kind, str | None], list[Sighting]] = {}
    for s in reading.failures:
        groups.setdefault((s.kind, s.alert if s.kind is Kind.ALERT_RECEIVED else None), []).append(s)
    folded: list[Sighting] = []
    if any(k[0] in PRIMARY for k in groups):
        for key in [k for k in groups if k[0] in RESTATING]:
            folded += groups.pop(key)
    else:  # only restating kinds: keep the most specific one or two
        for weaker, stronger in _WEAKER_THAN:
            if any(k[0] is stronger for k in groups):
                for key in [k for k in groups if k[0] is weaker]:
                    folded += groups.pop(key)
    order = {k: i for i, k in enumerate((*PRIMARY, *RESTATING))}
    ranked = sorted(groups.values(), key=lambda g: (order.get(g[0].kind, 99), g[0].line))
    return Grouping(ranked, folded)
