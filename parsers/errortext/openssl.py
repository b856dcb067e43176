"""OpenSSL's own words: its error queue (printed by curl, Python, Node, .NET on Linux and
s_client alike), `openssl s_client`'s report and `openssl verify`."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import VERIFY_REASONS, sign

C, SA, LC, U = Speaker.CLIENT, Speaker.SERVER_ALERT, Speaker.LOCAL_CHECK, Speaker.UNKNOWN

SIGNS = (
    # openssl s_client
    sign(
        "s_client verify error",
        Family.OPENSSL,
        r"verify error:num=\d+:(?P<detail>.+?)\s*$",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        "s_client verify return code",
        Family.OPENSSL,
        r"Verify return code: [1-9]\d* \((?P<detail>[^)]+)\)",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign("s_client verified", Family.OPENSSL, r"Verify return code: 0 \(ok\)", Kind.SUCCESS, C),
    sign("s_client write errno", Family.OPENSSL, r"write:errno=\d+", Kind.CLOSED_WITHOUT_ALERT, U),
    # openssl verify
    sign(
        "openssl verify error",
        Family.OPENSSL,
        r"error \d+ at \d+ depth lookup: ?(?P<detail>.+?)\s*$",
        Kind.VERIFY_FAILED,
        LC,
    ),
    sign(
        "openssl verify failed",
        Family.OPENSSL,
        r"^\s*error (?P<detail>\S+): verification failed",
        Kind.VERIFY_FAILED,
        LC,
    ),
    sign("openssl verify OK", Family.OPENSSL, r"^\s*\S+\.(?:pem|crt|cer|der): OK\s*$", Kind.SUCCESS, LC),
    # "sslv3 alert bad certificate", "tlsv13 alert certificate required": OpenSSL's reason for
    # an alert it *received* (SSL_AD_REASON_OFFSET + the alert's number)
    sign(
        "OpenSSL received-alert reason",
        None,
        r"(?P<alert>(?:sslv3|tlsv1|tlsv13) alert [a-z ]+?)(?=\s*(?:[,:'\")\]]|\(|$|errno))",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    sign(
        "OpenSSL received-alert reason (upper case)",
        None,
        r"\b(?P<alert>(?:SSLV3|TLSV1|TLSV13)_ALERT_[A-Z_]+)\b",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    sign("OpenSSL SSL alert number", None, r"SSL alert number (?P<number>\d+)", Kind.ALERT_RECEIVED, SA),
    # the certificate verify reasons (the client judging the server's chain)
    sign(
        "OpenSSL certificate verify failed",
        None,
        r"certificate verify failed(?:: \(?(?P<detail>[^()\n']+?)\)?)?\s*(?:\(|'|\"|$)",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        "OpenSSL verify reason",
        None,
        rf"(?<!lookup: )(?<!lookup:)(?P<detail>{VERIFY_REASONS})",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        "OpenSSL key values mismatch",
        None,
        r"key values mismatch|KEY_VALUES_MISMATCH|\[SSL\] PEM lib|bad decrypt|"
        r"no start line|NO_START_LINE",
        Kind.CLIENT_CERT_UNUSABLE,
        C,
    ),
    sign(
        "OpenSSL unexpected eof",
        None,
        r"unexpected eof while reading|UNEXPECTED_EOF_WHILE_READING|SSL_ERROR_SYSCALL"
        r"|Connection reset by peer|ECONNRESET|EOF occurred in violation of protocol",
        Kind.CLOSED_WITHOUT_ALERT,
        U,
    ),
    sign(
        "OpenSSL wrong version number",
        None,
        r"wrong version number|WRONG_VERSION_NUMBER|packet length too long|http request",
        Kind.HANDSHAKE_FAILED,
        C,
    ),
)
