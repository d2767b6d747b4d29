"""`python -m tests.perf`: see tests.perf.run."""

import sys

from tests.perf.run import main

sys.exit(main())
