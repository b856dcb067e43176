"""User-facing errors: one line that names the file or field and says what to do."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes; documented in the README."""

    OK = 0
    ERROR_FINDINGS = 1
    BAD_INPUT = 2
    #: a bug in the tool (an unexpected exception), never bad input: sysexits.h EX_SOFTWARE
    INTERNAL_ERROR = 70
    #: stopped by Ctrl-C (128 + SIGINT)
    INTERRUPTED = 130


class InputError(Exception):
    """Bad input or usage: printed as one line on stderr, exit status 2, no traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        return f"{self.message}" + (f" — {self.hint}" if self.hint else "")
