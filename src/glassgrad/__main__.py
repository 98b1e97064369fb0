"""``python -m glassgrad`` is the ``glassgrad`` command."""

import sys

from glassgrad.cli import main

sys.exit(main())
