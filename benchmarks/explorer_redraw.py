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
from cnnlib.models.pretrained import pretrained  # noqa: E402
from cnnlib.widgets.bn_stats import ActivationStatsExplorer, BatchStatsExplorer  # noqa: E402
from cnnlib.widgets.channels import ChannelsExplorer, notes_tensors  # noqa: E402
from cnnlib.widgets.compare_stages import StageComparisonExplorer  # noqa: E402
from cnnlib.widgets.conv_steps import NOTES_K, NOTES_X, ConvStepExplorer  # noqa: E402
from cnnlib.widgets.dense_vs_conv import ParameterCountExplorer, ShiftExplorer  # noqa: E402
from cnnlib.widgets.feature_maps import FeatureMapExplorer, trained_lenet  # noqa: E402
from cnnlib.widgets.grad_cam import GradCamExplorer  # noqa: E402
from cnnlib.widgets.grad_flow import GradientFlowExplorer  # noqa: E402
from cnnlib.widgets.inception import InceptionExplorer  # noqa: E402
from cnnlib.widgets.kernel_explorer import KernelExplorer  # noqa: E402
from cnnlib.widgets.nin_maps import NiNClassMapExplorer, NiNPixelExplorer  # noqa: E402
from cnnlib.widgets.padding_stride import PaddingStrideExplorer  # noqa: E402
from cnnlib.widgets.page import page_html  # noqa: E402
from cnnlib.widgets.pooling import PoolingExplorer  # noqa: E402
from cnnlib.widgets.receptive_field import ReceptiveFieldExplorer  # noqa: E402
from cnnlib.widgets.vgg_blocks import VGGBlockExplorer  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "explorer_redraw.json"

# (section, explorer, how the chapter builds it, the control moved and two values for it)
CASES = [
    ("7.1", "ShiftExplorer", ShiftExplorer, "dx", (3, -3)),
    ("7.1", "ParameterCountExplorer",
     lambda: ParameterCountExplorer(side=224, kernel=3, c_in=3, c_out=64), "side", (28, 224)),
    ("7.2", "KernelExplorer", KernelExplorer, "input_choice", None),
    ("7.3", "PaddingStrideExplorer",
     lambda: PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2),
     "padding", (0, 2)),
    ("7.3", "ConvStepExplorer", lambda: ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2),
     "step", (0, 3)),
    ("7.4", "ChannelsExplorer", lambda: ChannelsExplorer(*notes_tensors()), "out_channel", (0, 2)),
    ("7.5", "PoolingExplorer", PoolingExplorer, "stride", (1, 2)),
    ("7.5", "ReceptiveFieldExplorer", lambda: ReceptiveFieldExplorer(input_size=12), "row",
     (0, 2)),
    ("7.6", "FeatureMapExplorer", lambda: FeatureMapExplorer(model=trained_lenet()), "index",
     (0, 1)),
    ("8.1", "StageComparisonExplorer",
     lambda: StageComparisonExplorer(lenet=pretrained("lenet"), alexnet=pretrained("alexnet")),
     "example", (0, 1)),
    ("8.2", "VGGBlockExplorer", lambda: VGGBlockExplorer(model=pretrained("vgg11")), "block",
     (1, 3)),
    ("8.3", "NiNPixelExplorer", lambda: NiNPixelExplorer(model=pretrained("nin")), "example",
     (0, 1)),
    ("8.3", "NiNClassMapExplorer", lambda: NiNClassMapExplorer(model=pretrained("nin")),
     "example", (0, 1)),
    ("8.4", "InceptionExplorer", lambda: InceptionExplorer(model=pretrained("googlenet")),
     "example", (0, 1)),
    ("8.5", "ActivationStatsExplorer", ActivationStatsExplorer, "layer", None),
    ("8.5", "BatchStatsExplorer", lambda: BatchStatsExplorer(model=pretrained("bn_lenet")),
     "mode", None),
    ("8.6", "GradientFlowExplorer", GradientFlowExplorer, "batch_norm", (True, False)),
    ("8.6", "GradCamExplorer", lambda: GradCamExplorer(model=pretrained("resnet18")), "example",
     (0, 1)),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-pages", action="store_true", help="skip the page-form sweep")
    args = parser.parse_args()
    rows = []
    for section, name, make, control, values in CASES:
        explorer = make()
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
