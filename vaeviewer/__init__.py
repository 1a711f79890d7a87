"""vaeviewer: train, inspect and explore point-cloud variational autoencoders.

Importing the package loads nothing heavy (no torch, Qt or VTK); each
sub-package imports what it needs when it is used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
