"""How the chapters' notebooks behave in JupyterLab without breaking the committed ones.

``offline.py`` turns live widget outputs into outputs that show without a kernel (what
``make notebooks`` publishes and what a reader's saved copy keeps); ``contents.py`` is the
Jupyter server's contents manager that `make venv` configures, which keeps every notebook
``make notebooks`` built byte for byte and saves a reader's notebook beside the repository's
files, in ``my-notebooks/``, which git ignores. Only the Jupyter server imports this package.
"""
