"""A hostile user's acceptance check: dozens of bad inputs thrown at the real command line.

The cases and their driver live in tests/hostile_cases.py (the suite runs them; see its
docstring); this is the command for a person:

    .venv/bin/python scripts/hostile_check.py [-k SUBSTRING] [--keep] [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile_cases import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
