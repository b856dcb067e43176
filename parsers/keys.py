"""Decryption as a record-layer step: which secret opens which direction's records.

`KeySchedule` knows the connection's parameters (randoms, suite) and the key log's secrets;
`RecordProtection` is one direction's current state (clear, encrypted with or without a
decryptor). The TLS session decides *when* keys change (ChangeCipherSpec, ServerHello,
Finished); this module only answers *with what*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from parsers.decrypt import (
    NULL_SUITES,
    TLS12_AEAD_SUITES,
    TLS12_CBC_SUITES,
    TLS13_SUITES,
    NullDecryptor,
    Tls12CbcDecryptor,
    Tls12Decryptor,
    Tls13Decryptor,
)
from parsers.keylog import KeyLog
from parsers.model import Direction

Decryptor = Tls12Decryptor | Tls12CbcDecryptor | Tls13Decryptor | NullDecryptor


class Epoch(str, Enum):
    """A direction's key epoch: the key log label that holds its secret differs per epoch."""

    TLS12 = "TLS12"  # after a TLS 1.2 ChangeCipherSpec
    HANDSHAKE = "HANDSHAKE"  # TLS 1.3 handshake traffic keys
    APPLICATION = "APPLICATION"  # TLS 1.3 first application traffic keys


def secret_label(direction: Direction, epoch: Epoch) -> str:
    """The key log label holding the secret of one direction's key epoch."""
    if epoch is Epoch.TLS12:
        return "CLIENT_RANDOM"
    side = "CLIENT" if direction is Direction.CLIENT else "SERVER"
    return f"{side}_HANDSHAKE_TRAFFIC_SECRET" if epoch is Epoch.HANDSHAKE else f"{side}_TRAFFIC_SECRET_0"


class UnsupportedSuite(Exception):
    """Secrets exist, but the negotiated cipher suite is not one we decrypt."""


@dataclass
class RecordProtection:
    """One direction's record protection."""

    encrypted: bool = False  # past its key change: records are ciphertext
    decryptor: Decryptor | None = None
    #: the epoch a decryptor was wanted for while the key log had no secret yet (live use)
    wanted: Epoch | None = None


class KeySchedule:
    def __init__(self, keylog: KeyLog | None) -> None:
        self.keylog = keylog
        self.secrets: dict[str, bytes] = {}
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.suite: int | None = None
        self.version = 0x0303  # the ServerHello's: TLS 1.0 and 1.1 derive keys their own way
        self.encrypt_then_mac = False

    def lookup(self, client_random: bytes) -> dict[str, bytes]:
        return self.keylog.for_client_random(client_random) if self.keylog is not None else {}

    def fetch_secrets(self) -> bool:
        """Look the secrets up again while there are none (a live key log fills in during the
        handshake; a renegotiation's CLIENT_RANDOM is logged after its ClientHello). True when
        this call found them."""
        if self.secrets or self.keylog is None or self.client_random is None:
            return False
        self.secrets = self.keylog.for_client_random(self.client_random)
        return bool(self.secrets)

    def has_secret(self, direction: Direction, epoch: Epoch) -> bool:
        return secret_label(direction, epoch) in self.secrets

    def decryptor(self, direction: Direction, epoch: Epoch) -> Decryptor | None:
        """None while the secret is missing; raises UnsupportedSuite."""
        if epoch is Epoch.TLS12:
            return self._tls12(direction)
        if self.suite not in TLS13_SUITES:
            return None
        secret = self.secrets.get(secret_label(direction, epoch))
        if secret is None:
            return None
        assert self.suite is not None
        return Tls13Decryptor.from_secret(self.suite, secret)

    def _tls12(self, direction: Direction) -> Decryptor | None:
        if self.suite in NULL_SUITES:  # no encryption: readable without a key log
            return NullDecryptor(NULL_SUITES[self.suite])
        master = self.secrets.get("CLIENT_RANDOM")
        if master is None or self.suite is None or self.client_random is None or self.server_random is None:
            return None
        client_side = direction is Direction.CLIENT
        if self.suite in TLS12_AEAD_SUITES:
            return Tls12Decryptor.from_master(
                self.suite, master, self.client_random, self.server_random, client_side
            )
        if self.suite in TLS12_CBC_SUITES:
            return Tls12CbcDecryptor.from_master(
                self.suite,
                master,
                self.client_random,
                self.server_random,
                client_side,
                self.encrypt_then_mac,
                self.version,
            )
        raise UnsupportedSuite(f"cipher suite 0x{self.suite:04x} is not one we decrypt (AEAD or AES-CBC)")
