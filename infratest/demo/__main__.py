"""``python -m infratest.demo``: run the demo target."""

import sys

from infratest.demo import main

sys.exit(main())
