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
