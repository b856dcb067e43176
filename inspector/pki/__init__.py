"""Certificates as data: decoding and naming them, X.500 names compared as Java compares them,
chains linked leaf to root, host-name matching, and the throwaway PKI of the demo and tests.
Sits below the keystore readers; knows nothing of Java's key managers, sockets or the CLI."""

__all__ = ["certs", "chains", "hostnames", "openssl_verify", "throwaway", "x500"]
