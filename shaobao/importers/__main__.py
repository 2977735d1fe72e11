"""`python -m shaobao.importers …`, the same as `shaobao import …`."""

from __future__ import annotations

import sys

from shaobao.importers import run_import

sys.exit(run_import(sys.argv[1:]))
