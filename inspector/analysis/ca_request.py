"""`select`: the CertificateRequest to choose for — from CA names, a capture or the server.

Each source ends in the same `CaRequest`, so the choice itself (inspector/java/key_managers.py) does not
care where the request came from.
"""

from __future__ import annotations

import re
from pathlib import Path

from inspector.java.key_managers import CaRequest
from inspector.live.attempt import Target
from inspector.system.errors import InputError
from inspector.system.input_files import read_ca_names
from parsers import model
from parsers.model import CertificateRequest, Transcript


def from_names(
    names: list[bytes],
    tls13: bool,
    source: str,
    signature_algorithms: tuple[int, ...],
    certificate_types: tuple[int, ...],
    assumed: str,
) -> CaRequest:
    """A request naming these CAs (DER names); the rest of it is assumed (or given), and says so."""
    return CaRequest(
        tls13=tls13,
        ca_names=tuple(names),
        certificate_types=() if tls13 else certificate_types,
        signature_algorithms=signature_algorithms,
        source=source,
        ca_names_present=bool(names),
        assumed=assumed,
    )


def names_from_file(path: Path) -> list[bytes]:
    """DER names from PEM certificates (their subjects) or from one DN per line."""
    from cryptography import x509

    from inspector.pki.x500 import parse_dn_text

    data = read_ca_names(path)
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return [c.subject.public_bytes() for c in x509.load_pem_x509_certificates(data)]
        except ValueError as exc:
            raise InputError(
                f"--ca-names {path}: a certificate does not parse ({exc})",
                "give PEM certificates or one DN per line",
            ) from None
    names = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^(subject|issuer|Owner|Issuer)\s*[:=]\s*", "", line)
        try:
            names.append(parse_dn_text(line).public_bytes())
        except ValueError as exc:
            raise InputError(
                f"--ca-names {path}, line {number}: not a DN ({exc})",
                "write one DN per line, e.g. CN=Partner Root,O=Partner",
            ) from None
    return names


def from_pcap(path: Path, keylog_path: Path | None, connection: int | None) -> CaRequest:
    """The first CertificateRequest visible in the capture (in `connection`, if given)."""
    from inspector.analysis.capture import load_keylog
    from parsers.capture import CaptureFormatError, read_capture

    keylog = load_keylog(keylog_path) if keylog_path else None
    if not path.is_file():
        raise InputError(f"--from-pcap {path}: no such file", "check the path")
    best: list[tuple[int, CertificateRequest]] = []  # the lowest-numbered connection's request

    def take(t: Transcript) -> None:  # each transcript as its connection ends, then dropped
        if connection not in (None, t.index) or (best and best[0][0] < t.index):
            return
        seen = model.first(t, CertificateRequest)
        if seen is not None:
            best[:] = [(t.index, seen.message)]

    try:
        read_capture(path, keylog, on_transcript=take)
    except CaptureFormatError as exc:
        raise InputError(f"--from-pcap {path}: {exc}", "give a pcap or pcapng file") from None
    if best:
        index, request = best[0]
        return CaRequest.from_message(request, f"{path}, connection #{index}")
    which = f"connection #{connection}" if connection else "any connection"
    raise InputError(
        f"--from-pcap {path}: no CertificateRequest visible in {which}",
        "TLS 1.3 needs --keylog; or pick another --connection",
    )


def from_server(target: Target, label: str) -> CaRequest:
    """One handshake without a certificate, to read the server's CertificateRequest."""
    from inspector.live.probe import handshake, refuse_unanswered

    attempt = handshake(target, None)
    refuse_unanswered(attempt, target)
    assert attempt.transcript is not None
    seen = model.first(attempt.transcript, CertificateRequest)
    if seen is None:
        if attempt.reset_by is not None:
            said = "the server reset the connection before any CertificateRequest"
        elif not attempt.completed:
            ended = attempt.error or ("no answer before --timeout" if attempt.timed_out else "closed")
            said = f"the handshake ended before any CertificateRequest ({ended})"
        else:
            said = "the server sent no CertificateRequest"
            raise InputError(f"--from-server {label}: {said}", "it does not ask for client certificates here")
        raise InputError(
            f"--from-server {label}: {said}", f"run mtls-inspect probe {label} to see the handshake"
        )
    return CaRequest.from_message(seen.message, f"server {target.host}:{target.port}")
