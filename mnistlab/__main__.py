"""Entry point for ``python -m mnistlab``."""

from mnistlab.cli import main

raise SystemExit(main())
