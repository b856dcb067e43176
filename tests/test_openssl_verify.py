"""The one table of OpenSSL verify errors: OpenSSL's own texts, and finding codes that exist."""

from __future__ import annotations

import subprocess

from inspector.findings import REGISTRY
from inspector.pki.openssl_verify import VERIFY_ERRORS, verify_error
from inspector.rules import load_all


def test_every_finding_code_is_registered() -> None:
    load_all()
    assert sorted({row.finding for row in VERIFY_ERRORS.values()} - set(REGISTRY)) == []


def test_texts_are_openssls_own() -> None:
    """Asked of the system's libcrypto (the one Debian's nginx, Apache, HAProxy and s_server
    use), through the library Python's ssl module is linked with."""
    script = (
        "import ctypes, ctypes.util, _ssl, sys\n"
        "lib = ctypes.CDLL(_ssl.__file__)\n"
        "f = lib.X509_verify_cert_error_string\n"
        "f.restype = ctypes.c_char_p\n"
        "f.argtypes = [ctypes.c_long]\n"
        "for code in map(int, sys.argv[1:]):\n"
        "    print(f(code).decode())\n"
    )
    codes = sorted(VERIFY_ERRORS)
    out = subprocess.run(
        ["python3", "-c", script, *map(str, codes)], capture_output=True, text=True, timeout=30, check=True
    ).stdout.splitlines()
    assert out == [VERIFY_ERRORS[c].text for c in codes]


def test_unknown_code_takes_openssls_default_alert() -> None:
    assert (verify_error(9999).alert, verify_error(9999).text) == ("certificate_unknown", "verify error 9999")
