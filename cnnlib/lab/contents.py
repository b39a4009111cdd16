"""The Jupyter server's contents manager: a reader's save never rewrites a built notebook.

Each ``chapters/<section>.ipynb`` is a build output: ``make notebooks`` executes the
section and publishes it (page forms instead of live widgets, see :mod:`cnnlib.lab.offline`),
git tracks it, nbval checks it and the website shows it. JupyterLab opens the section's
``.py`` through Jupytext, which pairs it with that ``.ipynb`` and, on every save (and Lab
autosaves every two minutes), writes both. Left alone, a reader who runs a chapter and
saves replaces the published outputs with live-widget references that show "Error
displaying widget: model not found" once the kernel is gone, and makes ``git status`` dirty.

So this manager, which Jupytext's own manager derives from (`make venv` names it in
``.venv/etc/jupyter/jupyter_server_config.json``), treats a notebook save
whose target on disk is marked built (:func:`cnnlib.lab.offline.mark_built`) differently:

* the built ``.ipynb`` is not touched, not even its modification time;
* the reader's notebook, with its widget outputs made to show without a kernel
  (:func:`~cnnlib.lab.offline.keep_offline`), is saved to ``my-notebooks/<same path>``,
  which git ignores;
* Jupytext still writes the ``.py``, which is the reader's code: unchanged code writes
  the same bytes, and an edit is the reader's own (and shows in ``git status``).

On reopening, the section shows the published outputs again (each explorer's page form
until its cell runs); the reader's last outputs are in ``my-notebooks/``. Every other
notebook and file is saved as usual.
"""

from __future__ import annotations

import json
import os

import nbformat
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from cnnlib.lab.offline import BUILT_KEY, is_built, keep_offline

#: Where a reader's saves of built notebooks go, relative to the server's root directory.
READER_COPIES = "my-notebooks"


def reader_copy_path(path: str) -> str:
    """Where the reader's save of the built notebook at ``path`` goes (server path)."""
    return f"{READER_COPIES}/{path.strip('/')}"


class ChapterContentsManager(AsyncLargeFileManager):
    """Jupyter's file contents manager, except that built notebooks are never overwritten."""

    async def save(self, model: dict, path: str = "") -> dict:
        path = path.strip("/")
        if model.get("type") != "notebook" or not self._is_built_on_disk(path):
            return await super().save(model, path)
        notebook = nbformat.from_dict(model.get("content") or {})
        counts = keep_offline(notebook)
        # The copy is the reader's notebook, no longer a build output: saving it is ordinary.
        notebook.metadata.pop(BUILT_KEY, None)
        copy = reader_copy_path(path)
        os.makedirs(os.path.dirname(self._get_os_path(copy)), exist_ok=True)
        await super().save({"type": "notebook", "format": "json", "content": notebook}, copy)
        self.log.info(
            "%s is built by `make notebooks` and stays as committed; your notebook was saved "
            "to %s (%d explorer pictures kept, %d progress bars dropped)",
            path, copy, counts["pictures"] + counts["page forms"], counts["dropped"])
        return await self.get(path, content=False, type="notebook")

    def _is_built_on_disk(self, path: str) -> bool:
        """Whether the file ``path`` now holds is a notebook marked built."""
        if not path.endswith(".ipynb"):
            return False
        os_path = self._get_os_path(path)
        try:
            with open(os_path, encoding="utf-8") as handle:
                on_disk = json.load(handle)
        except (OSError, ValueError):
            return False  # a new notebook, or not one: nothing built to keep
        return isinstance(on_disk, dict) and is_built(on_disk)
