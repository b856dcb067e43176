"""The HTML report: one self-contained page rendered from a command's JSON document.

Jinja2 is imported only when a page is rendered, so commands that print text or JSON never load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspector.render.html.source import DocumentSource

__all__ = ["render_html", "write_html"]


def render_html(document: dict[str, Any], *, redact: bool = False) -> str:
    """The page for `document` (any `mtls-inspector/*` schema); `redact` masks hosts and addresses."""
    from inspector.render.html.page import render
    from inspector.render.html.source import source_of

    return "".join(render(source_of(document), redact=redact))


def write_html(document: dict[str, Any] | DocumentSource, path: str | Path, redact: bool = False) -> int:
    """Render the page into `path` as it is drawn (0600, never through a symlink); returns bytes
    written. `document` may be a `DocumentSource`: a capture's report read part by part."""
    from inspector.render.html.output import write_pieces
    from inspector.render.html.page import render
    from inspector.render.html.source import source_of

    source = source_of(document) if isinstance(document, dict) else document
    # a file name that is not UTF-8 (a lone surrogate) is written as its \\udcXX escape
    return write_pieces(Path(path), render(source, redact=redact))
