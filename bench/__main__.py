"""``python -m bench`` (``scripts/bench``)."""

import sys

from bench.cli import main

sys.exit(main())
