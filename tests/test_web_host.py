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
