"""``python -m emovox``: the command line, as the ``emovox`` entry point runs it."""

import sys

from .cli import main

sys.exit(main())
