"""How fast cnnlib/web/cnn-ops.js computes chapter 7's operations in Chromium, beside PyTorch.

On the website a chapter-7 explorer recomputes its picture in the reader's browser while a
slider is dragged; the whole redraw (computation and drawing) must fit in 16 ms. This
script measures the computation part: it opens a page from ``file://`` in headless
Chromium (Debian's, as the browser tests do), loads cnn-ops.js with a classic
``<script src>``, and times each operation at the sizes the explorers use. Chromium rounds
``performance.now()`` to 0.1 ms on a page without cross-origin isolation, so each timing
is a block of ``--calls`` calls divided by their number; ``--blocks`` blocks give a minimum
and a median. The same operation in ``torch.nn.functional`` (or ``cnnlib.ops`` for the
receptive-field region) is timed the same way in this process, with one torch thread, on
the same inputs, and the largest difference between the two results is recorded.

Results go to benchmarks/results/web_ops_speed.json with the machine and its load average.

Usage: python benchmarks/web_ops_speed.py [--calls 200] [--blocks 9] [--output PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib._atomic import atomic_write_json  # noqa: E402
from cnnlib.ops import LayerSpec, input_region  # noqa: E402
from cnnlib.runs.records import cpu_model  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "web_ops_speed.json"
SCRIPT = ROOT / "cnnlib" / "web" / "cnn-ops.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# The receptive-field explorer's kind of stack (7.5), on its 12x12 input.
STACK = [{"kernel": 3, "padding": 1}, {"kernel": 2, "stride": 2}, {"kernel": 3},
         {"kernel": 2, "stride": 2}]
STACK_SPECS = [LayerSpec(f"layer{i}", layer["kernel"], layer.get("stride", 1),
                         layer.get("padding", 0)) for i, layer in enumerate(STACK)]


def cases() -> list[dict]:
    """Each operation at an explorer's size: its JS call and the same call in PyTorch."""
    g = torch.Generator().manual_seed(0)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g)

    x28, k3 = randn(1, 28, 28), randn(1, 1, 3, 3)
    x96, k5 = randn(1, 96, 96), randn(1, 1, 5, 5)
    x8 = randn(1, 8, 8)
    x2, k2, k23, b3 = randn(2, 3, 3), randn(3, 2, 2, 2), randn(3, 2, 3, 3), randn(3)
    return [
        {"name": "conv2d 28x28, 3x3 kernel, padding 1 (7.2)", "X": x28, "W": k3,
         "js": "O.conv2d(X, W, {padding: 1})", "torch": lambda: F.conv2d(x28[None], k3,
                                                                        padding=1)[0]},
        {"name": "conv2d 96x96, 5x5 kernel, padding 2", "X": x96, "W": k5,
         "js": "O.conv2d(X, W, {padding: 2})", "torch": lambda: F.conv2d(x96[None], k5,
                                                                        padding=2)[0]},
        {"name": "conv2d 8x8 toy, 3x3 kernel, padding 1, stride 2 (7.3)", "X": x8, "W": k3,
         "js": "O.conv2d(X, W, {padding: 1, stride: 2})",
         "torch": lambda: F.conv2d(x8[None], k3, padding=1, stride=2)[0]},
        {"name": "conv2d 2->3 channels, 2x2 kernel, 3x3 input, bias (7.4)", "X": x2, "W": k2,
         "bias": b3, "js": "O.conv2d(X, W, {bias})",
         "torch": lambda: F.conv2d(x2[None], k2, b3)[0]},
        {"name": "conv2d 2->3 channels, 3x3 kernel, padding 1, 3x3 input", "X": x2, "W": k23,
         "js": "O.conv2d(X, W, {padding: 1})",
         "torch": lambda: F.conv2d(x2[None], k23, padding=1)[0]},
        {"name": "corr2dMultiInOut 2->3 channels, 2x2 kernel, 3x3 input (7.4)", "X": x2,
         "W": k2, "js": "O.corr2dMultiInOut(X, W)", "torch": lambda: F.conv2d(x2[None], k2)[0]},
        {"name": "pool2d max 28x28, 2x2 window, stride 2 (7.5)", "X": x28,
         "js": "O.pool2d(X, {kind: 'max', size: 2})",
         "torch": lambda: F.max_pool2d(x28[None], 2)[0]},
        {"name": "pool2d avg 28x28, 3x3 window, padding 1, stride 1", "X": x28,
         "js": "O.pool2d(X, {kind: 'avg', size: 3, padding: 1, stride: 1})",
         "torch": lambda: F.avg_pool2d(x28[None], 3, stride=1, padding=1)[0]},
        {"name": "inputRegion, 4-layer stack on 12x12 (7.5; Python side: cnnlib.ops)",
         "js": "O.inputRegion(STACK, 1, 0, 12)",
         "torch": lambda: input_region(STACK_SPECS, (1, 0), 12)},
    ]


# The smallest step performance.now() takes in this page (Chromium coarsens it).
TIMER_STEP_JS = """() => {
  let step = Infinity;
  let last = performance.now();
  for (let changes = 0; changes < 200;) {
    const now = performance.now();
    if (now !== last) { step = Math.min(step, now - last); last = now; changes++; }
  }
  return step;
}"""

# Builds one case's inputs in the page, checks its result, then times blocks of calls.
TIME_JS = """async ({js, X, W, bias, stack, calls, blocks}) => {
  const O = CNNOps;
  const T = (t) => t && O.tensor(t.shape, t.data);
  [X, W] = [T(X), T(W)];
  const STACK = stack;
  const call = new Function("O", "X", "W", "bias", "STACK", "return " + js);
  const result = call(O, X, W, bias, STACK);
  let sink = 0;  // use every result, so no call can be optimised away
  for (let n = 0; n < calls; n++) sink += call(O, X, W, bias, STACK) ? 1 : 0;  // warm up
  const times = [];
  for (let b = 0; b < blocks; b++) {
    await new Promise((resolve) => setTimeout(resolve, 0));  // as between two redraws
    const start = performance.now();
    for (let n = 0; n < calls; n++) sink += call(O, X, W, bias, STACK) ? 1 : 0;
    times.push((performance.now() - start) / calls);
  }
  const data = result.data ? Array.from(result.data) : result;
  return {times, data, sink};
}"""


def _tensor(T: torch.Tensor | None) -> dict | None:
    return None if T is None else {"shape": list(T.shape), "data": T.flatten().tolist()}


def time_torch(fn, calls: int, blocks: int) -> list[float]:
    """Per-call milliseconds of ``fn``, from blocks of ``calls`` calls after a warm-up block."""
    for _ in range(calls):
        fn()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) * 1000 / calls)
    return times


def difference(js_data, expected) -> float | None:
    """Largest absolute difference between the JS result and PyTorch's (None for a region)."""
    if isinstance(expected, torch.Tensor):
        return float((torch.tensor(js_data) - expected.flatten()).abs().max())
    (top, bottom), (left, right) = expected
    assert js_data == {"top": top, "left": left, "bottom": bottom, "right": right}, js_data
    return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per timed block")
    parser.add_argument("--blocks", type=int, default=9, help="timed blocks per operation")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()
    if args.calls < 1 or args.blocks < 1:
        parser.error("--calls and --blocks must be at least 1")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is not installed: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(1)  # the browser computes on one thread too
    load_before = load_average()
    if load_before and load_before[0] > 1.5:
        print(f"warning: load average {load_before[0]} at the start; timings will be noisy")
    rows = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file = Path(folder) / "ops.html"
        page_file.write_text(f'<!doctype html><meta charset="utf-8"><title>ops</title>'
                             f'<script src="{SCRIPT.as_uri()}"></script>')
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(page_file.as_uri())
        timer_step = page.evaluate(TIMER_STEP_JS)
        print(f"performance.now() steps by {timer_step:.4f} ms: blocks of {args.calls} calls "
              f"resolve {timer_step / args.calls * 1000:.2f} microseconds per call")
        for case in cases():
            got = page.evaluate(TIME_JS, {
                "js": case["js"], "X": _tensor(case.get("X")), "W": _tensor(case.get("W")),
                "bias": case["bias"].tolist() if "bias" in case else None, "stack": STACK,
                "calls": args.calls, "blocks": args.blocks})
            torch_times = time_torch(case["torch"], args.calls, args.blocks)
            row = {
                "operation": case["name"],
                "js_call": case["js"],
                "js_min_ms": round(min(got["times"]), 4),
                "js_median_ms": round(statistics.median(got["times"]), 4),
                "torch_min_ms": round(min(torch_times), 4),
                "torch_median_ms": round(statistics.median(torch_times), 4),
                "max_abs_diff": difference(got["data"], case["torch"]()),
            }
            rows.append(row)
            print(f"{row['operation']:68s} JS {row['js_median_ms']:7.4f} ms "
                  f"(min {row['js_min_ms']:.4f}), torch {row['torch_median_ms']:7.4f} ms "
                  f"(min {row['torch_min_ms']:.4f})")
        version = browser.version
        browser.close()
    worst = max(row["js_median_ms"] for row in rows)
    print(f"slowest JS operation: median {worst} ms per call (a redraw has 16 ms in all)")
    record = {
        "what": "cnn-ops.js per-call time in headless Chromium from file://, beside "
                "torch.nn.functional (one thread) on the same inputs; computation only, "
                "no drawing",
        "hardware": {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
                     "platform": platform.platform(), "chromium": version,
                     "torch": torch.__version__, "torch_threads": torch.get_num_threads()},
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "timer_step_ms": round(timer_step, 4),
        "calls_per_block": args.calls,
        "blocks": args.blocks,
        "operations": rows,
        "slowest_js_median_ms": worst,
    }
    atomic_write_json(args.output, record)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
