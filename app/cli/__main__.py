"""`python -m app.cli`: the `jixiao` command."""

import sys

from app.cli import main

sys.exit(main())
