"""What a Java client does: its key managers' choice of entry, the alias order, JDK versions,
how a `java` command line is read, and its default trust manager's verdict on a server chain.
Models Java only: no sockets, no OpenSSL, no rendering; the live client lives in `inspector.live`."""

__all__ = ["alias_order", "detect", "key_managers", "trust", "verdict", "versions"]
