"""`python -m inspector` is the same as `mtls-inspect`."""

import sys

from inspector.cli import main

sys.exit(main())
