"""``python -m pipeline`` is the ``riskwatch`` command."""

import sys

from pipeline.cli import main

sys.exit(main())
