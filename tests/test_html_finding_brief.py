"""The page of a large capture counts most findings without decoding their text (their code,
severity and connection are read up to `location`); anything not laid out as the report writes
it is decoded whole. The page itself is held equal to the in-memory document's in
tests/test_html_scale.py; here, the brief's edges."""

from __future__ import annotations

import json

from inspector.findings import Finding, Location, Severity, make
from inspector.render.html.build import finding_view
from inspector.render.html.source import FindingBrief, finding_brief
from inspector.render.html.tally import GROUP_OVER, FindingTally
from inspector.render.json_out import compact, finding_dict
from inspector.rules.client_cert_rules import CLIENT_EXPIRED


def _finding(connection: int | None = 7, alias: str | None = None) -> Finding:
    return make(
        CLIENT_EXPIRED,
        'the client sent CN=x "quoted", {braced} and ,"location":{} in its summary',
        location=Location(file="f.pcap", connection=connection, alias=alias),
        fix="renew it",
    )


def test_the_brief_reads_the_code_severity_and_connection() -> None:
    text = compact(finding_dict(_finding()))
    assert finding_brief(text) == FindingBrief("client-cert-expired", "error", 7)
    assert finding_brief(compact(finding_dict(_finding(connection=None)))) == FindingBrief(
        "client-cert-expired", "error", None
    )


def test_anything_else_is_decoded_whole() -> None:
    whole = finding_dict(_finding())
    assert finding_brief(whole) is None  # a dict: already decoded
    assert finding_brief(compact(finding_dict(_finding(alias="mykey")))) is None  # an alias: cleaned, masked
    reordered = {"severity": whole["severity"], **whole}
    assert finding_brief(compact(reordered)) is None
    assert finding_brief(compact({**whole, "location": {"connection": 7.0}})) is None
    assert finding_brief(json.dumps(whole)) is None  # not compact: spaces after the separators
    assert finding_brief('{"code":"x","severity":') is None  # cut


def test_counting_a_brief_is_what_adding_its_view_records() -> None:
    texts = [compact(finding_dict(_finding(connection=n))) for n in range(1, 4 * GROUP_OVER)]
    texts.append(compact({**finding_dict(_finding(connection=99)), "severity": "bogus"}))
    viewed, briefed = FindingTally({2}), FindingTally({2})
    for text in texts:
        viewed.add(finding_view(json.loads(text)))
        short = finding_brief(text)
        assert short is not None
        if briefed.counts_only(short):
            briefed.count(short)
        else:
            briefed.add(finding_view(json.loads(text)))
    assert briefed.piles["error"].count == viewed.piles["error"].count == 4 * GROUP_OVER - 1
    assert briefed.piles["info"].count == viewed.piles["info"].count == 1  # "bogus" is read as info
    assert briefed.piles["error"].cards() == viewed.piles["error"].cards()
    assert briefed.with_errors == viewed.with_errors == set(range(1, 4 * GROUP_OVER))
    assert briefed.of_connection(2) == viewed.of_connection(2) != []
    assert Severity.ERROR.value == "error"
