"""Record section 8.6's gradient-flow numbers for every setting the website's explorer offers.

Usage (from the repository root)::

    python scripts/record_grad_flow.py

The website cannot compute them itself: the numbers come from backpropagating through
networks initialised by PyTorch's own random number generator, which a browser cannot
reproduce. So this script computes, with cnnlib's own ``twin_networks`` and
``gradient_flow`` on one PyTorch thread (as the explorer does), every combination of the
explorer's controls: depth (``DEPTHS``), batch norm off/on, init (``INITS``) and seed
(``SEEDS``), 200 settings, on the explorer's fixed batch (the first 64 Fashion-MNIST
training images at 14x14). Each setting's norms and losses are stored exactly, as
little-endian float32 in base64 (``cnnlib.explain.grad_flow.encode_flows``), in
``cnnlib/weights/grad_flow_table.json``, written atomically, with the torch version and the
command that made it. Nothing in it depends on the clock, so a rerun with the same torch
writes the same file. About three minutes on one core of a 2-core Xeon.

Never edit the table by hand: ``tests/test_widgets_live_grad_flow.py`` recomputes settings
with PyTorch and compares.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import torch

from cnnlib._atomic import atomic_write_json
from cnnlib.explain import grad_flow as gf
from cnnlib.training.parallel import torch_threads

#: Channels of every block, as GradientFlowExplorer builds them.
WIDTH = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=gf.TABLE_PATH,
                        help=f"where to write the table (default {gf.TABLE_PATH.name} in "
                             "cnnlib/weights/)")
    return parser.parse_args(argv)


def record(X: torch.Tensor, y: torch.Tensor, say=print) -> dict[str, str]:
    """Every setting's encoded flows, keyed by :func:`~cnnlib.explain.grad_flow.setting_key`.

    Args:
        X, y: the batch ``(N, 1, h, w)`` and its classes ``(N,)``.
        say: called with one line of progress per batch-norm/init/seed triple.

    Returns:
        ``{key: base64}`` for all ``len(DEPTHS) * 2 * len(INITS) * len(SEEDS)`` settings.
    """
    flows = {}
    start = time.perf_counter()
    for batch_norm, init, seed in itertools.product((False, True), gf.INITS, gf.SEEDS):
        for depth in gf.DEPTHS:
            with torch_threads(1):  # as the explorer computes (see cnnlib/widgets/grad_flow.py)
                plain, residual = gf.twin_networks(depth, batch_norm, init, seed, width=WIDTH,
                                                   in_channels=X.shape[1], num_classes=10)
                flows[gf.setting_key(depth, batch_norm, init, seed)] = gf.encode_flows(
                    gf.gradient_flow(plain, X, y), gf.gradient_flow(residual, X, y))
        say(f"batch norm {'on ' if batch_norm else 'off'}, {init:>8}, seed {seed}: "
            f"{len(flows)} settings ({time.perf_counter() - start:.0f} s)")
    return flows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    X, y = gf.training_batch()
    start = time.perf_counter()
    flows = record(X, y, say=lambda line: print(line, flush=True))
    command = "python scripts/record_grad_flow.py"
    if args.out != gf.TABLE_PATH:
        command += f" --out {args.out}"
    table = {
        "format": gf.TABLE_FORMAT,
        "what": "section 8.6's gradient flow at initialisation: for every setting of "
                "GradientFlowExplorer's controls, the norm of the loss's gradient with respect "
                "to each block's convolution weights and each block's output, and the loss, "
                "of a plain deep CNN and its residual twin",
        "command": command,
        "torch": torch.__version__,
        "threads": 1,
        "settings": {
            "depths": list(gf.DEPTHS),
            "batch_norm": [False, True],
            "inits": list(gf.INITS),
            "seeds": list(gf.SEEDS),
            "width": WIDTH,
            "batch": {"images": int(X.shape[0]), "channels": int(X.shape[1]),
                      "height": int(X.shape[2]), "width": int(X.shape[3])},
            "data": f"the first {X.shape[0]} images of the Fashion-MNIST training split, "
                    "averaged 2x2 to 14x14 (cnnlib.explain.grad_flow.training_batch)",
            "networks": "cnnlib.explain.grad_flow.twin_networks(depth, batch_norm, init, seed, "
                        f"width={WIDTH}), measured by gradient_flow in training mode",
        },
        "batch_sha256": gf.batch_fingerprint(X, y),
        "layout": "flows[setting_key] is base64 of little-endian float32: the plain net's "
                  "weight-gradient norms (depth values, block 1 first), its output-gradient "
                  "norms (depth), its loss (1), then the same for the residual twin; "
                  "setting_key is 'depth,batch_norm 0/1,init,seed'",
        "flows": flows,
    }
    path = atomic_write_json(args.out, table)
    print(f"wrote {len(flows)} settings to {path} ({path.stat().st_size:,} bytes) in "
          f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
