"""Interactive explorers: one front-end each, for JupyterLab and the website.

Every explorer is a :class:`cnnlib.widgets.live.LiveExplorer` (an anywidget widget):
its controls and the values derived from them are traitlets, which Python computes with
cnnlib and PyTorch; its front-end (``cnnlib/web/explorers/<name>.js``) draws them in
JupyterLab and, on the website, computes them in the reader's browser. Tests set a
traitlet and check the derived values without a kernel. ``registry`` lists them all.
"""
