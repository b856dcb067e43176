"""Passwords the way keytool takes them: env var, file, flag (with a warning), or a prompt."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from inspector.system.errors import InputError


def add_password_options(parser: ArgumentParser, kind: str, what: str) -> None:
    """Add --KIND, --KIND-env, --KIND-file (KIND is storepass or keypass)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{kind}-env", metavar="VAR", help=f"read the {what} from variable VAR")
    group.add_argument(f"--{kind}-file", metavar="F", help=f"read the {what} from the first line of file F")
    group.add_argument(
        f"--{kind}", metavar="P", help=f"the {what} itself (visible to other users: prefer -env or -file)"
    )


def add_keystore_password_options(parser: ArgumentParser) -> None:
    """--storepass… and --keypass…, as every command that opens a keystore takes them."""
    add_password_options(parser, "storepass", "keystore password")
    add_password_options(parser, "keypass", "key password (JKS entries whose password differs)")


def resolve_password(args: Namespace, kind: str, prompt: str | None) -> str | None:
    """The password from the options, else a prompt when stdin is a terminal, else None."""
    attr = kind.replace("-", "_")
    value: str | None = getattr(args, attr, None)
    env: str | None = getattr(args, f"{attr}_env", None)
    file: str | None = getattr(args, f"{attr}_file", None)
    if value is not None:
        print(
            f"warning: --{kind} on the command line is visible to other users; "
            f"prefer --{kind}-env VAR or --{kind}-file F",
            file=sys.stderr,
        )
        return _text(value, f"--{kind}")
    if env is not None:
        if env not in os.environ:
            raise InputError(
                f"--{kind}-env {env}: the variable is not set",
                f"export {env}=... first, or use --{kind}-file",
            )
        return _text(os.environ[env], f"--{kind}-env {env}")
    if file is not None:
        path = Path(file)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"--{kind}-file {file}: cannot read ({exc.strerror})", "check the path and permissions"
            ) from None
        text = _text(raw.decode("utf-8", "surrogateescape"), f"--{kind}-file {file}")
        return text.splitlines()[0] if text else ""
    if prompt is not None and sys.stdin is not None and sys.stdin.isatty():
        import getpass

        entered = getpass.getpass(prompt)
        return _text(entered, "the password typed") if entered else None
    return None


def _text(password: str, source: str) -> str:
    """Passwords are text (Java reads char[]): bytes that are not UTF-8 are refused, never quoted.

    Python hands undecodable bytes of argv / the environment over as lone surrogates; Java would
    have turned them into other characters, so no password made of them can be right."""
    if any("\udc80" <= ch <= "\udcff" for ch in password):
        raise InputError(
            f"{source}: the password is not valid UTF-8 text",
            "give the password as UTF-8 (the encoding keytool uses on this system)",
        )
    return password
