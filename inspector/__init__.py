"""mtls-inspector: explains why an outbound mutual-TLS handshake failed."""

__version__ = "0.1.0"
