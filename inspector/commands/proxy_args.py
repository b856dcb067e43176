"""--proxy, --proxy-user and the proxy password, for every command that reaches a server."""

from __future__ import annotations

import argparse

from inspector.commands.password_args import add_password_options
from inspector.system.errors import InputError


def add_proxy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--proxy",
        metavar="HOST:PORT",
        help="reach the server through this HTTP "
        "proxy (CONNECT), as a client with https.proxyHost/--proxy does",
    )
    p.add_argument(
        "--proxy-user",
        metavar="USER",
        help="authenticate to the proxy (Basic) as "
        "USER; the password from --proxy-pass-env/--proxy-pass-file or a prompt",
    )
    add_password_options(p, "proxy-pass", "proxy password")


def proxy_from_args(args: argparse.Namespace) -> tuple[tuple[str, int] | None, str | None]:
    """(proxy host and port, "user:password" for Basic) — both None without --proxy."""
    from inspector.commands.password_args import resolve_password
    from inspector.live.probe import parse_target

    proxy = parse_target(args.proxy, what="--proxy") if args.proxy else None
    given = args.proxy_pass or args.proxy_pass_env or args.proxy_pass_file
    if args.proxy_user is None:
        if given:
            raise InputError("--proxy-pass… needs --proxy-user", "give --proxy-user USER too")
        return proxy, None
    if proxy is None:
        raise InputError("--proxy-user needs --proxy", "give --proxy HOST:PORT too")
    password = resolve_password(args, "proxy-pass", f"Proxy password for {args.proxy_user}: ")
    if password is None:
        raise InputError(
            f"--proxy-user {args.proxy_user}: no password given",
            "use --proxy-pass-env VAR or --proxy-pass-file F",
        )
    return proxy, f"{args.proxy_user}:{password}"
