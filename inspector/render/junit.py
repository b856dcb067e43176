"""JUnit XML for CI (Jenkins, GitLab, GitHub Actions' test reporters): one test case per keystore
and key entry, a finding at or above the --fail-on level a <failure>, the others in system-out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from inspector.analysis.keystore_set import SetResult, StoreResult
from inspector.findings import Finding, Severity


def _failing(finding: Finding, fail_on: Severity) -> bool:
    return finding.severity.rank <= fail_on.rank


def _line(f: Finding) -> str:
    where = f.location.describe()
    return (
        f"{f.severity.value}[{f.code}]: {f.summary}"
        + (f" ({where})" if where else "")
        + (f"\n  fix: {f.fix}" if f.fix else "")
    )


def _cases(store: StoreResult) -> list[tuple[str, list[Finding]]]:
    """(name, findings) per key entry, and one for the store itself (findings on no entry)."""
    aliases = list(store.store.key_aliases) if store.store is not None else []
    cases: list[tuple[str, list[Finding]]] = [
        ("keystore", [f for f in store.findings if f.location.alias not in aliases])
    ]
    cases += [(f"alias {a}", [f for f in store.findings if f.location.alias == a]) for a in aliases]
    return cases


def junit_xml(result: SetResult, fail_on: Severity) -> str:
    suites = ET.Element("testsuites", name="mtls-inspect keystore")
    total = failures = 0
    for store in result.stores:
        cases = _cases(store)
        suite = ET.SubElement(suites, "testsuite", name=store.path)
        suite_failures = 0
        for name, findings in cases:
            case = ET.SubElement(suite, "testcase", classname=store.path, name=name)
            bad = [f for f in findings if _failing(f, fail_on)]
            if bad:
                suite_failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message="; ".join(f"{f.code}: {f.summary}" for f in bad),
                    type=bad[0].code,
                )
                failure.text = "\n".join(_line(f) for f in bad)
            rest = [f for f in findings if not _failing(f, fail_on)]
            if rest:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in rest)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += len(cases)
        failures += suite_failures
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("errors", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def fail_level(fail_on: str | None) -> Severity:
    return Severity.WARNING if fail_on == "warning" else Severity.ERROR
