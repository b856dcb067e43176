"""Jinja2 environment (autoescaping on, templates and assets shipped as package data) → the page."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

import jinja2
from markupsafe import Markup

from inspector.render.html.assemble import build_page
from inspector.render.html.source import DocumentSource


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("inspector.render.html", "templates"),
        autoescape=True,  # every value from the document is escaped, in HTML and in the SVG
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=2)
def _asset(name: str) -> str:
    static = resources.files("inspector.render.html").joinpath("static")
    return static.joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def prepare() -> None:
    """Load the page's template (jinja2 compiles it: ~45 ms, after ~85 ms of jinja2's import)
    ahead of `render`: a caller with idle moments (a capture's reader waiting on its worker)
    takes the cost off the end of the run."""
    _environment().get_template("report.html.j2")


def render(source: DocumentSource, *, redact: bool) -> Iterator[str]:
    """The page in pieces, as it is drawn: a capture's connections are read one at a time."""
    page = build_page(source, redacted=redact)
    style, script = _asset("report.css"), _asset("report.js")
    # The page may load nothing and run only its own script: the CSP names the two inline blocks.
    csp = (
        f"default-src 'none'; style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    # The two assets are this package's own files, so they are inserted as they are.
    return template.generate(page=page, style=Markup(style), script=Markup(script), csp=csp)
