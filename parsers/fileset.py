"""Several capture files read as one: which files, and in which order.

A rotated set (`tcpdump -C 100 -W 50 -w mtls.pcap` → mtls.pcap0 … mtls.pcap49, or `-G 3600`
strftime names), a directory of gateway captures, a glob: the files are read in the order of
their first packet's timestamp, so a ring buffer that wrapped (mtls.pcap0 overwritten after
mtls.pcap49) still reads in time order; files with no packet, and ties, go by natural name order
(mtls.pcap2 before mtls.pcap10).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from parsers.pcapfile import CaptureFile, CaptureFormatError

GLOB_CHARS = re.compile(r"[*?\[]")


class SetError(Exception):
    """A named input of the set cannot be used (missing, unreadable, not a capture)."""


@dataclass(frozen=True)
class SetMember:
    """One capture file of the set, with its place in time."""

    path: Path
    first_time: float | None  # None: the file holds no packet
    size: int


@dataclass(frozen=True)
class CaptureSet:
    members: tuple[SetMember, ...]
    #: files of a named directory that are not captures (notes, key logs), with why
    skipped: tuple[tuple[Path, str], ...]

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)


def natural_key(path: Path) -> tuple[object, ...]:
    """mtls.pcap2 before mtls.pcap10: runs of digits compare as numbers."""
    parts = re.split(r"(\d+)", str(path))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def expand(inputs: list[str]) -> tuple[list[Path], list[Path]]:
    """(named files, files found in named directories), each in natural order. A pattern with
    glob characters is expanded here (quoted, so the shell left it alone); one matching nothing
    is an error, as a missing file is."""
    named: list[Path] = []
    listed: list[Path] = []
    for text in inputs:
        path = Path(text)
        if GLOB_CHARS.search(text) and not path.exists():
            found = sorted((Path(p) for p in glob.glob(text)), key=natural_key)
            files = [p for p in found if p.is_file()]
            if not files:
                raise SetError(f"{text}: no file matches this pattern")
            named.extend(files)
        elif path.is_dir():
            listed.extend(
                sorted(
                    (p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")),
                    key=natural_key,
                )
            )
        else:
            named.append(path)
    return _unique(named), _unique(listed)


def not_regular(inputs: list[str]) -> list[tuple[Path, str]]:
    """Entries of the named directories that are neither files nor directories (a FIFO, a
    device, a broken link), with what they are: skipped and listed with the others, never
    dropped unsaid (a FIFO or /dev/zero would never end as a capture)."""
    out: list[tuple[Path, str]] = []
    for text in inputs:
        path = Path(text)
        if not path.is_dir():
            continue
        for entry in sorted(path.iterdir(), key=natural_key):
            if entry.name.startswith(".") or entry.is_file() or entry.is_dir():
                continue
            if entry.is_symlink() and not entry.exists():
                out.append((entry, "a broken symbolic link"))
            elif entry.is_fifo():
                out.append((entry, "a FIFO, not a regular file"))
            elif entry.is_char_device() or entry.is_block_device():
                out.append((entry, "a device, not a file"))
            else:
                out.append((entry, "not a regular file"))
    return out


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    kept = []
    for p in paths:
        real = p.resolve()
        if real not in seen:
            seen.add(real)
            kept.append(p)
    return kept


def first_packet_time(path: Path) -> float | None:
    """The timestamp of the file's first packet (reads its first MiB at most); None when it
    holds none. Raises CaptureFormatError when it is not a capture."""
    source = CaptureFile(path)
    first = next(iter(source.chunks()), None)  # the generator closes the file when dropped
    if first is not None:
        return first[2][0][2]
    if source.problems and not source.frames_read:
        raise CaptureFormatError(source.problems[0])
    return None


def open_set(inputs: list[str]) -> CaptureSet:
    """The set in reading order. A named file that is missing, unreadable or not a capture
    raises SetError (the user asked for it); in a named directory such files are skipped and
    listed."""
    named, listed = expand(inputs)
    members: list[SetMember] = []
    skipped: list[tuple[Path, str]] = []
    for path, strict in [(p, True) for p in named] + [(p, False) for p in listed]:
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise SetError(f"{path}: not a regular file")
            members.append(SetMember(path, first_packet_time(path), size))
        except FileNotFoundError:
            raise SetError(f"{path}: no such file") from None
        except OSError as exc:
            raise SetError(f"{path}: cannot read ({exc.strerror})") from None
        except CaptureFormatError as exc:
            if strict:
                raise SetError(f"{path}: {exc}") from None
            skipped.append((path, str(exc)))
    if not members:
        where = ", ".join(inputs)
        if all(Path(i).is_dir() for i in inputs):
            raise SetError(f"{where}: is a directory with no pcap or pcapng file in it")
        raise SetError(f"{where}: no pcap or pcapng file here")
    skipped += not_regular(inputs)
    order = {id(m): n for n, m in enumerate(sorted(members, key=lambda m: natural_key(m.path)))}
    members.sort(key=lambda m: (m.first_time is None, m.first_time or 0.0, order[id(m)]))
    return CaptureSet(tuple(members), tuple(skipped))
