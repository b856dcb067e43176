"""Hypothesis mutates real keystores; every result must keep the contract: a report (0/1) or one
line on stderr naming the file (2), never "internal error", never raw control characters."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.cli import main
from tests import pki as P

PW = "changeit"
EXAMPLES = 25 if os.environ.get("CI") else int(os.environ.get("KEYSTORE_FUZZ_EXAMPLES", "80"))


def _seeds(tmp: Path) -> dict[str, bytes]:
    pki = P.make_pki()
    chain = [pki.leaf.cert, pki.intermediate.cert, pki.root.cert]
    seeds = {
        "jks": P.write_jks(
            tmp / "s.jks", PW, keys=[("a", pki.leaf.key, chain)], trusted=[("r", pki.root.cert)]
        ),
        "p12": P.write_pkcs12(tmp / "s.p12", PW, "a", pki.leaf.key, chain),
    }
    pem = tmp / "s.pem"
    pem.write_bytes(pki.leaf.key_pem + pki.leaf.pem + pki.intermediate.pem)
    seeds["pem"] = pem
    openssl = shutil.which("openssl")
    if openssl is not None:  # no MAC: nothing stops the parser before the structures
        (tmp / "k.pem").write_bytes(pki.leaf.key_pem)
        (tmp / "c.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
        subprocess.run(
            [
                *(openssl, "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-nomac", "-legacy"),
                *("-passout", f"pass:{PW}", "-out", "nomac.p12"),
            ],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        seeds["nomac"] = tmp / "nomac.p12"
    return {kind: path.read_bytes() for kind, path in seeds.items()}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return _seeds(tmp_path_factory.mktemp("seeds"))


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        where = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "set", "cut", "insert", "truncate"]))
        if action == "flip":
            out[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            out[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del out[where : where + draw(st.integers(1, 16))]
        elif action == "insert":
            out[where:where] = draw(st.binary(min_size=1, max_size=16))
        else:
            del out[where:]
    return bytes(out)


@pytest.mark.parametrize("kind", ["jks", "p12", "pem", "nomac"])
def test_mutated_keystores_keep_the_contract(seeds, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    if kind not in seeds:
        pytest.skip("openssl not on PATH")
    path = tmp_path / f"m.{kind}"

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutated(seeds[kind]), st.booleans())
    def check(data: bytes, with_password: bool) -> None:
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = main(["keystore", str(path), *(["--storepass", PW] if with_password else [])])
        text = out.getvalue() + err.getvalue()
        assert "internal error" not in text and "Traceback" not in text, text
        assert not any(ord(c) < 0x20 and c not in "\n\t" for c in text), repr(text)
        assert status in (0, 1, 2)
        if status == 2:
            lines = [x for x in err.getvalue().splitlines() if not x.startswith("warning:")]
            assert len(lines) == 1 and str(path) in lines[0], err.getvalue()
            assert out.getvalue() == ""

    check()
