"""One module per subcommand (`*_cmd`): its options, and `run` — parse, call one function, render."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    #: what each command's `add_parser` adds itself to
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
