"""What a trained network costs a reader's browser: download, first answer, time per forward pass.

For every network ``make web-deps`` exported into ``_build/web-vendor/models``, this opens
a page from ``file://`` in headless Chromium (a fresh browser context each, so nothing is
cached between networks), which loads the network with ``CNNNetworks.load`` and runs one
test image, and records:

* ``download_bytes``: what the page loads for it (the runtime's two scripts + the model's);
  ``gzip_bytes``: the same if a web server sends them gzip-compressed;
* ``first_answer_ms``: from the page's start (``performance.timeOrigin``) to the first
  result of ``run()``: script loading and parsing, unpacking the wasm, creating the session
  and one forward pass; ``loaded_ms``: the same up to ``load()`` resolving;
* ``browser_ms`` / ``browser_logits_only_ms``: time per forward pass, with every feature map
  returned or the logits alone: the median over ``--blocks`` blocks of runs, each block
  long enough (about ``--block-ms``) that Chromium's 0.1 ms clock rounding does not matter;
* ``pytorch_ms``: the same image through ``pretrained(name)`` in PyTorch on this CPU, one
  thread (onnxruntime-web runs one thread on file:// pages), timed the same way.

Results go to benchmarks/results/web_networks_speed.json with the machine and load average.

Usage: python benchmarks/web_networks_speed.py [--blocks 7] [--block-ms 300] [names...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib._atomic import atomic_write_json  # noqa: E402
from cnnlib.models.pretrained import SHIPPED, image_side, pretrained  # noqa: E402
from cnnlib.runs.records import hardware_info  # noqa: E402
from cnnlib.training.parallel import torch_threads  # noqa: E402
from cnnlib.widgets.examples import example_images  # noqa: E402

VENDOR = ROOT / "_build" / "web-vendor"
OUT = ROOT / "benchmarks" / "results" / "web_networks_speed.json"
RUNTIME = ("onnxruntime/ort.iife.js", "onnxruntime/ort-wasm.packed.js")

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="{loader}"></script></head><body><script>
window.bench = CNNNetworks.load({name}).then(function (net) {{
  var loaded = performance.now();
  return net.run(new Float32Array({image})).then(function () {{
    return {{loaded: loaded, answered: performance.now()}};
  }});
}});
</script></body></html>
"""

BLOCKS_IN_PAGE = """async ([name, blocks, blockMs, maps]) => {
  const net = await CNNNetworks.load(name);
  const image = new Float32Array(net.inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
  const options = {maps: maps};
  let start = performance.now();
  await net.run(image, options);
  let count = 1;
  while (performance.now() - start < 50) { await net.run(image, options); count += 1; }
  const per = Math.max(1, Math.ceil(blockMs / ((performance.now() - start) / count)));
  const times = [];
  for (let b = 0; b < blocks; b++) {
    start = performance.now();
    for (let i = 0; i < per; i++) await net.run(image, options);
    times.push((performance.now() - start) / per);
  }
  return {times, per};
}"""


def _chromium():
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from conftest import CHROMIUM_ARGS, _chromium_path

    return CHROMIUM_ARGS, _chromium_path()


def pytorch_ms(name: str, blocks: int, block_ms: float) -> float:
    """Median time per forward pass of one image in PyTorch, one thread, in ms."""
    model = pretrained(name)
    X, _, _ = example_images(image_side(name))
    x = X[:1]
    with torch.no_grad(), torch_threads(1):
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < 0.05 or count < 3:
            model(x)
            count += 1
        per = max(1, math.ceil(block_ms / 1000 / ((time.perf_counter() - start) / count)))
        times = []
        for _ in range(blocks):
            start = time.perf_counter()
            for _ in range(per):
                model(x)
            times.append((time.perf_counter() - start) / per * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(SHIPPED))
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--block-ms", type=float, default=300)
    args = parser.parse_args()
    missing = [p for p in (*RUNTIME, "cnn-networks.js") if not (VENDOR / p).is_file()]
    missing += [f"models/{n}.onnx.js" for n in args.names
                if not (VENDOR / "models" / f"{n}.onnx.js").is_file()]
    if missing:
        print(f"{VENDOR} lacks {', '.join(missing)}: run `make web-deps`", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    chromium_args, chromium_path = _chromium()
    runtime_bytes = sum((VENDOR / p).stat().st_size for p in RUNTIME)
    runtime_gzip = sum(len(gzip.compress((VENDOR / p).read_bytes(), 6)) for p in RUNTIME)
    rows = []
    folder = Path(tempfile.mkdtemp(prefix="web-networks-speed-"))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                                 args=chromium_args)
            for name in args.names:
                model_file = VENDOR / "models" / f"{name}.onnx.js"
                X, _, _ = example_images(image_side(name))
                page_path = folder / f"{name}.html"
                page_path.write_text(PAGE.format(
                    loader=(VENDOR / "cnn-networks.js").as_uri(), name=json.dumps(name),
                    image=json.dumps([round(v, 6) for v in X[0].flatten().tolist()])))
                context = browser.new_context()
                page = context.new_page()
                refused = []
                page.route("**/*", lambda route, refused=refused: (
                    route.continue_() if route.request.url.startswith(("file:", "data:", "blob:"))
                    else (refused.append(route.request.url), route.abort())))
                page.goto(page_path.as_uri())
                first = page.evaluate("window.bench")
                with_maps = page.evaluate(BLOCKS_IN_PAGE, [name, args.blocks, args.block_ms, True])
                logits_only = page.evaluate(BLOCKS_IN_PAGE,
                                            [name, args.blocks, args.block_ms, False])
                context.close()
                if refused:
                    raise RuntimeError(f"{name}: the page asked the network for {refused}")
                model_bytes = model_file.stat().st_size
                row = {
                    "network": name,
                    "download_bytes": runtime_bytes + model_bytes,
                    "model_bytes": model_bytes,
                    "gzip_bytes": runtime_gzip + len(gzip.compress(model_file.read_bytes(), 6)),
                    "loaded_ms": round(first["loaded"], 1),
                    "first_answer_ms": round(first["answered"], 1),
                    "browser_ms": round(statistics.median(with_maps["times"]), 3),
                    "browser_logits_only_ms": round(statistics.median(logits_only["times"]), 3),
                    "browser_runs_per_block": with_maps["per"],
                    "pytorch_ms": round(pytorch_ms(name, args.blocks, args.block_ms), 3),
                }
                rows.append(row)
                print(f"{name:10s} download {row['download_bytes'] / 1e6:5.2f} MB "
                      f"(gzip {row['gzip_bytes'] / 1e6:4.2f}), first answer "
                      f"{row['first_answer_ms']:6.0f} ms; forward: browser {row['browser_ms']:7.2f}"
                      f" ms (logits only {row['browser_logits_only_ms']:7.2f}), PyTorch "
                      f"{row['pytorch_ms']:7.2f} ms")
            version = browser.version
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    onnxruntime_web = json.loads(
        (ROOT / "node_modules" / "onnxruntime-web" / "package.json").read_text())["version"]
    record = {
        "what": "trained networks in the browser (onnxruntime-web, wasm, 1 thread, file://) "
                "vs PyTorch (1 thread): download, time to first answer, time per forward pass",
        "machine": hardware_info(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "browser": f"headless Chromium {version}",
        "onnxruntime_web": onnxruntime_web,
        "blocks": args.blocks,
        "block_ms": args.block_ms,
        "networks": rows,
    }
    atomic_write_json(OUT, record)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
