"""Pure render functions: tensors in, matplotlib figures out.

Nothing here imports ipywidgets, so every picture can be drawn headless (in
tests, in the book build, in a script). ``cnnlib.widgets`` wires controls to
these functions. One module per kind of picture; import them by name, e.g.
``from cnnlib.viz.common import figure_to_png``.

Importing the package applies the companion's one figure style (``style.apply``): the
resolution and font sizes that keep a figure's text readable on the website.
"""

from cnnlib.viz import style

style.apply()
