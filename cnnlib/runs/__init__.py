"""Runs: how much a section may train, and what each run reached.

* ``budget`` -- the ``quick`` and ``full`` budget of every trained model, its accuracy
  floor, and ``Budget.train``, the one call a training cell makes;
* ``records`` -- the JSON run records behind the results page.

``from cnnlib.runs import get_budget`` is what a notebook needs.
"""

from cnnlib.runs.budget import Budget, get_budget
from cnnlib.runs.records import save_run_record

__all__ = ["Budget", "get_budget", "save_run_record"]
