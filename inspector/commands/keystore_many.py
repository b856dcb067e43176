"""`mtls-inspect keystore A B C…` (a directory, a quoted glob), --expires-within, --fail-on,
--junit, --prometheus: the many-keystore run, apart from the one-store path."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from inspector.system.errors import InputError

GLOB_CHARS = "*?["


def add_set_options(p: argparse.ArgumentParser) -> None:
    from inspector.analysis.keystore import DEFAULT_WINDOW_DAYS

    g = p.add_argument_group("many keystores, CI and monitoring")
    g.add_argument(
        "--expires-within",
        type=int,
        metavar="DAYS",
        default=None,
        help="warn when a certificate of a key entry's chain expires within DAYS "
        f"(default {DEFAULT_WINDOW_DAYS})",
    )
    g.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default=None,
        help="exit 1 on findings of this severity or worse (default: error)",
    )
    g.add_argument("--junit", metavar="FILE", help="write JUnit XML: a test case per keystore and key entry")
    g.add_argument(
        "--prometheus",
        metavar="FILE",
        help="write a node_exporter textfile: days to expiry, findings by severity",
    )
    g.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="open the stores in N processes (default: one per CPU; 1 for one process)",
    )
    g.add_argument(
        "--storepass-map",
        metavar="FILE",
        help="per-store passwords: lines 'PATTERN PASSWORD' (file name or glob); others use --storepass*",
    )


def window(args: argparse.Namespace) -> int:
    from inspector.analysis.keystore import DEFAULT_WINDOW_DAYS

    days: int | None = args.expires_within
    if days is None:
        return DEFAULT_WINDOW_DAYS
    if days < 0:
        raise InputError(f"--expires-within {days}: a number of days, 0 or more", "e.g. --expires-within 30")
    return days


def is_set(args: argparse.Namespace) -> bool:
    files: list[str] = args.file
    if len(files) != 1 or args.junit or args.prometheus or args.storepass_map:
        return True
    one = files[0]
    return Path(one).is_dir() or (any(c in one for c in GLOB_CHARS) and not Path(one).exists())


def write_report_file(path_text: str, option: str, content: str) -> None:
    """Replace `path` atomically (a collector or a CI step never reads half a file); readable by
    others (0644: node_exporter runs as its own user), no secret in it."""
    path = Path(path_text)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory", "give a file name inside it")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"{option} {path}: directory {parent} does not exist", "create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{option} {path}: cannot write ({exc.strerror})", "give another path") from None


def run_set(args: argparse.Namespace) -> int:
    from inspector.analysis.keystore_set import PasswordMap, expand_inputs, judge_set
    from inspector.commands.keystore_reply import fail_status
    from inspector.commands.options import parse_date
    from inspector.commands.password_args import resolve_password
    from inspector.render import json_out
    from inspector.render.emit import emit_text
    from inspector.render.junit import fail_level, junit_xml
    from inspector.render.keystore_set import set_dict, set_text
    from inspector.render.prometheus import prometheus_text

    if args.html:
        raise InputError("--html takes one keystore", "drop --html, or give one keystore")
    if args.alias is not None:
        raise InputError("--alias takes one keystore", "give one keystore with --alias")
    at = parse_date(args.at)
    days = window(args)
    paths, skipped = expand_inputs(list(args.file))
    mapping = None
    if args.storepass_map:
        from inspector.system.input_files import read_limited

        raw = read_limited(Path(args.storepass_map), 1024 * 1024, "a password map", "give a text file")
        mapping = PasswordMap.parse(raw.decode("utf-8", "replace"), f"--storepass-map {args.storepass_map}")
    storepass = resolve_password(args, "storepass", "Enter keystore password (for every store): ")
    keypass = resolve_password(args, "keypass", None)

    def password_for(path: str) -> tuple[str | None, str | None]:
        mapped = mapping.password(path) if mapping is not None else None
        return (mapped if mapped is not None else storepass), keypass

    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: at least 1", "e.g. --jobs 2")
    result = judge_set(paths, skipped, password_for, at, days, jobs=jobs)
    findings = result.findings
    status = fail_status(findings, args.fail_on)
    if args.junit:
        write_report_file(args.junit, "--junit", junit_xml(result, fail_level(args.fail_on)))
    if args.prometheus:
        write_report_file(args.prometheus, "--prometheus", prometheus_text(result))
    if args.json:
        emit_text(
            json_out.dumps(json_out.envelope("keystore-set", findings, keystores=set_dict(result))), status
        )
    else:
        emit_text(set_text(result), status)
    return status
