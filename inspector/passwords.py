"""Passwords the way keytool takes them: env var, file, flag (with a warning), or a prompt."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from inspector.errors import InputError


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
        return value
    if env is not None:
        if env not in os.environ:
            raise InputError(
                f"--{kind}-env {env}: the variable is not set",
                f"export {env}=... first, or use --{kind}-file",
            )
        return os.environ[env]
    if file is not None:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"--{kind}-file {file}: cannot read ({exc.strerror})", "check the path and permissions"
            ) from None
        return text.splitlines()[0] if text else ""
    if prompt is not None and sys.stdin is not None and sys.stdin.isatty():
        import getpass

        entered = getpass.getpass(prompt)
        return entered if entered else None
    return None
