"""cnnlib: the small library behind CNN Companion.

Each concern lives in its own module; import what you need by name::

    from cnnlib import setup
    from cnnlib.ops import corr2d
    from cnnlib.data import FashionMNIST
"""

from cnnlib.repro import setup

__version__ = "0.1.0"
__all__ = ["setup", "__version__"]
