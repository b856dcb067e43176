"""--capture/--keylog (and any secret we write): checked before the probe runs, 0600, never through
a symbolic link, never over an existing file without --force (issue 10 item 13)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from inspector.system.errors import InputError
from inspector.system.private_files import check_output, open_private


def refused(path: Path, force: bool = False) -> str:
    with pytest.raises(InputError) as caught:
        check_output(path, "--keylog", force)
    line = caught.value.line()
    assert "\n" not in line and line.startswith(f"--keylog {path}: ")
    return line


def test_what_cannot_be_written_is_named_before_anything_runs(tmp_path: Path) -> None:
    assert "does not exist" in refused(tmp_path / "missing" / "k.keys")
    assert "is a directory" in refused(tmp_path)
    existing = tmp_path / "old.keys"
    existing.write_text("x")
    assert "already exists" in refused(existing) and "--force" in refused(existing)
    check_output(existing, "--keylog", force=True)  # allowed with --force
    link = tmp_path / "link.keys"
    link.symlink_to(tmp_path / "elsewhere.keys")
    assert "symbolic link" in refused(link, force=True)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() != 0:  # root writes anywhere
        assert "not writable" in refused(locked / "k.keys")
    check_output(tmp_path / "new.keys", "--keylog", force=False)


def test_open_is_private_exclusive_and_never_follows_a_link(tmp_path: Path) -> None:
    new = tmp_path / "k.keys"
    with open_private(new, "--keylog", force=False) as handle:
        handle.write(b"CLIENT_RANDOM ...")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="already exists"):
        open_private(new, "--keylog", force=False)
    new.chmod(0o644)
    with open_private(new, "--keylog", force=True) as handle:
        handle.write(b"new")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600 and new.read_bytes() == b"new"
    target = tmp_path / "victim"
    target.write_text("untouched")
    link = tmp_path / "planted.keys"
    link.symlink_to(target)
    with pytest.raises(InputError, match="is a symbolic link"):
        open_private(link, "--keylog", force=True)
    assert target.read_text() == "untouched"


def test_probe_refuses_outputs_before_connecting(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No server listens on the port: the output check must answer first, not the connection."""
    existing = tmp_path / "out.pcap"
    existing.write_bytes(b"")
    result = cli("probe", "127.0.0.1:9", "--insecure", "--capture", str(existing))
    assert result.status == 2
    assert result.err.strip() == (
        f"mtls-inspect: error: --capture {existing}: already exists"
        " — give another name, or --force to overwrite it"
    )
    missing = cli("probe", "127.0.0.1:9", "--insecure", "--keylog", str(tmp_path / "no" / "k.keys"))
    assert missing.status == 2 and "does not exist" in missing.err and "connection refused" not in missing.err
