"""Java's verdict on a server chain: plain data, so the rules can word it without importing the
trust manager's loaders (inspector/java/trust.py reads truststores; rules do no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrustVerdict:
    trusted: bool
    store: str
    #: Java's own sentence for the failure ("" when trusted).
    java_says: str = ""
    cause: str = ""
    fix: str = ""
    path: list[str] = field(default_factory=list)  # subjects, leaf first, anchor last
    anchor: str | None = None
    #: False when the certificates were rebuilt from a log's text: signatures could not be checked.
    signatures_checked: bool = True
