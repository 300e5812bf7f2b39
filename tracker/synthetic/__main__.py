"""``python -m tracker.synthetic N …`` (what ``scripts/gen-returns`` runs)."""

import sys

from tracker.synthetic.cli import main

sys.exit(main())
