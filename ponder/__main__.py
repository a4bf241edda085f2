"""`python -m ponder ...` runs the `ponder` command (for environments where the console script is not on PATH)."""

import sys

from ponder.cli import main

sys.exit(main())
