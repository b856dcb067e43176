"""`python -m inspector` is the same as `mtls-inspect`."""

import sys

from inspector.cli import main

status = main()
# Under `python -m`, CPython (3.8 to 3.12 at least) ends the process by SIGINT (status -2, not
# ours) if a KeyboardInterrupt ever ended a string exec/eval, even one caught and handled since:
# dataclasses and namedtuple build their methods that way, so Ctrl-C landing while a module was
# imported made `mtls-inspect: interrupted` exit -2 instead of 130 (seen in CI). Its flag is reset
# by the next string eval: this one. (`mtls-inspect`, a script, never checks that flag.)
eval("0")
sys.exit(status)
