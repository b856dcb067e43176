"""A real Java client is the oracle: for every scenario our `select` must name the alias that
Java's key manager chose (or none), and `probe --key-manager` must present that entry."""

from __future__ import annotations

import pytest

from tests.live.conftest import PW

SCENARIOS = [
    # keystore, server options, TLS version, key manager
    ("good.jks", {}, "1.3", "PKIX"),
    ("good.jks", {}, "1.2", "SunX509"),
    ("stranger.jks", {}, "1.3", "PKIX"),
    ("stranger.jks", {}, "1.2", "SunX509"),
    ("two.jks", {}, "1.2", "PKIX"),
    ("two.jks", {"names": "stranger-root.pem"}, "1.3", "PKIX"),
    ("two.jks", {"names": "stranger-root.pem"}, "1.2", "SunX509"),
    ("leafonly.jks", {}, "1.3", "PKIX"),
    ("expired.jks", {}, "1.2", "PKIX"),
    ("servereku.jks", {}, "1.3", "PKIX"),
    ("good.jks", {"no_names": True}, "1.2", "PKIX"),
]


@pytest.mark.parametrize(("keystore", "server", "version", "manager"), SCENARIOS)
def test_select_names_what_java_chose(
    cli,
    files,
    serve,
    java_oracle,
    keystore,
    server,  # type: ignore[no-untyped-def]
    version,
    manager,
):
    options = {"tls_version": version, "optional": True}
    if "names" in server:
        options["ca_names"] = [files / server["names"]]
    if server.get("no_names"):
        options["send_ca_names"] = False
    srv = serve(**options)
    java = java_oracle(files / keystore, srv.port, manager, f"TLSv{version}")
    ours = cli(
        "select",
        "--keystore",
        str(files / keystore),
        "--storepass",
        PW,
        "--from-server",
        f"127.0.0.1:{srv.port}",
        "--tls-version",
        version,
        "--json",
    )
    selection = ours.json()["selection"]
    possible = selection["pkix_possible" if manager == "PKIX" else "sunx509_possible"]
    if java is None:
        assert possible == [], f"Java sent nothing, we predicted {possible}"
        assert ours.status == 1
    else:
        assert java in possible, f"Java chose {java}, we predicted {possible}"
        assert len(possible) == 1 or server.get("no_names")
    probed = cli(
        "probe",
        f"127.0.0.1:{srv.port}",
        "--insecure",
        "--keystore",
        str(files / keystore),
        "--storepass",
        PW,
        "--tls-version",
        version,
        "--key-manager",
        manager,
        "--json",
    ).json()
    presented = probed["probe"]["attempts"][0]["alias"]
    assert presented == java or (presented in possible and len(possible) > 1), (java, presented)


def test_java_and_select_agree_on_openssl_s_server(cli, files, s_server, java_oracle):  # type: ignore[no-untyped-def]
    """openssl s_server naming Stranger Root while trusting Acme Root (-verifyCAfile)."""
    port = s_server("-CAfile", "stranger-root.pem", "-verifyCAfile", "acme-root.pem", version="1.2")
    for keystore in ("good.jks", "two.jks"):
        java = java_oracle(files / keystore, port, "PKIX", "TLSv1.2")
        ours = cli(
            "select",
            "--keystore",
            str(files / keystore),
            "--storepass",
            PW,
            "--from-server",
            f"127.0.0.1:{port}",
            "--json",
        ).json()["selection"]
        assert ours["pkix"] == java, (keystore, java, ours["pkix_possible"])


def test_java_and_select_agree_on_nginx(cli, files, nginx, java_oracle):  # type: ignore[no-untyped-def]
    java = java_oracle(files / "two.jks", nginx, "PKIX", "TLSv1.2")  # nginx 1.22: no 1.3 by default
    ours = cli(
        "select",
        "--keystore",
        str(files / "two.jks"),
        "--storepass",
        PW,
        "--from-server",
        f"127.0.0.1:{nginx}",
        "--json",
    ).json()["selection"]
    assert java == "acme" and ours["pkix"] == "acme"


def test_java_does_not_offer_post_handshake_auth(files, java_oracle):  # type: ignore[no-untyped-def]
    """What the client-cert-requested-later finding tells users, measured: the JDK's TLS 1.3
    ClientHello has no post_handshake_auth extension, so a server cannot ask it later."""
    import socket
    import subprocess

    from parsers.messages import parse_client_hello
    from tests.live.conftest import JAVA

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]
        client = subprocess.Popen(
            [
                JAVA,
                "-cp",
                str(java_oracle.classpath),
                "ChooseAlias",
                str(files / "good.jks"),
                PW,
                "127.0.0.1",
                str(port),
                "PKIX",
                "TLSv1.3",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                data = b""
                while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                    chunk = conn.recv(65536)
                    assert chunk, "the Java client closed before its ClientHello"
                    data += chunk
        finally:
            client.kill()
            client.wait(timeout=10)
    hello = parse_client_hello(data[9 : 5 + int.from_bytes(data[3:5], "big")])
    assert 0x0304 in hello.supported_versions  # it did offer TLS 1.3
    assert hello.post_handshake_auth is False
