"""What a Java client does: how it reads a CertificateRequest, its key managers' choice, the alias
order, JDK versions, how a `java` command line is read, its trust manager's verdict on a server
chain. Models Java only: no sockets, no OpenSSL, no rendering; the live client is `inspector.live`'s."""

__all__ = ["alias_order", "cert_request", "detect", "key_managers", "trust", "verdict", "versions"]
