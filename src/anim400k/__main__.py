"""``python -m anim400k``."""

import sys

from .cli import main

sys.exit(main())
