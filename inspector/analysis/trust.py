"""Java's trust verdict on a server's chain, judged in one place for every command: pcap (each
connection's chain), probe (the live chain) and log (the chain rebuilt from the log's text).

`judge_server_chain` asks the JDK's PKIX trust manager (inspector/java/trust.py); the findings
are worded by inspector/rules/trust_rules.py. A --truststore is read on first use and kept: a
capture judges every connection with it, and a truststore never needed is never read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.findings import Finding, Location, Severity, sort_findings
from inspector.java.trust import Truststore, default_truststore, judge, load_truststore
from inspector.java.verdict import TrustVerdict
from inspector.rules.probe_rules import with_java_verdict
from inspector.rules.trust_rules import chain_trust_finding, trust_finding
from inspector.system.errors import InputError
from inspector.system.times import utc_from_timestamp
from parsers.model import Certificate, Direction, Transcript

if TYPE_CHECKING:
    from cryptography import x509

    from inspector.analysis.probe import ProbeResult
    from parsers.javalog import LoggedHandshake


@dataclass(frozen=True)
class TruststoreSource:
    """A --truststore as given: its path, and how to get its password (asked at first use only)."""

    path: str
    password: Callable[[], str | None]


#: truststores read in this process, by path: read once however many chains are judged
_LOADED: dict[str, Truststore] = {}


def load_given(source: TruststoreSource) -> Truststore:
    """The truststore the user gave, read on first use (InputError: one line and a hint)."""
    store = _LOADED.get(source.path)
    if store is None:
        path = Path(source.path)
        if not path.exists():
            raise InputError(f"--truststore {path}: no such file", "check the path")
        store = _LOADED[source.path] = load_truststore(path, source.password())
    return store


def load_for_log(source: TruststoreSource | None, jdk_cacerts: bool) -> Truststore | None:
    """The truststore given; this machine's JDK cacerts only when asked (--jdk-cacerts): a log
    usually comes from another machine, whose truststore this one does not hold."""
    if source is not None:
        return load_given(source)
    if not jdk_cacerts:
        return None
    try:
        return default_truststore()
    except InputError:
        return None


def judge_server_chain(
    chain: tuple[x509.Certificate, ...],
    store: Truststore,
    host: str | None,
    at: dt.datetime,
    *,
    rebuilt: bool = False,
) -> TrustVerdict:
    """Java's verdict on a server chain; `rebuilt`: the certificates were read off a log's text
    (names and key ids only: their signatures cannot be checked)."""
    return judge(chain, store, host, at, check_signatures=not rebuilt)


def judge_transcript(
    source: TruststoreSource, t: Transcript, label: str, at: dt.datetime | None
) -> list[Finding]:
    """pcap: the server chain of one connection judged with --truststore, as one finding."""
    event = t.first(Certificate, Direction.SERVER)
    if event is None or not isinstance(event.message, Certificate) or not event.message.chain:
        return []
    when = at or utc_from_timestamp(t.start_time)
    verdict = judge_server_chain(event.message.chain, load_given(source), t.server_name, when)
    frame = f", frame {event.frame}" if event.frame is not None else ""
    where = Location(file=label, connection=t.index)
    return [
        chain_trust_finding(
            verdict, event.message.chain, where, f"server Certificate at {event.time:.3f} s{frame}"
        )
    ]


def judge_probe(result: ProbeResult, source: TruststoreSource) -> ProbeResult:
    """probe: the live server chain judged with --truststore; Java's verdict is the one a Java
    client acts on, so it settles OpenSSL's (rules/probe_rules.with_java_verdict)."""
    target = result.request.target
    label = f"{target.host}:{target.port}"
    chain = tuple(result.attempt.server_chain)
    now = dt.datetime.now(dt.timezone.utc)
    verdict = judge_server_chain(chain, load_given(source), target.servername or target.host, now)
    found = chain_trust_finding(verdict, chain, Location(file=label), f"server Certificate from {label}")
    findings = with_java_verdict(list(result.connection.findings), found)
    connection = dataclasses.replace(result.connection, findings=sort_findings(findings))
    return dataclasses.replace(result, connection=connection)


def judge_logged(
    logged: LoggedHandshake,
    store: Truststore,
    file: str,
    host: str | None,
    at: dt.datetime | None,
    explicit: bool,
) -> list[Finding]:
    """log: the server chain a client's log shows, judged and weighed against what the client
    did; `explicit`: the client's own truststore (--truststore), not this machine's cacerts."""
    from parsers.javalog.certtext import facts_of

    if logged.role.value != "client":
        return []  # a server's log: its trust manager judged the client, not this chain
    event = logged.transcript.first(Certificate, Direction.SERVER)
    if event is None or not isinstance(event.message, Certificate):
        return []
    chain = event.message.chain
    t = logged.transcript
    when = at or (utc_from_timestamp(t.start_time) if t.start_time else dt.datetime.now(dt.timezone.utc))
    rebuilt = any(facts_of(c) is not None for c in chain)
    verdict = judge_server_chain(chain, store, host, when, rebuilt=rebuilt)
    found = trust_finding(verdict, logged, file, host, explicit=explicit)
    if found is not None and not explicit and found.severity is not Severity.INFO:
        # this machine's cacerts, not the client's truststore: a hint, never an error
        found = dataclasses.replace(found, severity=Severity.INFO)
    return [found] if found else []
