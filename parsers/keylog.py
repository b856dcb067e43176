"""NSS key log (SSLKEYLOGFILE) parsing: client_random → {label: secret}."""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = {
    "CLIENT_RANDOM",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "EARLY_EXPORTER_SECRET",
}


@dataclass
class KeyLog:
    secrets: dict[bytes, dict[str, bytes]] = field(default_factory=dict)

    def add_text(self, text: str) -> None:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3 or parts[0] not in LABELS:
                continue  # not a key log line (a comment, another tool's format): ignored
            try:
                random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            except ValueError:
                continue
            self.secrets.setdefault(random, {})[parts[0]] = secret

    def for_client_random(self, random: bytes) -> dict[str, bytes]:
        return self.secrets.get(random, {})

    def __len__(self) -> int:
        return len(self.secrets)
