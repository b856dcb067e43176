"""A JKS or JCEKS holding one alias twice (or an upper-case alias beside its lower-case twin) is
read as keytool reads it: both formats allow it (another tool wrote the file, or two were
spliced), JDK 17's keytool loads it, and `keytool -list -v` is the truth for which entry each
alias shows. (pyjks, our JCEKS reader, refuses such a file: "Found duplicate alias"; the store
was reported corrupt.)

The stores are made by keytool, then their entries spliced into one file with its digest
recomputed (what keytool itself never writes, but loads); key pairs and trusted certificates are
framed alike in both formats."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from tests import pki as P
from tests.conftest import needs_keytool

pytestmark = [needs_keytool, pytest.mark.keytool]
PW = "changeit"


def _entries(data: bytes) -> list[bytes]:
    """Each entry's bytes of a version-2 JKS or JCEKS holding key pairs and trusted certificates (as
    keytool writes them)."""
    body, pos, out = data[:-20], 12, []
    for _ in range(struct.unpack(">I", body[8:12])[0]):
        start = pos
        tag = struct.unpack(">I", body[pos : pos + 4])[0]
        pos += 6 + struct.unpack(">H", body[pos + 4 : pos + 6])[0] + 8
        if tag == 1:
            pos += 4 + struct.unpack(">I", body[pos : pos + 4])[0]
            certs = struct.unpack(">I", body[pos : pos + 4])[0]
            pos += 4
        else:
            certs = 1
        for _ in range(certs):
            pos += 2 + struct.unpack(">H", body[pos : pos + 2])[0]  # the certificate type
            pos += 4 + struct.unpack(">I", body[pos : pos + 4])[0]
        out.append(body[start:pos])
    return out


def _renamed(entry: bytes, alias: str) -> bytes:
    size = struct.unpack(">H", entry[4:6])[0]
    return entry[:4] + struct.pack(">H", len(alias)) + alias.encode() + entry[6 + size :]


def splice(out: Path, parts: list[tuple[Path, str]]) -> Path:
    """A store of the first entry of each store, under the alias given, in this order (in the
    format of the first: JKS or JCEKS)."""
    magic = parts[0][0].read_bytes()[:4]
    entries = [_renamed(_entries(store.read_bytes())[0], alias) for store, alias in parts]
    body = magic + struct.pack(">II", 2, len(entries)) + b"".join(entries)
    out.write_bytes(body + hashlib.sha1(PW.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest())
    return out


@pytest.fixture(scope="module", params=["JKS", "JCEKS"])
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two key pairs (CN=one, CN=two) and a trusted certificate (CN=one), each in its own store
    of the format."""
    kind: str = request.param
    d = tmp_path_factory.mktemp(f"dupalias-{kind}")
    made = {}
    for cn in ("one", "two"):
        made[cn] = d / f"{cn}.{kind.lower()}"
        P.keytool(
            "-genkeypair", "-keystore", made[cn].name, "-storetype", kind, "-storepass", PW, "-keypass", PW,
            "-alias", "k", "-keyalg", "EC", "-dname", f"CN={cn}", "-validity", "400", cwd=d,
        )  # fmt: skip
    P.keytool(
        "-exportcert",
        "-rfc",
        "-keystore",
        made["one"].name,
        "-storepass",
        PW,
        "-alias",
        "k",
        "-file",
        "one.pem",
        cwd=d,
    )
    made["trusted"] = d / f"trusted.{kind.lower()}"
    P.keytool(
        "-importcert", "-noprompt", "-keystore", made["trusted"].name, "-storetype", kind, "-storepass", PW,
        "-alias", "t", "-file", "one.pem", cwd=d,
    )  # fmt: skip
    return made


def keytool_view(path: Path) -> list[tuple[str, str, str]]:
    """(alias, entry type, SHA-256 of the first certificate) as `keytool -list -v` prints them."""
    out = P.keytool("-list", "-v", "-keystore", str(path), "-storepass", PW, cwd=path.parent).stdout
    view: list[tuple[str, str, str]] = []
    alias = kind = ""
    for line in out.splitlines():
        if line.startswith("Alias name: "):
            alias = line.split(": ", 1)[1]
        elif line.startswith("Entry type: "):
            kind = line.split(": ", 1)[1]
        elif line.strip().startswith("SHA256: ") and alias:
            view.append((alias, kind, line.split(": ", 1)[1].replace(":", "").lower()))
            alias = ""
    assert f"Your keystore contains {len(view)} entr" in out
    return sorted(view)


def our_view(cli, path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:  # type: ignore[no-untyped-def]
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert result.status in (0, 1), result.err
    doc = result.json()["keystore"]
    view = []
    for entry in doc["entries"]:
        first = entry["chain"][0] if entry["type"] == "PrivateKeyEntry" else entry["certificate"]
        view.append((entry["alias"], entry["type"], first["sha256"]))
    return sorted(view), doc["notes"]


def test_an_alias_written_twice_shows_the_last_entry_as_keytool_does(cli, stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = splice(tmp_path / f"dup{stores['one'].suffix}", [(stores["one"], "dup"), (stores["two"], "dup")])
    theirs = keytool_view(path)
    assert len(theirs) == 1  # keytool: "Your keystore contains 1 entry", CN=two's certificate
    ours, notes = our_view(cli, path)
    assert ours == theirs
    assert notes == [
        "alias 'dup' is written 2 times in the file: Java (and keytool -list) keeps the last entry; "
        "the earlier one is never read"
    ]


def test_a_key_entry_replaced_by_a_later_trusted_entry(cli, stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = splice(
        tmp_path / f"kinds{stores['one'].suffix}",
        [
            (stores["two"], "dup"),
            (stores["trusted"], "dup"),
            (stores["one"], "dup"),
            (stores["trusted"], "dup"),
        ],
    )
    theirs = keytool_view(path)
    assert [kind for _, kind, _ in theirs] == ["trustedCertEntry"]
    ours, notes = our_view(cli, path)
    assert ours == theirs
    assert notes[0].startswith("alias 'dup' is written 4 times in the file") and "3 earlier ones" in notes[0]


def test_an_upper_case_alias_beside_its_twin_shows_the_twin(cli, stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Java looks `DUP` up as `dup`: keytool lists DUP with dup's type and certificate."""
    path = splice(
        tmp_path / f"twins{stores['one'].suffix}",
        [
            (stores["one"], "dup"),
            (stores["two"], "dup"),
            (stores["one"], "DUP"),
            (stores["trusted"], "other"),
        ],
    )
    theirs = keytool_view(path)
    assert len(theirs) == 3
    ours, notes = our_view(cli, path)
    assert ours == theirs
    assert "alias 'DUP' is looked up as 'dup' (Java lower-cases every alias)" in notes[1]
    # the key entry under DUP is dup's: Java opens it, so no "cannot open it" error for DUP
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert "alias-unreachable-in-java" not in result.codes()


def test_an_upper_case_key_alias_beside_a_trusted_twin(cli, stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = splice(
        tmp_path / f"mixed{stores['one'].suffix}", [(stores["one"], "DUP"), (stores["trusted"], "dup")]
    )
    theirs = keytool_view(path)
    assert [(alias, kind) for alias, kind, _ in theirs] == [
        ("DUP", "trustedCertEntry"),
        ("dup", "trustedCertEntry"),
    ]
    ours, _ = our_view(cli, path)
    assert ours == theirs


def test_a_jceks_secret_key_and_a_key_pair_under_one_alias(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A JCEKS with a secret key (a serialized SealedObject, not framed by length) beside a key
    pair reads whole; the first entry renamed to the other's alias, the last one written wins,
    whatever its kind, as keytool shows."""
    store = tmp_path / "mixed.jceks"
    P.keytool(
        "-genseckey", "-alias", "s", "-keyalg", "AES", "-keysize", "128", "-keystore", store.name,
        "-storetype", "JCEKS", "-storepass", PW, "-keypass", PW, cwd=tmp_path,
    )  # fmt: skip
    P.keytool(
        "-genkeypair", "-keystore", store.name, "-storetype", "JCEKS", "-storepass", PW, "-keypass", PW,
        "-alias", "k", "-keyalg", "EC", "-dname", "CN=pair", "-validity", "400", cwd=tmp_path,
    )  # fmt: skip
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert result.status == 0, result.err
    assert sorted((e["alias"], e["type"]) for e in result.json()["keystore"]["entries"]) == [
        ("k", "PrivateKeyEntry"),
        ("s", "SecretKeyEntry"),
    ]
    data = store.read_bytes()
    found = sorted(
        (data.index(tag + b"\x00\x01" + alias), tag, alias, kind)
        for tag, alias, kind in (
            (b"\x00\x00\x00\x03", b"s", "SecretKeyEntry"),
            (b"\x00\x00\x00\x01", b"k", "PrivateKeyEntry"),
        )
    )
    (first_at, first_tag, _, _), (_, _, last_alias, last_kind) = found  # keytool's order: its table's
    renamed = data[:first_at] + first_tag + b"\x00\x01" + last_alias + data[first_at + 7 :]
    body = renamed[:-20]
    respliced = tmp_path / "over.jceks"
    respliced.write_bytes(body + hashlib.sha1(PW.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest())
    listed = P.keytool("-list", "-keystore", respliced.name, "-storepass", PW, cwd=tmp_path).stdout
    assert "Your keystore contains 1 entry" in listed and last_kind in listed
    result = cli("keystore", str(respliced), "--storepass", PW, "--json")
    # a store left with a secret key only has no key pair for a client: an error finding, status 1
    assert result.status == (0 if last_kind == "PrivateKeyEntry" else 1), result.err
    document = result.json()["keystore"]
    alias = last_alias.decode()
    assert [(e["alias"], e["type"]) for e in document["entries"]] == [(alias, last_kind)]
    assert document["notes"] == [
        f"alias '{alias}' is written 2 times in the file: Java (and keytool -list) keeps the last entry; "
        "the earlier one is never read"
    ]
