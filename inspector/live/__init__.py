"""Handshakes made here, over real sockets: the probe's OpenSSL client and its attempts, the
reference mTLS server, the OpenSSL contexts both use (contexts: the only place one is built),
the RSA-PSS key relabelling OpenSSL needs. What Java would choose is asked of `inspector.java`
through a callback; nothing here judges or renders."""

__all__ = [
    "attempt",
    "bio_client",
    "client_report",
    "contexts",
    "peer_certs",
    "probe",
    "reference_server",
    "rsassa_pss",
    "server_pump",
]
