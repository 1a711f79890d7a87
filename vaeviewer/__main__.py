"""Entry point for ``python -m vaeviewer``."""

from vaeviewer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
