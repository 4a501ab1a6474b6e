"""`python -m workbench ...` (and `accelerate launch -m workbench ...`)."""

import sys

from .cli import main

sys.exit(main())
