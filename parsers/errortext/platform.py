"""The integration platform's own outbound error texts, as its users see them in a REST
message's test result or an outbound log (the Java exceptions themselves: parsers/javalog)."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, C, SA, U = Family.PLATFORM, Speaker.CLIENT, Speaker.SERVER_ALERT, Speaker.UNKNOWN

SIGNS = (
    # Apache HttpClient on the JVM: the handshake did not complete (the cause is hidden)
    sign("peer not authenticated", F, r"\bpeer not authenticated\b", Kind.HANDSHAKE_FAILED, C),
    sign("Socket is closed", F, r"\bSocket (?:is )?closed\b", Kind.CLOSED_WITHOUT_ALERT, U),
    sign(
        "Received fatal alert",
        F,
        r"Received fatal alert: (?P<alert>[a-z_]+)",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    sign(
        "REST test result status 400",
        F,
        r"(?:with code|[Ss]tatus(?: code)?|HTTP status)\s*[:=]\s*400\b",
        Kind.HTTP_BAD_REQUEST,
        Speaker.SERVER_HTTP,
    ),
)
