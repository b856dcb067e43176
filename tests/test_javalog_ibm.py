"""IBM's JSSE2 (IBM JDK 7/8, WebSphere) under -Djavax.net.debug: the JDK 8 shape (`*** ClientHello`,
`thread, RECV ... ALERT`) after IBM's own start-up lines (`IBMJSSEProvider2 Build-Level`,
`SSLContextImpl:  Using ... com.ibm.jsse2...`, `IBMJSSE2 will ...`), threads named like
`WebContainer : 4`. No IBM JDK installs here: the text below is written for this test in that
shape, as published traces show it (docs/reference.md names the source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

IBM_TRACE = """IBMJSSEProvider2 Build-Level: -20240101
Installed Providers =
        IBMJSSE2
        IBMJCE
keyStore is: /opt/app/client.p12
init keymanager of type IbmX509
trustStore is: /opt/app/trust.jks
init truststore
SSLContextImpl:  Using X509ExtendedKeyManager com.ibm.jsse2.bd
SSLContextImpl:  Using X509TrustManager com.ibm.jsse2.be
IBMJSSE2 will not enable CBC protection
Is initial handshake: true
%% No cached client session
*** ClientHello, TLSv1.2
RandomCookie:  GMT: 1700000000 bytes = { 1, 2, 3 }
Session ID:  {}
Cipher Suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
Compression Methods:  { 0 }
***
WebContainer : 4, WRITE: TLSv1.2 Handshake, length = 120
WebContainer : 4, READ: TLSv1.2 Alert, length = 2
WebContainer : 4, RECV TLSv1.2 ALERT:  fatal, handshake_failure
WebContainer : 4, called closeSocket()
WebContainer : 4, handling exception: javax.net.ssl.SSLHandshakeException: Received fatal alert: \
handshake_failure
"""


def test_an_ibm_jsse2_trace_is_read_as_its_jdk8_shape(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "ibm.log"
    path.write_text(IBM_TRACE)
    result = cli("log", str(path), "--json")
    assert result.status == 1, result.err
    document = json.loads(result.out)
    [handshake] = document["handshakes"]
    assert handshake["thread"] == "WebContainer : 4"
    messages = [e["message"] for e in handshake["events"]]
    assert messages == ["ClientHello", "Alert handshake_failure"]
    assert handshake["events"][1]["direction"] == "server"
    assert document["log"]["format"] == "JDK 8"
