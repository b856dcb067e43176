"""Real servers on 127.0.0.1 for the tests: free ports, waiting for a listener, and
`openssl s_server` on a port the kernel picks (no race with another process for a port chosen
before the server binds it)."""

from __future__ import annotations

import re
import socket
import time

#: what `openssl s_server -accept 127.0.0.1:0` prints once it listens (OpenSSL 3)
_ACCEPT = re.compile(r"^ACCEPT 127\.0\.0\.1:(\d+)\s*$", re.MULTILINE)


def free_port() -> int:
    """A port free now, for servers that cannot bind port 0 and say which they got (nginx...)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def accepted_port(output: str) -> int | None:
    """The port s_server announced (`ACCEPT 127.0.0.1:PORT`), or None before it listens."""
    found = _ACCEPT.search(output)
    return int(found.group(1)) if found else None
