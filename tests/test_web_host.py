"""cnn-host.js's page model under Node: how a website page applies what compute returns."""

from __future__ import annotations

import json
import subprocess

from live_harness import NODE, front_end_scripts, needs_node

# A compute that answers x·10 after a delay (x = 1 is slow, x = 2 fast) and refuses x = 3.
RUNNER = """
const vm = require('vm'); const fs = require('fs');
const context = vm.createContext({console, Promise, setTimeout});
for (const f of %s) vm.runInContext(fs.readFileSync(f, 'utf8'), context);
const LocalModel = vm.runInContext('CNNExplorers.LocalModel', context);
const delays = {1: 60, 2: 5};
const compute = (s) => s.x === 3 ? Promise.reject(new Error('x may not be 3'))
  : new Promise((resolve) => setTimeout(() => resolve({y: s.x * 10}), delays[s.x] || 1));
const model = new LocalModel({x: 0}, compute);
const events = [];
model.on('change:x', (_, v) => events.push(['x', v]));
model.on('change:y', (_, v) => events.push(['y', v]));
model.on('change:error', (_, v) => events.push(['error', v]));
model.on('busy', (_, v) => events.push(['busy', v]));
(async () => {
  model.set('x', 1); model.save_changes();
  model.set('x', 2); model.save_changes();
  await model.settled();
  await new Promise((resolve) => setTimeout(resolve, 100));  // the slow answer comes too
  model.set('x', 3); model.save_changes(); await model.settled();
  model.set('x', 4); model.save_changes(); await model.settled();
  console.log(JSON.stringify(events));
})();
"""


@needs_node
def test_an_asynchronous_compute_applies_only_the_latest_answer():
    scripts = [str(path) for path in front_end_scripts("pooling.js")[:2]]
    out = subprocess.run([NODE, "-e", RUNNER % json.dumps(scripts)], check=True,
                         capture_output=True, text=True).stdout
    # Controls at once; x = 1's slow answer (10) never lands after x = 2's (20); a refusal is
    # the error and keeps the last good values; the next answer clears it. "busy" brackets
    # each wait once, however many requests overlap.
    assert json.loads(out) == [
        ["x", 1], ["busy", True], ["x", 2], ["y", 20], ["busy", False],
        ["x", 3], ["busy", True], ["error", "x may not be 3"], ["busy", False],
        ["x", 4], ["busy", True], ["error", ""], ["y", 40], ["busy", False]]


# Doubles where rounding is hard: exact ties (0.125), near-ties (2.675 is below its tie),
# powers of ten at the edges of .g's two forms, -0.0, subnormals, huge and non-finite.
HARD_NUMBERS = [0.0, -0.0, 0.125, 0.375, -0.125, 2.675, 1.005, 0.5, 1.5, 2.5, -2.5, 9.995,
                99.5, 0.0001, 0.00001234, 123456.0, 1234567.0, 1e16, 1.7976931348623157e308,
                5e-324, 1 / 3, -2 / 3, 12.345, 0.045, 1e-4 * 0.5, 999999.5, float("nan"),
                float("inf"), float("-inf")]


@needs_node
def test_python_number_formats_in_the_kit_are_pythons():
    import base64
    import random

    rng = random.Random(5)
    numbers = HARD_NUMBERS + [rng.uniform(-1000, 1000) for _ in range(300)] + [
        rng.choice([-1, 1]) * 10 ** rng.uniform(-8, 12) for _ in range(300)]
    blobs = [bytes(rng.randrange(256) for _ in range(n)) for n in (0, 1, 2, 3, 4, 100)]
    scripts = [str(path) for path in front_end_scripts("pooling.js")[:2]]
    runner = f"""
const vm = require('vm'); const fs = require('fs');
const context = vm.createContext({{console}});
for (const f of {json.dumps(scripts)}) vm.runInContext(fs.readFileSync(f, 'utf8'), context);
const kit = vm.runInContext('CNNExplorers.kit', context);
const numbers = {json.dumps(numbers)}.map(Number);
const out = {{
  fixed: numbers.map((x) => [0, 1, 2, 3].map((d) => kit.pyFixed(x, d))),
  comma: numbers.map((x) => kit.pyFixed(x, 1, {{comma: true}})),
  general: numbers.map((x) => [1, 2, 3, 6].map((p) => kit.pyGeneral(x, p))),
  bytes: {json.dumps([base64.b64encode(b).decode() for b in blobs])}.map(
    (t) => Array.from(kit.fromBase64(t))),
}};
try {{ kit.fromBase64('ab!d'); }} catch (e) {{ out.error = e.message; }}
console.log(JSON.stringify(out));
"""
    # JSON has no nan/inf: send them as strings Number() reads back.
    runner = runner.replace("NaN", '"NaN"').replace("Infinity", '"Infinity"')
    out = json.loads(subprocess.run([NODE, "-e", runner], check=True, capture_output=True,
                                    text=True).stdout)
    assert out["fixed"] == [[f"{x:.{d}f}" for d in (0, 1, 2, 3)] for x in numbers]
    assert out["comma"] == [f"{x:,.1f}" for x in numbers]
    assert out["general"] == [[f"{x:.{p}g}" for p in (1, 2, 3, 6)] for x in numbers]
    assert out["bytes"] == [list(b) for b in blobs]
    assert out["error"] == "the page's data is damaged: '!' at 2 is not base64"


def run_kit(body: str) -> dict:
    """Run body (JavaScript that sets `out`) with `kit` = CNNExplorers.kit under Node."""
    scripts = [str(path) for path in front_end_scripts("pooling.js")[:2]]
    runner = f"""
const vm = require('vm'); const fs = require('fs');
const context = vm.createContext({{console, queueMicrotask}});
for (const f of {json.dumps(scripts)}) vm.runInContext(fs.readFileSync(f, 'utf8'), context);
const kit = vm.runInContext('CNNExplorers.kit', context);
const out = {{}};
(async () => {{
{body}
console.log(JSON.stringify(out));
}})();
"""
    return json.loads(subprocess.run([NODE, "-e", runner], check=True, capture_output=True,
                                     text=True).stdout)


@needs_node
def test_the_kits_maps_are_cnnlibs_and_matplotlibs():
    import math
    import random

    import numpy as np
    from matplotlib import colormaps, colors

    from cnnlib.viz.feature_maps import _map_style, tile
    from cnnlib.widgets.compare_stages import palettes

    rng = random.Random(7)
    cases = []
    for n, h, w, ncols, pad in [(1, 2, 3, 1, 1), (5, 3, 2, 2, 1), (7, 4, 4, 3, 2), (3, 1, 1, 5, 0)]:
        values = [rng.uniform(-2, 3) for _ in range(n * h * w)]
        cases.append({"values": values, "shape": [n, h, w], "ncols": ncols, "pad": pad})
    styles = [[rng.uniform(0, 1) for _ in range(9)], [rng.uniform(-1, 2) for _ in range(9)],
              [0.0] * 4, [float("nan"), 0.5, 0.25]]
    names = sorted(palettes())
    probes = [rng.uniform(-0.5, 1.5) for _ in range(200)] + [0.0, 1.0, float("nan")]
    out = run_kit(f"""
const cases = {json.dumps(cases)};
out.tiles = cases.map((c) => {{
  const t = kit.tile(c.values, c.shape, c.ncols, c.pad);
  const data = Array.from(t.data, (v) => Number.isNaN(v) ? null : v);
  return {{rows: t.rows, cols: t.cols, data}};
}});
out.styles = {json.dumps(styles).replace("NaN", "null")}.map((d) =>
  kit.mapStyle(d.map((v) => v === null ? NaN : v)));
out.kernels = kit.mapStyle([0.5, 0.25], {{symmetric: true}});
const palettes = {json.dumps(palettes())};
const probes = {json.dumps(probes).replace("NaN", "null")}.map((v) => v === null ? NaN : v);
out.colours = {json.dumps(names)}.map((name) => {{
  const colourOf = kit.colourer(kit.palette256(palettes[name]), 0, 1);
  return probes.map(colourOf);
}});
try {{ kit.palette256("00ff00"); }} catch (e) {{ out.badPalette = e.message; }}
out.lookup = [-0.5, 0, 0.24, 0.25, 0.99, 1, 2].map((v) => kit.lookup(["a", "b", "c", "d"], v));
""")
    for case, got in zip(cases, out["tiles"], strict=True):
        maps = np.array(case["values"]).reshape(case["shape"])
        want = tile(maps, case["ncols"], case["pad"])
        assert (got["rows"], got["cols"]) == want.shape
        assert [None if math.isnan(v) else v for v in want.ravel()] == got["data"]
    for data, got in zip(styles, out["styles"], strict=True):
        name, low, high = _map_style(np.array(data))
        assert (got["palette"], got["low"], got["high"]) == (name, low, high)
    assert out["kernels"] == {"palette": "RdBu_r", "low": -0.5, "high": 0.5}
    for name, got in zip(names, out["colours"], strict=True):
        cmap = colormaps[name].resampled(256)
        for v, rgb in zip(probes, got, strict=True):
            if math.isnan(v):
                assert rgb is None
                continue
            want = colors.to_hex(cmap(colors.Normalize(0, 1)(v)))
            assert "#" + "".join(f"{c:02x}" for c in rgb) == want, (name, v)
    assert "not 256 rrggbb colours" in out["badPalette"]
    # matplotlib's lookup of v in N colours: index floor(v·N), clamped to the ends.
    assert out["lookup"] == [["a", "b", "c", "d"][min(3, max(0, math.floor(v * 4)))]
                             for v in [-0.5, 0, 0.24, 0.25, 0.99, 1, 2]]


@needs_node
def test_the_kits_frame_helpers():
    stops = ["#440154", "#21918c", "#fde725"]
    out = run_kit(f"""
let calls = 0;
const redraw = kit.batched(() => {{ calls += 1; }});
redraw(); redraw(); redraw();
await Promise.resolve(); await Promise.resolve();
out.afterOneBatch = calls;
redraw();
await Promise.resolve(); await Promise.resolve();
out.afterTwo = calls;
out.style = kit.baseStyle("cnnx-test");
for (const bad of [".cnnx-test", "", 3]) {{
  try {{ kit.baseStyle(bad); }} catch (e) {{ (out.bad = out.bad || []).push(e.message); }}
}}
const stops = {json.dumps(stops)};
out.mixed = [0, 0.5, 1, -1, 2, NaN].map((t) => kit.mixStops(stops, t));
out.rgb = stops.map(kit.rgbOf);
out.round = [0.5, 1.5, 2.5, 2.4, 2.6, 3].map(kit.roundHalfEven);
""")
    assert out["afterOneBatch"] == 1 and out["afterTwo"] == 2
    rules = [line for line in out["style"].splitlines() if line]
    assert rules and all(line.startswith(".cnnx-test") for line in rules)
    assert ".cnnx-test [hidden]{display:none !important}" in rules
    assert len(out["bad"]) == 3 and all("without the dot" in m for m in out["bad"])
    rgb = [[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in stops]
    assert out["rgb"] == rgb
    # At the stops, a colour map is its stops; past the ends (and NaN) it is clamped.
    assert out["mixed"] == [rgb[0], rgb[1], rgb[2], rgb[0], rgb[2], rgb[0]]
    assert out["round"] == [round(x) for x in [0.5, 1.5, 2.5, 2.4, 2.6, 3]]


@needs_node
def test_format_value_is_cell_grids():
    """kit.formatValue writes a cell's label as cnnlib.viz.cell_grid.format_value does,
    near-ties (2.675, below its tie) included."""
    from cnnlib.viz.cell_grid import format_value

    numbers = [x for x in HARD_NUMBERS if x == x] + [2.675, -2.675, 0.005, -0.004, 1.125]
    scripts = [str(path) for path in front_end_scripts("pooling.js")[:2]]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context);"
        "const kit = vm.runInContext('CNNExplorers.kit', context);"
        f"const xs = {json.dumps(numbers)}.map(Number);"
        "console.log(JSON.stringify(xs.map((x) => kit.formatValue(x))));"
    ).replace("Infinity", '"Infinity"')
    out = subprocess.run([NODE, "-e", runner], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == [format_value(x) for x in numbers]
