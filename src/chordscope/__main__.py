"""Run the command line as ``python -m chordscope``."""

from .cli import main

raise SystemExit(main())
