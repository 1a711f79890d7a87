"""The window's dock panels, one module each."""
