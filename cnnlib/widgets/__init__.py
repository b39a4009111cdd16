"""Interactive explorers: thin ipywidgets wrappers over ``cnnlib.viz``.

This package is the only part of cnnlib that imports ipywidgets. Every explorer
derives from :class:`cnnlib.widgets.base.Explorer`: its controls call
``refresh()``, which renders a figure with a ``cnnlib.viz`` function and puts
the PNG into an ``ipywidgets.Image``. The state a callback updates (the figure,
the PNG bytes, the numbers behind them) is plain attributes, so tests can set a
control's value and check the result without a kernel.
"""
