"""`python -m covgraph` runs the command line."""

import sys

from covgraph.cli import main

sys.exit(main())
