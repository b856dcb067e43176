"""The partner's server's verdict on the client's chain, per server stack.

Pure: certificates and a time in, typed verdicts out; no I/O. `facts` reads each certificate
once; `openssl_family` models the stacks that verify with OpenSSL (openssl s_server, nginx,
Apache httpd, HAProxy, Node) and Envoy (BoringSSL, modelled from its documentation only);
`go` models Go's crypto/x509; `java` the JDK's PKIX trust manager; `predict` runs them all.
Each stack's defaults and where they come from: docs/server-stacks.md.
"""

from inspector.server_stacks.model import STACKS, Problem, Stack, StackVerdict, Verdict
from inspector.server_stacks.predict import predict

__all__ = ["STACKS", "Problem", "Stack", "StackVerdict", "Verdict", "predict"]
