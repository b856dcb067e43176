"""Real servers on 127.0.0.1 for the tests: free ports, waiting for a listener, and
`openssl s_server` on a port the kernel picks (no race with another process for a port chosen
before the server binds it); bare TCP peers that misbehave below TLS (RawServer)."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from collections.abc import Callable

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


class RawServer:
    """A bare TCP server on 127.0.0.1 (a port the kernel picks) that does `handle` to each
    client in turn, on a thread of its own: a peer that misbehaves below TLS (resets, answers
    with an alert, never answers). `handle` None: it listens and never accepts. At most
    `connections` clients (None: until closed); every socket has a timeout."""

    def __init__(
        self,
        handle: Callable[[socket.socket], None] | None,
        connections: int | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self._handle, self._left, self._timeout = handle, connections, timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        if handle is not None:
            self._thread.start()

    def _serve(self) -> None:
        assert self._handle is not None
        while not self._stop.is_set() and self._left != 0:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._left is not None:
                self._left -= 1
            conn.settimeout(self._timeout)
            with conn, contextlib.suppress(OSError):
                self._handle(conn)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._timeout + 1)
        self.listener.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_record(conn: socket.socket) -> bytes:
    """The client's first TLS record, whole (or what came before it closed)."""
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the client gets a reset, as from a firewall or an overloaded server."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
