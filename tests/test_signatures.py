"""Signatures checked from the wire (parsers/signatures.py, parsers/handshake_signatures.py): every
CertificateVerify and ServerKeyExchange in the sample captures verifies with its sender's
certificate; an edited one does not; the transcript is not kept past its use."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.capture import read_capture
from parsers.handshake_signatures import HandshakeSignatures
from parsers.handshake_transcript import MAX_TRANSCRIPT, HandshakeTranscript
from parsers.keylog import KeyLog
from parsers.model import CertificateVerify, Direction, ServerKeyExchange, Transcript
from tests.helpers import tls_bytes as TB

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _read(pcap: Path) -> list[Transcript]:
    keylog = KeyLog()
    keys = pcap.with_suffix(".keys")
    if keys.exists():
        keylog.add_text(keys.read_text())
    return read_capture(pcap, keylog).transcripts


def _signatures(t: Transcript) -> list[tuple[str, str, bool | None, str]]:
    return [
        (e.direction.value, type(e.message).__name__, e.message.verified, e.message.unchecked)
        for e in t.events
        if isinstance(e.message, (CertificateVerify, ServerKeyExchange))
    ]


# how many signatures each sample holds (server's ServerKeyExchange / CertificateVerify, client's
# CertificateVerify): all of them must verify
EXPECTED = {
    "tls12-success.pcap": 2,
    "tls12-sigalg-mismatch.pcap": 1,
    "tls12-no-client-cert.pcap": 1,
    "tls12-resumed.pcap": 2,
    "tls13-success.pcap": 2,
    "tls13-hello-retry.pcap": 2,
    "tls13-certificate-required.pcap": 1,
    "tls13-secrets.pcapng": 2,
    "tls13-ipv6.pcap": 2,
    "tls13-unknown-ca.pcap": 2,
    "several.pcap": 5,
}


@pytest.mark.parametrize("pcap", sorted(p.name for p in CAPTURES.glob("*.pcap*")))
def test_every_sample_signature_verifies(pcap: str) -> None:
    found = [s for t in _read(CAPTURES / pcap) for s in _signatures(t)]
    assert [s for s in found if s[2] is not True] == []
    if pcap in EXPECTED:
        assert len(found) == EXPECTED[pcap]


def test_the_hello_retry_transcript_uses_message_hash() -> None:
    """RFC 8446 §4.4.1: both CertificateVerify messages after a HelloRetryRequest verify only
    with ClientHello1 replaced by its message_hash (the capture holds one of each)."""
    (t,) = _read(CAPTURES / "tls13-hello-retry.pcap")
    assert [(s[0], s[2]) for s in _signatures(t)] == [("server", True), ("client", True)]


def _messages(pcap: Path) -> list[tuple[Direction, bytes]]:
    """The clear handshake messages of a TLS 1.2 sample (one connection, loopback, no
    retransmissions), raw with their headers, in the order the transcript shows them."""
    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    from parsers.handshake import HandshakeAssembler

    (t,) = _read(pcap)
    assert t.version == 0x0303
    streams = {Direction.CLIENT: bytearray(), Direction.SERVER: bytearray()}
    for packet in rdpcap(str(pcap)):
        if packet.haslayer(TCP) and bytes(packet[TCP].payload):
            client = packet[TCP].sport == t.client.port
            streams[Direction.CLIENT if client else Direction.SERVER] += bytes(packet[TCP].payload)
    per_direction: dict[Direction, list[bytes]] = {}
    for d, data in streams.items():
        assembler, found, pos = HandshakeAssembler(), [], 0
        while pos + 5 <= len(data) and data[pos] == 22:  # clear handshake records, up to the CCS
            length = int.from_bytes(data[pos + 3 : pos + 5], "big")
            found += assembler.feed(bytes(data[pos + 5 : pos + 5 + length]))[0]
            pos += 5 + length
        per_direction[d] = found
    return [
        (e.direction, per_direction[e.direction].pop(0))
        for e in t.events
        if not e.encrypted and e.label not in ("ChangeCipherSpec",) and per_direction[e.direction]
    ]


def _feed(messages: list[tuple[Direction, bytes]]) -> list[object]:
    from parsers import messages as decoder

    checker = HandshakeSignatures()
    return [checker.message(d, raw, decoder.decode(raw[0], raw, False, lean=True)) for d, raw in messages]


def test_one_flipped_bit_turns_valid_into_invalid() -> None:
    sent = _messages(CAPTURES / "tls12-success.pcap")
    verdicts = [m.verified for m in _feed(sent) if isinstance(m, (CertificateVerify, ServerKeyExchange))]
    assert verdicts == [True, True]
    for kind in (12, 15):  # the ServerKeyExchange's signature, then the CertificateVerify's
        edited = []
        for d, raw in sent:
            if raw[0] == kind:
                raw = raw[:-10] + bytes([raw[-10] ^ 0x01]) + raw[-9:]
            edited.append((d, raw))
        decoded = [m for m in _feed(edited) if isinstance(m, (CertificateVerify, ServerKeyExchange))]
        # the CertificateVerify covers the ServerKeyExchange: a bit flipped in the latter fails both
        assert [(type(m).__name__, m.verified) for m in decoded] == [
            ("ServerKeyExchange", kind != 12),
            ("CertificateVerify", False),
        ]
        bad = next(m for m in decoded if m.verified is False)
        assert bad.unchecked == "the signature does not verify with the certificate's public key"


def test_an_edited_transcript_fails_the_client_signature() -> None:
    """The CertificateVerify covers every message before it: one changed byte of the
    ClientHello's random (the signature untouched) fails it."""
    sent = _messages(CAPTURES / "tls12-success.pcap")
    first_direction, hello = sent[0]
    sent[0] = (first_direction, hello[:20] + bytes([hello[20] ^ 0x80]) + hello[21:])
    verdicts = [
        (type(m).__name__, m.verified)
        for m in _feed(sent)
        if isinstance(m, (CertificateVerify, ServerKeyExchange))
    ]
    # the ServerKeyExchange signs the client random too
    assert verdicts == [("ServerKeyExchange", False), ("CertificateVerify", False)]


def test_the_transcript_is_released_after_the_client_signature() -> None:
    from parsers import messages as decoder

    checker = HandshakeSignatures()
    for d, raw in _messages(CAPTURES / "tls12-success.pcap"):
        checker.message(d, raw, decoder.decode(raw[0], raw, False, lean=True))
        if raw[0] == 15:
            assert checker.transcript.released and len(checker.transcript.data) == 0


def test_a_transcript_past_the_cap_is_left_unchecked() -> None:
    transcript = HandshakeTranscript()
    transcript.add(b"\x01" * 100)
    transcript.add(b"\x0b" * MAX_TRANSCRIPT)
    assert transcript.too_long and not transcript.available and len(transcript.data) == 0


def test_past_the_first_connections_only_what_a_failure_hinges_on_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Cost: past FULL_CHECKS connections, a completed handshake's signatures are left unchecked
    (the peer accepted them); a failed one's only on the side its peer ended it for, and not at
    all when the alert names a cause no signature can be (unknown_ca: the server judged the
    issuer, on the Certificate message). The same capture with the alert made decrypt_error
    has its client signature checked."""
    import parsers.handshake_signatures as H

    monkeypatch.setattr(H, "FULL_CHECKS", 0)
    (completed,) = _read(CAPTURES / "tls12-success.pcap")
    assert [(s[2], s[3]) for s in _signatures(completed)] == [(None, H.DEFERRED), (None, H.DEFERRED)]
    (rejected,) = _read(CAPTURES / "tls12-unknown-ca.pcap")  # the server's fatal unknown_ca
    assert [(s[0], s[2], s[3]) for s in _signatures(rejected)] == [
        ("server", None, H.DEFERRED),
        ("client", None, H.DEFERRED),
    ]
    data = (CAPTURES / "tls12-unknown-ca.pcap").read_bytes()
    unknown_ca = TB.alert_record(TB.UNKNOWN_CA)
    assert data.count(unknown_ca) == 1
    edited = tmp_path / "decrypt-error.pcap"
    edited.write_bytes(data.replace(unknown_ca, TB.alert_record(TB.DECRYPT_ERROR)))
    edited.with_suffix(".keys").write_bytes((CAPTURES / "tls12-unknown-ca.keys").read_bytes())
    (decrypt_error,) = _read(edited)
    assert [(s[0], s[2], s[3]) for s in _signatures(decrypt_error)] == [
        ("server", None, H.DEFERRED),
        ("client", True, ""),
    ]


def test_the_scheme_must_fit_the_key(tmp_path: Path) -> None:
    """rsa_pss_rsae_* needs an rsaEncryption key, rsa_pss_pss_* an RSASSA-PSS key; TLS 1.3 ties
    each ECDSA scheme to its curve and forbids rsa_pkcs1_* in CertificateVerify."""
    from parsers.signatures import fits
    from tests import pki as P

    acme = P.make_pki()
    rsa_leaf = acme.leaf.cert
    ec_leaf = P.issue("ec", acme.intermediate, key=P.new_key("ec", 256)).cert
    pss_leaf, _ = P.rsa_pss_leaf("pss", acme.intermediate, tmp_path)
    assert fits(0x0804, rsa_leaf, tls13=True) == (True, "")
    assert fits(0x0809, rsa_leaf, tls13=True)[0] is False
    assert fits(0x0809, pss_leaf, tls13=True) == (True, "")
    assert fits(0x0804, pss_leaf, tls13=False)[0] is False
    assert fits(0x0401, rsa_leaf, tls13=False) == (True, "")
    assert fits(0x0401, rsa_leaf, tls13=True) == (False, "TLS 1.3 forbids rsa_pkcs1_* in CertificateVerify")
    assert fits(0x0403, ec_leaf, tls13=True) == (True, "")
    assert fits(0x0503, ec_leaf, tls13=False) == (True, "")  # TLS 1.2: any curve
    assert fits(0x0503, ec_leaf, tls13=True)[0] is False
    assert fits(0x0403, rsa_leaf, tls13=False)[0] is False
    assert fits(0x0807, ec_leaf, tls13=True)[0] is False
    assert fits(0xFEFE, rsa_leaf, tls13=True)[0] is None


def test_a_scheme_the_server_did_not_offer_is_named() -> None:
    """The CertificateRequest of a real capture, its list edited to leave out the scheme the
    client then used: the verdict records it, and the rule names it."""
    import dataclasses

    from inspector.rules.wire_rules import check_transcript
    from parsers import messages as decoder
    from parsers.model import CertificateRequest

    sent = _messages(CAPTURES / "tls12-success.pcap")
    checker = HandshakeSignatures()
    verify = None
    for d, raw in sent:
        m = decoder.decode(raw[0], raw, False, lean=True)
        if isinstance(m, CertificateRequest):
            m = dataclasses.replace(m, signature_algorithms=(0x0403, 0x0401))
        out = checker.message(d, raw, m)
        if isinstance(out, CertificateVerify):
            verify = out
    assert verify is not None and (verify.algorithm, verify.scheme_offered) == (0x0804, False)
    (t,) = _read(CAPTURES / "tls12-success.pcap")
    t.events = [
        dataclasses.replace(e, message=verify) if isinstance(e.message, CertificateVerify) else e
        for e in t.events
    ]
    t.events = [
        dataclasses.replace(e, message=dataclasses.replace(e.message, signature_algorithms=(0x0403, 0x0401)))
        if isinstance(e.message, CertificateRequest)
        else e
        for e in t.events
    ]
    (finding,) = [f for f in check_transcript(t) if f.code == "client-signature-scheme-not-offered"]
    assert "rsa_pss_rsae_sha256, which the server's CertificateRequest does not list" in finding.summary


def _deferred_vs_engine(
    monkeypatch: pytest.MonkeyPatch, pcap: Path
) -> tuple[list[Transcript], list[Transcript]]:
    """The same capture read with every connection past FULL_CHECKS: once through
    DeferredSignatures (the log, marks, replay on failure), once through the full
    HandshakeSignatures(eager=False) it stands in for."""
    import parsers.handshake_signatures as H
    import parsers.tls as T

    monkeypatch.setattr(H, "FULL_CHECKS", 0)
    deferred = _read(pcap)
    monkeypatch.setattr(T, "signature_checker", lambda index: H.HandshakeSignatures(index, eager=False))
    engine = _read(pcap)
    return deferred, engine


@pytest.mark.parametrize("pcap", sorted(p.name for p in CAPTURES.glob("*.pcap*")))
def test_deferred_checks_say_what_the_full_checker_says(monkeypatch: pytest.MonkeyPatch, pcap: str) -> None:
    """Cost without a different answer: past FULL_CHECKS a handshake is only logged, marked in
    one pass when it completes and replayed when it fails; every signature's verdict must
    equal the full checker's, message for message."""
    deferred, engine = _deferred_vs_engine(monkeypatch, CAPTURES / pcap)
    assert [[e.message for e in t.events] for t in deferred] == [
        [e.message for e in t.events] for t in engine
    ]
    assert [_signatures(t) for t in deferred] == [_signatures(t) for t in engine]


def test_deferred_hands_a_long_or_renegotiated_handshake_to_the_full_checker() -> None:
    """A transcript past MAX_TRANSCRIPT, and a second ClientHello before the first handshake
    was settled, are replayed into a HandshakeSignatures that takes over: same verdicts."""
    from parsers import messages as decoder
    from parsers.handshake_signatures import DeferredSignatures

    sent = _messages(CAPTURES / "tls12-success.pcap")
    padding = (Direction.SERVER, bytes([99]) + (MAX_TRANSCRIPT).to_bytes(3, "big") + bytes(MAX_TRANSCRIPT))
    long_one = [*sent[:3], padding, *sent[3:]]
    renegotiated = sent[:2] + sent  # a ClientHello + ServerHello, then a whole handshake again
    for flow in (long_one, renegotiated):
        deferred, engine = DeferredSignatures(200), HandshakeSignatures(200, eager=False)
        got, want = [], []
        for d, raw in flow:
            m = decoder.decode(raw[0], raw, False, lean=True)
            got.append(deferred.message(d, raw, m))
            want.append(engine.message(d, raw, m))
        assert deferred.engine is not None  # handed over
        marked = [deferred.marks.get(id(m), m) for m in got]
        assert marked == want
        verdicts = [m for m in want if isinstance(m, CertificateVerify)]
        assert verdicts and all(v.verified is None for v in verdicts)
        if flow is long_one:
            assert [v.unchecked for v in verdicts] == [
                f"the handshake is longer than {MAX_TRANSCRIPT} bytes: not kept, not checked"
            ]
