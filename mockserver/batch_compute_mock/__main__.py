"""``python -m batch_compute_mock`` is the ``batch-compute`` command."""

import sys

from .cli import main

sys.exit(main())
