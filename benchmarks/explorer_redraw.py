"""How long each explorer takes to redraw in JupyterLab, and how heavy its page form is.

A reader drags a slider and waits for the picture: the redraw (render + PNG encode,
what ``Explorer.last_render_ms`` measures) must stay under about 100 ms. This script
builds every explorer as its chapter does, moves one control back and forth ``--repeats``
times, and records the median and worst redraw per explorer, plus the size and the
number of states of its page form (cnnlib/widgets/page.py). Results go to
benchmarks/results/explorer_redraw.json with the machine they were measured on.

Usage: python benchmarks/explorer_redraw.py [--repeats 20] [--no-pages]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib._atomic import atomic_write_json  # noqa: E402
from cnnlib.widgets import registry  # noqa: E402
from cnnlib.widgets.page import page_html  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "explorer_redraw.json"


def _section(stem: str) -> str:
    """'7_2_conv_images' -> '7.2'."""
    return ".".join(stem.split("_")[:2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-pages", action="store_true", help="skip the page-form sweep")
    args = parser.parse_args()
    rows = []
    # Every ipywidgets explorer, built as its chapter builds it. An explorer with one
    # front-end draws in the browser: benchmarks/web_explorer_redraw.py times it.
    for entry in (e for e in registry.EXPLORERS if not e.is_live):
        section, name = _section(entry.sections[0]), entry.name
        control, values = entry.redraw
        explorer = entry.build()
        widget = getattr(explorer, control)
        if values is None:  # a dropdown: its first two options
            values = tuple(value for _, value in widget._options_full[:2])
        times = []
        for i in range(args.repeats):
            widget.value = values[i % 2]
            times.append(explorer.last_render_ms)
        row = {
            "section": section,
            "explorer": name,
            "control": control,
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "png_bytes": len(explorer.image.value),
        }
        if not args.no_pages:
            start = time.perf_counter()
            form = page_html(explorer)
            states = json.loads(re.search(r'class="cnnx-states">(.*?)</script>', form).group(1))
            row["page_states"] = len(states["states"])
            row["page_kb"] = round(len(form.encode()) / 1024)
            row["page_sweep_s"] = round(time.perf_counter() - start, 1)
        rows.append(row)
        print(f"{section} {name:24s} redraw median {row['median_ms']:6.1f} ms, "
              f"max {row['max_ms']:6.1f} ms" + (
                  f"; page form {row['page_states']} states, {row['page_kb']} KB "
                  f"in {row['page_sweep_s']} s"
                  if not args.no_pages else ""))
    record = {
        "what": "explorer redraw time (render + PNG encode) and page-form size",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "explorers": rows,
    }
    atomic_write_json(OUT, record)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
