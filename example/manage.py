#!/usr/bin/env python
"""The example project's manage.py: ``python example/manage.py runcrons``."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    # Runs from any directory: the example and the package beside it come first.
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampleproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
