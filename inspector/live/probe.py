"""The live outbound handshake: resolve, connect (through a proxy's CONNECT), run the pump.

What a handshake is asked and what it did are plain data in inspector/live/attempt.py; the byte
pump itself — pyOpenSSL over memory BIOs, our decoder reading every record before OpenSSL
does — is inspector/live/bio_client.py.
"""

from __future__ import annotations

import socket
import time

from inspector.keystore.model import KeyEntry
from inspector.live.attempt import Attempt, ChooseEntry, Target
from inspector.live.bio_client import BioClient
from inspector.system.errors import InputError
from parsers.model import Direction


def parse_target(text: str, what: str = "") -> tuple[str, int]:
    """HOST[:PORT] (port 443 by default), [IPv6]:PORT; with `what` (an option name) the port
    is required — a proxy has no usual port."""
    default = "" if what else "443"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or default
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, default
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        label = f"{what} {text}" if what else text
        raise InputError(f"{label}: the port must be a number from 1 to 65535", "write HOST:PORT")
    return host, int(port)


RESET_BEFORE_HELLO = "the server reset the connection before the ClientHello could be sent"
RESET_NEXT = (
    "check that this port speaks TLS and accepts connections from this address "
    "(a firewall, a full accept queue, a server refusing this client)"
)


def handshake(target: Target, entry: KeyEntry | None, choose: ChooseEntry | None = None) -> Attempt:
    """One attempt presenting `entry`, or — with `choose` — the entry it picks when the
    CertificateRequest arrives. Socket errors become InputError only when nothing was exchanged."""
    deadline = time.monotonic() + target.timeout  # total: connect, CONNECT, handshake, reads
    attempt = Attempt(alias=entry.alias if entry else None)
    host, port = target.proxy or (target.host, target.port)
    what = f"proxy {host}:{port}" if target.proxy else f"{host}:{port}"
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"{what}: cannot resolve {host} ({exc.strerror})", "check the host name") from None
    attempt.start = time.time()
    try:
        sock = socket.create_connection((host, port), timeout=target.timeout)
    except ConnectionRefusedError:
        raise InputError(
            f"{what}: connection refused", "check the port and that the server is running"
        ) from None
    except TimeoutError:
        raise InputError(
            f"{what}: no answer within {target.timeout:g} s",
            "check the address, the firewall, or raise --timeout",
        ) from None
    except ConnectionResetError as exc:  # the reset beat the end of connect(): the same event as below
        if target.proxy:
            raise InputError(f"{what}: cannot connect ({exc.strerror})", "check the proxy") from None
        raise InputError(f"{what}: {RESET_BEFORE_HELLO}", RESET_NEXT) from None
    except OSError as exc:
        raise InputError(f"{what}: cannot connect ({exc.strerror})", "check the address") from None
    try:
        if target.proxy:
            attempt.proxy_status = open_tunnel(sock, target, deadline)
        BioClient(sock, target, attempt, entry, choose, deadline).run()
    finally:
        sock.close()
    return attempt


def open_tunnel(sock: socket.socket, target: Target, deadline: float) -> str:
    """HTTP CONNECT through the proxy, as Java's https.proxyHost and curl's --proxy do; returns
    the proxy's status line. Anything but 200 is a one-line error naming the proxy's answer.
    The whole reply must come before `deadline` (a proxy trickling bytes cannot hold us)."""
    assert target.proxy is not None
    proxy = f"proxy {target.proxy[0]}:{target.proxy[1]}"
    authority = f"[{target.host}]:{target.port}" if ":" in target.host else f"{target.host}:{target.port}"
    auth = ""
    if target.proxy_credentials is not None:
        import base64

        token = base64.b64encode(target.proxy_credentials.encode()).decode()
        auth = f"Proxy-Authorization: Basic {token}\r\n"
    try:
        sock.sendall(
            f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth}"
            "User-Agent: mtls-inspector\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply and len(reply) < 65536:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    except TimeoutError:
        said = "no answer" if not reply else "no complete answer"
        raise InputError(
            f"{proxy}: {said} to CONNECT {authority} within {target.timeout:g} s",
            "check that this is an HTTP proxy, or raise --timeout",
        ) from None
    except OSError as exc:
        raise InputError(
            f"{proxy}: reset the connection on CONNECT {authority} ({exc.strerror}): not an HTTP proxy?",
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        ) from None
    if not reply:
        raise InputError(
            f"{proxy}: closed the connection without answering CONNECT {authority}: not an HTTP proxy?",
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        )
    status = reply.split(b"\r\n", 1)[0].decode("latin-1")[:200]
    parts = status.split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        quoted = reply[:60].decode("latin-1").encode("unicode_escape").decode()
        raise InputError(
            f'{proxy}: not an HTTP proxy (answered "{quoted}" to CONNECT)',
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        )
    if parts[1] != "200":
        if parts[1] != "407":
            hint = "check that the proxy allows CONNECT to this host and port"
        elif target.proxy_credentials is None:
            hint = "give --proxy-user USER and --proxy-pass-env VAR (Basic authentication)"
        else:
            hint = (
                "the proxy refused these credentials (Basic); check them — proxies that "
                "want NTLM or Kerberos are not supported"
            )
        raise InputError(f"{proxy}: CONNECT {authority} refused: {status}", hint)
    return status


def refuse_unanswered(attempt: Attempt, target: Target) -> None:
    """One line when the server never spoke TLS to us — non-TLS bytes, silence, a close before
    any byte — instead of a report about a handshake that never started."""
    where = f"{target.host}:{target.port}"
    data = attempt.received
    if data and not looks_like_tls(data):
        quoted = data[:60].decode("latin-1").encode("unicode_escape").decode()
        raise InputError(
            f'{where}: the server answered with non-TLS data: "{quoted}"',
            "this port does not speak TLS (plain HTTP?); check the port",
        )
    sent = any(direction is Direction.CLIENT for direction, _, _ in attempt.chunks)
    if not data and not sent and attempt.reset_by is not None:
        raise InputError(f"{where}: {RESET_BEFORE_HELLO}", RESET_NEXT)
    if data or attempt.reset_by is not None:
        return
    if attempt.timed_out:
        raise InputError(
            f"{where}: no TLS answer within {target.timeout:g} s after the ClientHello",
            "check that this port speaks TLS, or raise --timeout",
        )
    raise InputError(
        f"{where}: the server closed the connection before any TLS byte",
        "check that this port speaks TLS (and that it accepts this client)",
    )


def looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (20, 21, 22, 23) and data[1] == 3
