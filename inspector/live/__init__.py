"""Handshakes made here, over real sockets: the probe's OpenSSL client and its attempts, the
reference mTLS server, the RSA-PSS key relabelling OpenSSL needs. What Java would choose is
asked of `inspector.java` through a callback; nothing here judges or renders."""

__all__ = ["attempt", "bio_client", "probe", "reference_server", "rsassa_pss"]
