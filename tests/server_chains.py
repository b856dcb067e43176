"""The catalogue of client chains for the server-stack oracle: made at test time with
`cryptography` (the SHA-1 signature with the openssl CLI, which cryptography refuses to make).

Every case is judged by a server trusting the same client-CA bundle, `Catalogue.trust`:
the Acme root, the Beta intermediate without its root (an intermediate as the only trusted
certificate of its PKI) and a self-signed client certificate trusted directly. One bundle keeps
the oracle to one start per server.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from inspector.pki.throwaway import NOW, Issued, name, new_key

CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER = ExtendedKeyUsageOID.SERVER_AUTH
ANY = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
UNKNOWN_CRITICAL = ObjectIdentifier("1.3.6.1.4.1.55555.23.1")


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    #: the chain as the client sends it, leaf first (empty: no certificate sent)
    sent: tuple[x509.Certificate, ...]
    key: CertificateIssuerPrivateKeyTypes | None


@dataclass(frozen=True)
class Catalogue:
    trust: tuple[x509.Certificate, ...]
    cases: tuple[Case, ...]

    def case(self, name: str) -> Case:
        return next(c for c in self.cases if c.name == name)


def make(
    cn: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    path_length: int | None = None,
    eku: Sequence[ObjectIdentifier] | None = (CLIENT,),
    key: CertificateIssuerPrivateKeyTypes | None = None,
    key_size: int = 2048,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    org: str = "Acme",
    subject: x509.Name | None = None,
    dns: Sequence[str] = (),
    permitted_dns: Sequence[str] = (),
    critical_unknown: bool = False,
    digital_signature: bool = True,
    key_kind: str = "rsa",
    signer: CertificateIssuerPrivateKeyTypes | None = None,
) -> Issued:
    """One certificate; issuer None makes it self-signed."""
    key = key or new_key(key_kind, key_size)
    subj = subject or name(cn, org)
    pub = key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(subj)
        .issuer_name(issuer.cert.subject if issuer else subj)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if dns:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    if permitted_dns:
        b = b.add_extension(
            x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(d) for d in permitted_dns], excluded_subtrees=None
            ),
            critical=True,
        )
    if critical_unknown:
        b = b.add_extension(x509.UnrecognizedExtension(UNKNOWN_CRITICAL, b"\x05\x00"), critical=True)
    cert = b.sign(signer or (issuer.key if issuer else key), hashes.SHA256())  # type: ignore[arg-type]
    return Issued(cert, key)


def sha1_ca(cn: str, issuer: Issued, workdir: Path) -> Issued:
    """A CA certificate signed with SHA-1 by `issuer` (openssl x509 -req -sha1)."""
    key = new_key()
    csr = x509.CertificateSigningRequestBuilder().subject_name(name(cn)).sign(key, hashes.SHA256())  # type: ignore[arg-type]
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "req.pem").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    (workdir / "ca.pem").write_bytes(issuer.pem)
    write_private(workdir / "ca.key", issuer.key_pem)
    (workdir / "ext.cnf").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    subprocess.run(
        [
            *("openssl", "x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-sha1"),
            *("-set_serial", "23", "-days", "60", "-extfile", "ext.cnf", "-out", "out.pem"),
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Issued(x509.load_pem_x509_certificate((workdir / "out.pem").read_bytes()), key)


def build(workdir: Path) -> Catalogue:
    """The catalogue: 37 chains (one of them empty), one trust bundle."""
    day = dt.timedelta(days=1)
    root = make("Acme Root CA", ca=True, eku=None)
    inter = make("Acme Issuing CA", root, ca=True, eku=None)
    leaf = make("client", inter)
    # a root with the same name and key as Acme's, issued by an untrusted old root (cross-signed)
    old = make("Old Root CA", ca=True, eku=None, org="Old")
    cross = make("Acme Root CA", old, ca=True, eku=None, key=root.key)
    # two intermediates: the depth limit
    upper = make("Acme Upper CA", root, ca=True, eku=None)
    lower = make("Acme Lower CA", upper, ca=True, eku=None)
    deep = make("deep-client", lower)
    # Beta: only its intermediate is trusted
    beta_root = make("Beta Root CA", ca=True, eku=None, org="Beta")
    beta_inter = make("Beta Issuing CA", beta_root, ca=True, eku=None, org="Beta")
    beta_leaf = make("beta-client", beta_inter, org="Beta")
    # intermediates with one defect each
    inter_server_eku = make("Acme Server-only CA", root, ca=True, eku=[SERVER])
    inter_client_eku = make("Acme Client-only CA", root, ca=True, eku=[CLIENT])
    inter_expired = make(
        "Acme Expired CA", root, ca=True, eku=None, not_before=NOW - 400 * day, not_after=NOW - day
    )
    inter_sha1 = sha1_ca("Acme SHA-1 CA", root, workdir / "sha1")
    pathlen0 = make("Acme Pathlen-0 CA", root, ca=True, path_length=0, eku=None)
    below_pathlen0 = make("Acme Below-Pathlen CA", pathlen0, ca=True, eku=None)
    constrained = make("Acme Constrained CA", root, ca=True, eku=None, permitted_dns=[".acme.example"])
    not_a_ca = make("not-a-ca", inter, eku=[CLIENT])
    unrelated = make("Unrelated CA", ca=True, eku=None, org="Unrelated")
    selfie = make("self-signed-client", eku=[CLIENT])
    # the same intermediate (name and key) issued by a second trusted root, and by an untrusted one
    partner = make("Partner Root CA", ca=True, eku=None, org="Partner")
    inter_by_partner = make("Acme Issuing CA", partner, ca=True, eku=None, key=inter.key)
    inter_by_old = make("Acme Issuing CA", old, ca=True, eku=None, key=inter.key)
    # a trusted root that restricts its EKU to serverAuth
    restricted = make("Restricted Root CA", ca=True, eku=[SERVER], org="Restricted")
    restricted_inter = make("Restricted Issuing CA", restricted, ca=True, eku=None, org="Restricted")
    # a trusted root that has expired, and an intermediate with an RSA-1024 key
    expired_root = make(
        "Expired Root CA", ca=True, eku=None, org="Expired", not_before=NOW - 400 * day, not_after=NOW - day
    )
    under_expired_root = make("Under-Expired Issuing CA", expired_root, ca=True, eku=None, org="Expired")
    weak_inter = make("Acme Weak CA", root, ca=True, eku=None, key_size=1024)
    # a CA-issued client certificate the server trusts itself (pinned), its CA unknown there
    pin_ca = make("Pinning CA", ca=True, eku=None, org="Pin")
    pinned = make("pinned-client", pin_ca, org="Pin")
    stranger = make("stranger-client", eku=[CLIENT], org="Stranger")

    def case(n: str, d: str, chain: Sequence[Issued | x509.Certificate], key: Issued | None = None) -> Case:
        certs = tuple(c.cert if isinstance(c, Issued) else c for c in chain)
        head = chain[0]
        k = key.key if key else (head.key if isinstance(head, Issued) else leaf.key)
        return Case(n, d, certs, k)

    cases = (
        Case("no-certificate", "the client sends an empty Certificate message", (), None),
        case("good", "leaf under intermediate under the trusted root", [leaf, inter]),
        case("leaf-only", "the leaf alone: its intermediate is not sent", [leaf]),
        case("with-root", "leaf, intermediate and the root", [leaf, inter, root]),
        case("wrong-order", "leaf, root, intermediate", [leaf, root, inter]),
        case("extra-unrelated", "leaf, intermediate and an unrelated CA", [leaf, inter, unrelated]),
        case("two-intermediates", "leaf under two intermediates under the root", [deep, lower, upper]),
        case(
            "intermediate-anchor",
            "leaf under an intermediate trusted without its root",
            [beta_leaf, beta_inter],
        ),
        case(
            "leaf-server-eku",
            "the leaf's EKU is serverAuth only",
            [make("server-eku", inter, eku=[SERVER]), inter],
        ),
        case(
            "intermediate-server-eku",
            "the intermediate's EKU is serverAuth only",
            [make("under-server-eku", inter_server_eku), inter_server_eku],
        ),
        case(
            "intermediate-client-eku",
            "the intermediate's EKU is clientAuth",
            [make("under-client-eku", inter_client_eku), inter_client_eku],
        ),
        case("leaf-no-eku", "the leaf has no EKU extension", [make("no-eku", inter, eku=None), inter]),
        case(
            "expired-intermediate",
            "the intermediate expired",
            [make("under-expired", inter_expired), inter_expired],
        ),
        case(
            "leaf-not-yet-valid",
            "the leaf is valid from tomorrow",
            [make("future", inter, not_before=NOW + 2 * day, not_after=NOW + 300 * day), inter],
        ),
        case(
            "leaf-expired",
            "the leaf expired",
            [make("expired", inter, not_before=NOW - 300 * day, not_after=NOW - 2 * day), inter],
        ),
        case(
            "sha1-intermediate",
            "the intermediate is signed with SHA-1",
            [make("under-sha1", inter_sha1), inter_sha1],
        ),
        case("rsa1024-leaf", "the leaf's key is RSA 1024", [make("rsa1024", inter, key_size=1024), inter]),
        case(
            "pathlen-violated",
            "an intermediate under a pathlen-0 CA",
            [make("under-pathlen", below_pathlen0), below_pathlen0, pathlen0],
        ),
        case(
            "name-constraints-violated",
            "the leaf's dNSName is outside the intermediate's permitted subtree",
            [make("nc", constrained, dns=["client.other.example"]), constrained],
        ),
        case(
            "name-constraints-ok",
            "the leaf's dNSName is inside the intermediate's permitted subtree",
            [make("nc-ok", constrained, dns=["client.acme.example"]), constrained],
        ),
        case(
            "unknown-critical-extension",
            "the leaf carries an unknown critical extension",
            [make("critical", inter, critical_unknown=True), inter],
        ),
        case("self-signed-trusted", "a self-signed client certificate the server trusts directly", [selfie]),
        case(
            "self-signed-untrusted", "a self-signed client certificate the server does not trust", [stranger]
        ),
        case(
            "cross-signed",
            "leaf, intermediate and the root cross-signed by an untrusted old root",
            [leaf, inter, cross],
        ),
        case(
            "issuer-not-ca",
            "leaf issued by a certificate that is not a CA",
            [make("under-leaf", not_a_ca), not_a_ca, inter],
        ),
        case(
            "ec-leaf",
            "an ECDSA P-256 leaf under the RSA intermediate",
            [make("ec", inter, key_kind="ec", key_size=256), inter],
        ),
        case(
            "leaf-no-digital-signature",
            "the leaf's key usage lacks digitalSignature",
            [make("no-ds", inter, digital_signature=False), inter],
        ),
        case(
            "leaf-any-eku",
            "the leaf's EKU is anyExtendedKeyUsage only",
            [make("any-eku", inter, eku=[ANY]), inter],
        ),
        case(
            "cross-intermediate-trusted",
            "the intermediate as cross-signed by a second trusted root",
            [leaf, inter_by_partner],
        ),
        case(
            "cross-intermediate-untrusted",
            "the intermediate as cross-signed by an untrusted root (the trusted path not sent)",
            [leaf, inter_by_old],
        ),
        case(
            "bad-signature",
            "the leaf names the intermediate as issuer but another key signed it",
            [make("forged", inter, signer=new_key()), inter],
        ),
        case("leaf-and-root", "the leaf and the root, the intermediate missing", [leaf, root]),
        case("pinned-leaf", "a CA-issued client certificate trusted itself, sent alone", [pinned]),
        case("duplicate-intermediate", "leaf, intermediate, the intermediate again", [leaf, inter, inter]),
        case(
            "expired-root",
            "a chain to a trusted root that has expired",
            [make("under-expired-root", under_expired_root, org="Expired"), under_expired_root],
        ),
        case(
            "rsa1024-intermediate",
            "the intermediate's key is RSA 1024",
            [make("under-weak", weak_inter), weak_inter],
        ),
        case(
            "root-server-eku",
            "the trusted root's EKU is serverAuth only",
            [make("under-restricted", restricted_inter, org="Restricted"), restricted_inter],
        ),
    )
    trust = (
        *(root.cert, beta_inter.cert, selfie.cert, partner.cert, restricted.cert),
        *(expired_root.cert, pinned.cert),
    )
    return Catalogue(trust=trust, cases=cases)


def write_private(path: Path, data: bytes) -> Path:
    """A file holding a private key: created 0600 (never readable by others, even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def key_pem(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
