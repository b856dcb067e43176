"""What every wire rule is handed: one transcript, optionally the client's keystore, and where the
evidence came from; with the keystore, the entry a Java client would pick for the transcript's
CertificateRequest, worked out once for all the rules (and for the report) that read it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from inspector.findings import Evidence, Location
from inspector.java.key_managers import CaRequest, Selection, select
from inspector.keystore.model import Keystore
from inspector.system.times import utc_from_timestamp
from parsers import model
from parsers.model import Certificate, CertificateRequest, Direction, HandshakeEvent, Seen, Transcript


@dataclass(frozen=True)
class WireContext:
    t: Transcript
    store: Keystore | None = None
    file: str | None = None
    at: dt.datetime | None = None
    command: str = "pcap"  # which command the fix suggestions should name

    def where(self) -> Location:
        return Location(file=self.file, connection=self.t.index)

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"connection #{self.t.index}", fact)
        frame = f", frame {event.frame}" if event.frame is not None else ""
        who = "client" if event.direction is Direction.CLIENT else "server"
        return Evidence(f"{model.event_label(event)} from {who} at {event.time:.3f} s{frame}", fact)

    @property
    def when(self) -> dt.datetime:
        return self.at or utc_from_timestamp(self.t.start_time or 0)

    def request(self) -> Seen[CertificateRequest] | None:
        return model.first(self.t, CertificateRequest, Direction.SERVER)

    def client_certificate(self) -> Seen[Certificate] | None:
        return model.first(self.t, Certificate, Direction.CLIENT)

    def index_of(self, event: HandshakeEvent) -> int:
        return next(i for i, e in enumerate(self.t.events) if e is event)

    @cached_property
    def selection(self) -> Selection | None:
        """Java's choice for the server's CertificateRequest, with the keystore (None without
        either); its source is the request's evidence, as this context words it."""
        found = self.request()
        if found is None or self.store is None:
            return None
        source = self.ev(found.event, "").source
        return select(self.store, CaRequest.from_message(found.message, source), self.when)


def ca_names_text(req: CertificateRequest) -> str:
    if not req.ca_names:
        return "no CA names"
    names = [n.text for n in req.ca_names]
    return "; ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
