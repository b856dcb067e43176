"""TLS certificate compression (RFC 8879): a CompressedCertificate → the Certificate it holds.

Browsers and BoringSSL-based servers (Cloudflare, Google) compress the certificate message
when the peer offers it; without this the chain — and the signature check that needs its key —
would be lost. zlib is in the standard library; brotli and zstd are read when their packages
(`brotli`, `zstandard`) are installed, and said otherwise. Decompression is bounded by the
length the message declares (at most 2^24 bytes, the largest handshake message), so a
"compression bomb" costs no more than a real certificate message could.
"""

from __future__ import annotations

import importlib
import io
import zlib

ZLIB, BROTLI, ZSTD = 1, 2, 3
ALGORITHMS = {ZLIB: "zlib", BROTLI: "brotli", ZSTD: "zstd"}
_PACKAGES = {BROTLI: "brotli", ZSTD: "zstandard"}
MAX_UNCOMPRESSED = 1 << 24


class NotDecompressed(Exception):
    """The certificate inside cannot be read: the reason, for the report."""


class MissingDecompressor(NotDecompressed):
    """Compressed with an algorithm whose package is not installed here."""


def algorithm_name(algorithm: int) -> str:
    return ALGORITHMS.get(algorithm, f"algorithm {algorithm}")


def decompress(body: bytes) -> tuple[int, bytes]:
    """(algorithm, the Certificate message's body) from a CompressedCertificate's body."""
    if len(body) < 8:
        raise NotDecompressed("CompressedCertificate too short")
    algorithm = int.from_bytes(body[0:2], "big")
    size = int.from_bytes(body[2:5], "big")
    length = int.from_bytes(body[5:8], "big")
    data = body[8 : 8 + length]
    if len(data) != length or not 0 < size <= MAX_UNCOMPRESSED:
        raise NotDecompressed("CompressedCertificate lengths do not add up")
    try:
        out = _inflate(algorithm, data, size)
    except NotDecompressed:
        raise
    except Exception as exc:  # each library's own error type for corrupt input
        raise NotDecompressed(
            f"{algorithm_name(algorithm)} data does not decompress ({type(exc).__name__})"
        ) from None
    if len(out) != size:
        raise NotDecompressed(
            f"{algorithm_name(algorithm)} data gives {len(out)} bytes, the message says {size}"
        )
    return algorithm, out


def _inflate(algorithm: int, data: bytes, size: int) -> bytes:
    if algorithm == ZLIB:
        return zlib.decompressobj().decompress(data, size + 1)
    package = _PACKAGES.get(algorithm)
    if package is None:
        raise NotDecompressed(f"compressed with an unknown algorithm ({algorithm})")
    try:
        library = importlib.import_module(package)
    except ImportError:
        raise MissingDecompressor(
            f"compressed with {algorithm_name(algorithm)}: install the Python package {package} to read it"
        ) from None
    if algorithm == BROTLI:  # the buffer stops growing past the limit
        return bytes(library.Decompressor().process(data, output_buffer_limit=size + 1))
    # a zstd frame may declare any content size: read through a stream, never allocate it
    with library.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
        return bytes(reader.read(size + 1))
