"""Byte decoding: captures, TCP reassembly, TLS records and handshake messages.

This package knows nothing of keystores, diagnosis or the CLI; `inspector` imports it,
never the reverse.
"""
