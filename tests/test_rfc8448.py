"""RFC 8448 §3 ("Simple 1-RTT Handshake") is the independent oracle for TLS 1.3 decryption: its
published secrets must give its published keys, and its published server flight, captured and
decrypted with an NSS key log holding its published secret, must yield its published messages.
The vectors below are the RFC's (hex, as printed there)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from parsers.decrypt import DecryptError, Tls13Decryptor, hkdf_expand_label
from parsers.model import Direction, Endpoint
from parsers.stream import write_pcap
from tests.helpers import tls_bytes as TB

CLIENT_HELLO = (
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b"
    "0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d0020"
    "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e04030503060302030804"
    "0805080604010501060102010402050206020202002d00020101001c00024001"
)
SERVER_HELLO = (
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876"
    "112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
)
CLIENT_RANDOM = "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
SERVER_HS_SECRET = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
CLIENT_HS_SECRET = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
SERVER_HS_KEY, SERVER_HS_IV = "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"
CLIENT_HS_KEY, CLIENT_HS_IV = "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"
SERVER_AP_SECRET = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"
SERVER_AP_KEY, SERVER_AP_IV = "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"
SERVER_FLIGHT_RECORD = (
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb96"
    "0b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c"
    "79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0c"
    "bae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ea"
    "d686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409"
    "960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d9"
    "02f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a"
    "6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca"
    "71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918"
    "a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf"
    "10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b"
    "5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719"
    "bfdabf0253fe5175be898e750edc53370d2b"
)
SERVER_FLIGHT_PLAINTEXT = (
    "080000240022000a00140012001d00170018001901000101010201030104001c00024001000000000b0001b9000001b50001b0308201ac30"
    "820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504031303727361301e170d313630373330303132"
    "3335395a170d3236303733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d01010105000381"
    "8d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c"
    "1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae"
    "8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f04"
    "04030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a5943654"
    "17f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7"
    "107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de100000f000084080400805a747c"
    "5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa7"
    "85c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e06"
    "3dda65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"
)


def record(content_type: int, body_hex: str) -> bytes:
    return TB.record(content_type, bytes.fromhex(body_hex))


@pytest.mark.parametrize(
    ("secret", "key", "iv"),
    [
        (SERVER_HS_SECRET, SERVER_HS_KEY, SERVER_HS_IV),
        (CLIENT_HS_SECRET, CLIENT_HS_KEY, CLIENT_HS_IV),
        (SERVER_AP_SECRET, SERVER_AP_KEY, SERVER_AP_IV),
    ],
)
def test_key_schedule_gives_the_rfc_keys(secret: str, key: str, iv: str) -> None:
    assert hkdf_expand_label(bytes.fromhex(secret), b"key", 16, "sha256").hex() == key
    assert hkdf_expand_label(bytes.fromhex(secret), b"iv", 12, "sha256").hex() == iv


def test_record_decryption_gives_the_rfc_flight() -> None:
    wire = bytes.fromhex(SERVER_FLIGHT_RECORD)
    decryptor = Tls13Decryptor.from_secret(0x1301, bytes.fromhex(SERVER_HS_SECRET))
    content_type, content = decryptor.decrypt(wire[:5], wire[5:])
    assert (content_type, content.hex()) == (22, SERVER_FLIGHT_PLAINTEXT)
    flipped = bytearray(wire)
    flipped[100] ^= 1
    with pytest.raises(DecryptError):
        Tls13Decryptor.from_secret(0x1301, bytes.fromhex(SERVER_HS_SECRET)).decrypt(
            bytes(flipped[:5]), bytes(flipped[5:])
        )


@pytest.fixture(scope="module")
def rfc_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The RFC's ClientHello, ServerHello and encrypted server flight as a capture, with a key
    log holding the RFC's handshake secrets."""
    d = tmp_path_factory.mktemp("rfc8448")
    client, server = Endpoint("192.0.2.1", 50000), Endpoint("192.0.2.2", 443)
    chunks = [
        (Direction.CLIENT, 1_500_000_000.0, record(22, CLIENT_HELLO)),
        (Direction.SERVER, 1_500_000_000.001, record(22, SERVER_HELLO) + bytes.fromhex(SERVER_FLIGHT_RECORD)),
    ]
    with (d / "rfc8448.pcap").open("wb") as handle:
        write_pcap(handle, chunks, client, server, 1_500_000_000.0)
    keys = d / "rfc8448.keys"
    keys.write_text(
        f"SERVER_HANDSHAKE_TRAFFIC_SECRET {CLIENT_RANDOM} {SERVER_HS_SECRET}\n"
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {CLIENT_RANDOM} {CLIENT_HS_SECRET}\n"
    )
    return d / "rfc8448.pcap", keys


def test_the_rfc_trace_decodes_from_a_capture(cli, rfc_capture) -> None:  # type: ignore[no-untyped-def]
    pcap, keys = rfc_capture
    result = cli("pcap", str(pcap), "--keylog", str(keys), "--json", "--all")
    assert result.status in (0, 1), result.err
    (conn,) = result.json()["connections"]
    assert conn["decrypted"] is True and conn["version"] == "TLS 1.3"
    names = [(e["direction"], e["message"], e["encrypted"]) for e in conn["events"]]
    assert names == [
        ("client", "ClientHello", False),
        ("server", "ServerHello", False),
        ("server", "EncryptedExtensions", True),
        ("server", "Certificate (1)", True),
        ("server", "CertificateVerify", True),
        ("server", "Finished", True),
    ]
    (cert,) = conn["events"][3]["chain"]
    assert (cert["subject"], cert["issuer"]) == ("CN=rsa", "CN=rsa")


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_the_same_trace(rfc_capture) -> None:  # type: ignore[no-untyped-def]
    """The capture itself is right: Wireshark decrypts the same messages from it."""
    pcap, keys = rfc_capture
    command = ["tshark", "-n", "-r", str(pcap), "-o", f"tls.keylog_file:{keys}"]
    out = subprocess.run(
        [*command, "-Y", "tls", "-T", "json", "-e", "tls.handshake.type"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    types = [t for p in json.loads(out) for t in p["_source"]["layers"].get("tls.handshake.type", [])]
    assert types == ["1", "2", "8", "11", "15", "20"]


def _server_flight(flip_signature_bit: bool) -> str:
    """The RFC's encrypted server flight, re-encrypted (same key, IV, sequence number 0) after
    flipping one bit of the CertificateVerify's signature if asked."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = bytearray(bytes.fromhex(SERVER_FLIGHT_PLAINTEXT))
    if flip_signature_bit:
        verify = plain.index(bytes.fromhex("0f00008408040080"))
        plain[verify + 8 + 40] ^= 0x01  # a bit in the middle of the 128-byte signature
    header = bytes.fromhex(SERVER_FLIGHT_RECORD[:10])
    sealed = AESGCM(bytes.fromhex(SERVER_HS_KEY)).encrypt(
        bytes.fromhex(SERVER_HS_IV), bytes(plain) + b"\x16", header
    )
    return (header + sealed).hex()


def test_re_encryption_reproduces_the_rfc_record() -> None:
    """The flight below is built the way the RFC built its own: unflipped, it is the RFC's record."""
    assert _server_flight(False) == SERVER_FLIGHT_RECORD


@pytest.mark.parametrize(("flip", "mark", "word"), [(False, "✓", "valid"), (True, "✗", "invalid")])
def test_the_rfc_server_certificate_verify(cli, tmp_path, flip, mark, word) -> None:  # type: ignore[no-untyped-def]
    """RFC 8448 §3: the server's CertificateVerify (rsa_pss_rsae_sha256 over ClientHello ..
    Certificate) verifies with the RFC's certificate; one flipped bit of the signature does not."""
    client, server = Endpoint("192.0.2.1", 50000), Endpoint("192.0.2.2", 443)
    flight = record(22, SERVER_HELLO) + bytes.fromhex(_server_flight(flip))
    chunks = [
        (Direction.CLIENT, 1_500_000_000.0, record(22, CLIENT_HELLO)),
        (Direction.SERVER, 1_500_000_000.001, flight),
    ]
    pcap, keys = tmp_path / "rfc8448.pcap", tmp_path / "rfc8448.keys"
    with pcap.open("wb") as handle:
        write_pcap(handle, chunks, client, server, 1_500_000_000.0)
    keys.write_text(f"SERVER_HANDSHAKE_TRAFFIC_SECRET {CLIENT_RANDOM} {SERVER_HS_SECRET}\n")
    result = cli("pcap", str(pcap), "--keylog", str(keys), "--json", "--all")
    (conn,) = result.json()["connections"]
    (verify,) = [e for e in conn["events"] if e["message"] == "CertificateVerify"]
    assert (verify["direction"], verify["signature"], verify["signature_scheme"]) == (
        "server",
        word,
        "rsa_pss_rsae_sha256",
    )
    assert verify["scheme_offered"] is True  # the RFC's ClientHello lists rsa_pss_rsae_sha256
    assert ("server-signature-invalid" in conn["finding_codes"]) is flip
    text = cli("pcap", str(pcap), "--keylog", str(keys), "--connection", "1").out
    (line,) = [x for x in text.splitlines() if "CertificateVerify" in x and "───" in x]
    assert line.rstrip().endswith(f"CertificateVerify {mark} [enc]")
