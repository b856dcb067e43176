"""A node_exporter textfile (--collector.textfile.directory): days to expiry per store and alias,
findings by severity per store, whether each store could be opened, when the run was made."""

from __future__ import annotations

from inspector.analysis.keystore_set import SetResult
from inspector.findings import Severity


def _label(value: str) -> str:
    """A label value as the exposition format escapes it: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(result: SetResult) -> str:
    lines = [
        "# HELP mtls_keystore_cert_expiry_days Days until the first certificate of a key entry's chain "
        "expires (negative: expired).",
        "# TYPE mtls_keystore_cert_expiry_days gauge",
    ]
    for s in result.stores:
        store = _label(s.path)
        for e in s.expiries:
            alias = _label(e.alias)
            lines.append(f'mtls_keystore_cert_expiry_days{{store="{store}",alias="{alias}"}} {e.days:.3f}')
    lines += [
        "# HELP mtls_keystore_findings Findings on a keystore, by severity.",
        "# TYPE mtls_keystore_findings gauge",
    ]
    for s in result.stores:
        store = _label(s.path)
        for severity in Severity:
            count = s.count(severity)
            lines.append(f'mtls_keystore_findings{{store="{store}",severity="{severity.value}"}} {count}')
    lines += [
        "# HELP mtls_keystore_readable 1 when the keystore could be opened, 0 when not.",
        "# TYPE mtls_keystore_readable gauge",
    ]
    for s in result.stores:
        lines.append(f'mtls_keystore_readable{{store="{_label(s.path)}"}} {0 if s.store is None else 1}')
    lines += [
        "# HELP mtls_keystore_expiry_window_days The --expires-within window of the run.",
        "# TYPE mtls_keystore_expiry_window_days gauge",
        f"mtls_keystore_expiry_window_days {result.window_days}",
        "# HELP mtls_keystore_last_run_timestamp_seconds When the keystores were judged.",
        "# TYPE mtls_keystore_last_run_timestamp_seconds gauge",
        f"mtls_keystore_last_run_timestamp_seconds {result.at.timestamp():.0f}",
    ]
    return "\n".join(lines) + "\n"
