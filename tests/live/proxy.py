"""A small real HTTP CONNECT proxy on 127.0.0.1 for the probe's --proxy tests.

It relays bytes both ways like squid would, only to 127.0.0.1; it can refuse with a status, or
demand Basic authentication (407 without the right Proxy-Authorization). Every socket has a
timeout.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class ConnectProxy:
    def __init__(self, refuse_with: str | None = None, credentials: str | None = None) -> None:
        self.refuse_with = refuse_with
        self.credentials = credentials  # "user:password" this proxy wants, Basic
        self.requests: list[str] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client:
                client.settimeout(5)
                self._handle(client)

    def _handle(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.requests.append(line)
        method, authority = line.split()[:2]
        host, _, port = authority.rpartition(":")
        if self.credentials is not None:
            import base64

            wanted = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            given = [
                h.split(":", 1)[1].strip()
                for h in head.decode("latin-1").split("\r\n")
                if h.lower().startswith("proxy-authorization:")
            ]
            if given != [wanted]:
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\n\r\n"
                )
                return
        if self.refuse_with or method != "CONNECT" or host not in ("127.0.0.1", "localhost"):
            client.sendall(
                f"HTTP/1.1 {self.refuse_with or '403 Forbidden'}\r\nContent-Length: 0\r\n\r\n".encode()
            )
            return
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(peers), [], [], 5)
            if not ready:
                return
            for sock in ready:
                with contextlib.suppress(OSError):
                    data = sock.recv(65536)
                    if data:
                        peers[sock].sendall(data)
                        continue
                return
