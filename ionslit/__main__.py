"""``python -m ionslit`` is the ``ionslit`` command."""

import sys

from ionslit.cli import main

sys.exit(main())
