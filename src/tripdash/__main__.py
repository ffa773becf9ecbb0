"""``python -m tripdash``: the same as the ``tripdash`` command."""

import sys

from tripdash.cli import main

sys.exit(main())
