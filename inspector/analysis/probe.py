"""`probe`: one live handshake, with Java's choice made at the CertificateRequest, explained."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.analysis.connection import ConnectionResult, selection_for
from inspector.findings import sort_findings
from inspector.java.key_managers import Selection
from inspector.keystore.model import KeyEntry, Keystore
from inspector.live.attempt import Attempt, Target
from inspector.live.probe import handshake, refuse_unanswered
from inspector.rules.probe_rules import check_probe
from inspector.rules.wire_rules import check_transcript
from inspector.system.errors import InputError
from parsers import model
from parsers.constants import HandshakeType
from parsers.model import CertificateRequest, SimpleMessage, Transcript


@dataclass(frozen=True)
class ProbeRequest:
    target: Target
    store: Keystore | None = None
    #: the keystore as the user named it, for messages
    store_label: str = ""
    #: present this key entry, whatever a Java client would choose (--alias)
    alias: str | None = None
    #: whose choice to present without an alias: "PKIX" or "SunX509"
    key_manager: str = "PKIX"
    #: the proxy as the user named it, for the steps
    proxy_label: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    request: ProbeRequest
    attempt: Attempt
    #: the transcript judged: wire and probe findings, and Java's choice for its request
    connection: ConnectionResult
    #: what the probe did, in order (shown above the ladder, and in --json)
    steps: list[str]

    @property
    def transcript(self) -> Transcript:
        return self.connection.transcript


def run_probe(request: ProbeRequest) -> ProbeResult:
    """Make the handshake, then judge it; a server that is not there, or does not speak TLS,
    is a one-line InputError."""
    target, store = request.target, request.store
    entries = {e.alias: e for e in store.key_entries} if store else {}

    def present(alias: str) -> KeyEntry:
        """The entry to present; a key we could not open cannot be presented."""
        entry = entries[alias]
        if entry.private_key is None:
            raise InputError(
                f"{request.store_label}: key entry '{alias}' is locked (its key did not open)",
                "give the store password, and --keypass-env/--keypass-file if the key has its own",
            )
        return entry

    chosen: list[Selection | None] = []

    def choose(t: Transcript) -> KeyEntry | None:
        """At the CertificateRequest: the entry the Java key manager would send, or None."""
        if store is None:
            return None
        sel = selection_for(t, store)
        chosen.append(sel)
        picks = _picks(sel, request.key_manager)
        return present(picks[0]) if picks else None

    alias = request.alias
    attempt = handshake(target, present(alias)) if alias else handshake(target, None, choose)
    host, port = target.host, target.port
    refuse_unanswered(attempt, target)
    assert attempt.transcript is not None
    t = attempt.transcript
    steps = _steps(request, attempt, t, chosen[-1] if chosen else None)
    if target.proxy:
        steps.insert(
            0, f"through proxy {request.proxy_label}: CONNECT {host}:{port} → {attempt.proxy_status}"
        )
    findings = sort_findings(
        check_transcript(t, store, f"{host}:{port}", None, "probe") + check_probe(attempt, target)
    )
    selection = selection_for(t, store)
    return ProbeResult(request, attempt, ConnectionResult(t, findings, selection), steps)


def _picks(sel: Selection | None, key_manager: str) -> list[str]:
    """The aliases the key manager could choose (it takes the first it meets)."""
    if sel is None:
        return []
    return list(sel.sunx509 if key_manager == "SunX509" else sel.pkix)


def _steps(request: ProbeRequest, attempt: Attempt, t: Transcript, sel: Selection | None) -> list[str]:
    """What the probe did, in the order it did it."""
    key_manager = request.key_manager
    mismatch = (
        f"'{attempt.key_mismatch}' would be sent, but its private key is not its certificate's: "
        "OpenSSL refuses the pair, so an empty Certificate was sent instead"
    )
    if request.alias:
        return [mismatch if attempt.key_mismatch else f"presented key entry '{request.alias}' (--alias)"]
    if not attempt.request_seen:
        return [
            "the server sent no CertificateRequest: no client certificate was asked for"
            + (" (TLS 1.3 decrypted with the probe's key log)" if t.tls13 else "")
        ]
    later = _asked_later(t)
    if later:
        how = (
            f"read the CertificateRequest as it arrived {later}, decrypted with the probe's "
            "key log: the server asked only after the handshake"
        )
    elif t.tls13:
        how = "read the CertificateRequest as it arrived, decrypted with the secrets OpenSSL had just logged"
    else:
        how = "read the CertificateRequest as it arrived"
    if request.store is None:
        return [how, "no --keystore: an empty Certificate was sent"]
    if key_manager == "SunX509" and sel is not None and sel.sunx509_fails:
        return [
            how,
            f"a SunX509 client would not even connect ({sel.sunx509_fails}); the probe "
            "went on with an empty Certificate, as a PKIX client sends",
        ]
    if attempt.key_mismatch:
        return [how, f"{mismatch} (Java sends it, then fails on the signature)"]
    if attempt.alias is None:
        return [
            how,
            f"no key entry is one a Java ({key_manager}) client would send here: an "
            "empty Certificate was sent, as Java does",
        ]
    picks = _picks(sel, key_manager)
    also = f" (also possible: {', '.join(picks[1:])})" if len(picks) > 1 else ""
    return [
        how,
        f"installed '{attempt.alias}', the entry a Java ({key_manager}) client chooses, before "
        f"OpenSSL answered{'' if later else ': one handshake'}{also}",
    ]


def _asked_later(t: Transcript) -> str:
    """How the first CertificateRequest came after the handshake, or "" if it did not."""
    for event in t.events:
        hello_request = model.message_as(event, SimpleMessage)
        if hello_request is not None and hello_request.msg_type == HandshakeType.hello_request:
            return "in the renegotiated handshake"
        req = model.message_as(event, CertificateRequest)
        if req is not None:
            return "after the handshake (TLS 1.3 post-handshake auth)" if req.post_handshake else ""
    return ""
