"""The HTML report: one self-contained page rendered from a command's JSON document.

Jinja2 is imported only when a page is rendered, so commands that print text or JSON never load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["render_html", "write_html"]


def render_html(document: dict[str, Any], *, redact: bool = False) -> str:
    """The page for `document` (any `mtls-inspector/*` schema); `redact` masks hosts and addresses."""
    from inspector.render.html.page import render

    return render(document, redact=redact)


def write_html(document: dict[str, Any], path: str | Path, redact: bool = False) -> int:
    """Render and write the page to `path` (0600, never through a symlink); returns bytes written."""
    from inspector.render.html.output import write_private

    # a file name that is not UTF-8 (a lone surrogate) is written as its \\udcXX escape
    page = render_html(document, redact=redact).encode("utf-8", "backslashreplace")
    return write_private(Path(path), page)
