"""Expiry ahead: a key entry's chain that expires within the watch window.

Already expired (or not yet valid) certificates are the keystore rules' (cert-expired); this
warns before that happens, so a CI job or a monitor can act while the integration still works."""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.keystore.model import Keystore
from inspector.pki import certs as C
from inspector.rules import RuleSet

#: The window when --expires-within is not given: a month, time to get a certificate renewed.
DEFAULT_WINDOW_DAYS = 30

EXPIRES_SOON = register(
    "cert-expires-soon",
    Severity.WARNING,
    "A certificate in a key entry's chain expires within the watch window",
    """A client certificate (or one of its CAs) that expires takes the integration down on that day:
    the server refuses it with certificate_expired, and a Java client sends it anyway. Renewing takes
    a CSR, the CA's turnaround and a redeploy of the keystore, so the warning comes ahead of time
    (30 days unless --expires-within DAYS says otherwise). The days left are also in the
    --prometheus metrics.""",
    "keystore",
)


@dataclass(frozen=True)
class ExpiryContext:
    store: Keystore
    at: dt.datetime
    window_days: int
    alias: str | None = None


RULES: RuleSet[ExpiryContext] = RuleSet()


def days_left(cert_not_after: dt.datetime, at: dt.datetime) -> float:
    return (cert_not_after - at).total_seconds() / 86400


@RULES.rule(EXPIRES_SOON)
def expires_soon(ctx: ExpiryContext) -> Iterator[Finding]:
    for entry in ctx.store.key_entries:
        if ctx.alias not in (None, entry.alias):
            continue
        for i, cert in enumerate(entry.chain):
            left = days_left(cert.not_valid_after_utc, ctx.at)
            if not 0 <= left < ctx.window_days:
                continue
            what = "the client certificate" if i == 0 else f"its CA {C.short_dn(cert.subject)}"
            alias = shlex.quote(entry.alias)
            yield make(
                EXPIRES_SOON,
                f"{what} expires in {int(left)} day(s), on {cert.not_valid_after_utc:%Y-%m-%d} "
                f"(window {ctx.window_days} days)",
                location=Location(file=str(ctx.store.path), alias=entry.alias, position=i),
                evidence=[
                    Evidence(
                        f"keystore entry '{entry.alias}', chain[{i}]",
                        f"notAfter {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
                    )
                ],
                fix=(
                    f"renew now: keytool -certreq -alias {alias} -file renew.csr -keystore "
                    f"{shlex.quote(str(ctx.store.path))}, then import the CA's reply under {alias}"
                    if i == 0
                    else "get the CA's renewed certificate and import the new chain under the key's alias"
                ),
            )


def check_expiry(
    store: Keystore, at: dt.datetime, window_days: int, alias: str | None = None
) -> list[Finding]:
    return RULES.run(ExpiryContext(store, at, window_days, alias))
