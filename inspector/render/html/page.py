"""Jinja2 environment (autoescaping on, templates and assets shipped as package data) → the page."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from inspector.render.html.build import build_page, trim
from inspector.render.html.redact import redact as redact_document
from inspector.render.html.sanitize import sanitize


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


def render(document: dict[str, Any], *, redact: bool) -> str:
    clean = sanitize(trim(document))
    if redact:
        clean = redact_document(clean)
    page = build_page(clean, redacted=redact)
    style, script = _asset("report.css"), _asset("report.js")
    # The page may load nothing and run only its own script: the CSP names the two inline blocks.
    csp = (
        f"default-src 'none'; style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    # The two assets are this package's own files, so they are inserted as they are.
    return template.render(page=page, style=Markup(style), script=Markup(script), csp=csp)
