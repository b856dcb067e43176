""".NET (HttpClient, SslStream; SChannel on Windows, OpenSSL on Linux). Not runnable here: the
forms are those of .NET's resource strings (System.Net.Security's Strings.resx)."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, C, U = Family.DOTNET, Speaker.CLIENT, Speaker.UNKNOWN

SIGNS = (
    sign(
        ".NET remote certificate invalid",
        F,
        r"The remote certificate is invalid (?:according to the validation procedure|because of errors in "
        r"the certificate chain)(?:: ?(?P<detail>[A-Za-z, ]+))?",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        ".NET remote certificate name",
        F,
        r"(?P<detail>RemoteCertificateNameMismatch)",
        Kind.HOSTNAME_MISMATCH,
        C,
        alongside=True,
    ),
    sign(
        ".NET validation callback",
        F,
        r"The remote certificate was rejected by the provided RemoteCertificateValidationCallback"
        r"|Could not establish trust relationship for the SSL/TLS secure channel",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
    ),
    sign(
        ".NET credentials",
        F,
        r"The credentials supplied to the package were not recognized|No credentials are available in the "
        r"security package",
        Kind.CLIENT_CERT_UNUSABLE,
        C,
    ),
    sign(
        ".NET unexpected EOF",
        F,
        r"Received an unexpected EOF or 0 bytes from the transport stream|An existing connection was "
        r"forcibly closed by the remote host",
        Kind.CLOSED_WITHOUT_ALERT,
        U,
    ),
    sign(
        ".NET handshake failed",
        F,
        r"The SSL connection could not be established|AuthenticationException|Authentication failed"
        r"|A call to SSPI failed|The message received was unexpected or badly formatted"
        r"|Could not create SSL/TLS secure channel|SSL Handshake failed with OpenSSL error"
        r"|do not possess a common algorithm",
        Kind.HANDSHAKE_FAILED,
        C,
    ),
)
