"""How fast an explorer's one front-end redraws in the reader's browser, beside Python's.

Issue 21's targets: a chapter-7 redraw within 16 ms while a slider is dragged, and a
trained network's pass with its drawing within 50 ms. For every explorer of
``cnnlib/widgets/registry.py`` that has its live version, this script mounts the
front-end on a page opened from ``file://`` in headless Chromium (computing in the
browser, as the website does), at a desktop and a phone width, and drags each slider from
its minimum to its maximum and back, and steps each menu through its options, several
times. One redraw is what a reader waits for: the input event's handler (the model's
``save_changes``, which runs the front-end's ``compute``), for a network the wait for its
answer (the explorer is ``aria-busy`` meanwhile), the render, and the style and layout of
the new picture (paint is not included). Chromium rounds ``performance.now()`` to 0.1 ms,
so each figure is the median or 95th percentile over many redraws, never one.

Beside it, on the same machine in the same run: the Python side of the same explorer (one
control change, computed with cnnlib: what JupyterLab waits for before the front-end
redraws). Results go to ``benchmarks/results/web_explorer_redraw.json``.

It also opens each built chapter page that shows a live explorer (``make book`` first) from
``file://`` and records the time from opening it to its explorer mounted (issue 21: the first
answer within 1.5 s).

Usage: python benchmarks/web_explorer_redraw.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM_ARGS, _chromium_path  # noqa: E402

from cnnlib._atomic import atomic_write_json  # noqa: E402
from cnnlib.runs.records import hardware_info  # noqa: E402
from cnnlib.widgets import registry  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "web_explorer_redraw.json"
VIEWPORTS = {"desktop 1280 px": {"width": 1280, "height": 1000},
             "phone 390 px": {"width": 390, "height": 844}}

#: The built site's scripts, for explorers that load a trained network (make web-deps).
NETWORK_BASE = (ROOT / "_build" / "web-vendor").as_uri() + "/"

# Moves one control (a slider or a menu) through `values` (all of a menu's options when
# null), `rounds` times; returns every redraw's milliseconds.
DRAG = """async ([name, values, rounds]) => {
  const root = document.getElementById("explorer");
  const control = root.querySelector(`input[type=range][name="${name}"], select[name="${name}"]`);
  if (!control) return null;  // not a slider or menu on the page (a text box, a file input)
  // A network's answer is in when neither the explorer nor anything in it is aria-busy.
  const busy = () => root.matches("[aria-busy=true]") || root.querySelector("[aria-busy=true]");
  const idle = () => new Promise((done) => {
    if (!busy()) return done();
    const watch = new MutationObserver(() => {
      if (!busy()) { watch.disconnect(); done(); }
    });
    watch.observe(root, {subtree: true, attributes: true, attributeFilter: ["aria-busy"]});
  });
  const event = control.tagName === "SELECT" ? "change" : "input";
  // No values given: a menu's options, or a slider's range end to end and back.
  const span = () => {
    const up = [];
    for (let v = Number(control.min); v <= Number(control.max); v++) up.push(v);
    return up.concat(up.slice(1, -1).reverse());
  };
  const all = values || (control.tagName === "SELECT"
    ? [...control.options].filter((o) => !o.disabled).map((o) => o.value) : span());
  await idle();
  const times = [];
  for (let r = 0; r < rounds; r++) {
    for (const v of all) {
      const t0 = performance.now();
      control.value = v;
      control.dispatchEvent(new Event(event, {bubbles: true}));
      await Promise.resolve();        // the render queued in a microtask runs first
      await idle();
      root.getBoundingClientRect();   // style and layout of the new picture
      times.push(performance.now() - t0);
      await new Promise((done) => setTimeout(done, 0));
    }
  }
  return times;
}"""


def page_file(folder: Path, widget) -> Path:
    """A page that loads the explorer's scripts from file:// and mounts it."""
    path = folder / f"{widget.explorer_name}.html"
    path.write_text(widget.standalone_html(network_base=NETWORK_BASE), encoding="utf-8")
    return path


def menus(widget) -> list[str]:
    """The explorer's other controls (menus, sliders whose range follows the output); the
    page moves each one it shows as a slider or a menu."""
    return list(widget.EXTRA_CONTROLS)


def sweep(control) -> list[int]:
    """Minimum to maximum and back, as a reader drags a slider end to end."""
    up = list(range(control.min, control.max + 1))
    return up + up[-2:0:-1]


def python_options(widget, name: str) -> list[str]:
    """The options of menu ``name`` as the front-end offers them: the registry's values
    when it names this control, else the keys of a synced dict named after it (``inputs``
    for ``input_choice``), else none (the Python side is then not timed for it)."""
    entry = registry.entry(type(widget).__name__)
    control, values = entry.redraw
    if control == name and values:
        return list(values)
    sources = (["inputs"] if name == "input_choice" else []) + [f"{name}s", f"{name}_options"]
    kind = type(getattr(widget, name))
    for source in sources:
        options = getattr(widget, source, None)
        if isinstance(options, dict) and options:
            options = list(options)
        # Only options of the control's own type (a menu of labels over positions is not).
        if isinstance(options, (list, tuple)) and options and isinstance(options[0], kind):
            return list(options)
    return []


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2), "redraws": len(ordered)}


# Notes when the page's first explorer is mounted (its root gets "cnnx-live") and has
# answered: one that runs a network is aria-busy until its first answer is in, and loads
# its network when it comes into view, so the page is scrolled to it as soon as it exists
# (a reader following a link to the explorer).
WATCH_MOUNT = """new MutationObserver((changes, observer) => {
  const root = document.querySelector(".cnn-explorer");
  if (!root) return;
  if (!window.cnnScrolled) { root.scrollIntoView(); window.cnnScrolled = true; }
  if (root.classList.contains("cnnx-live") && !root.matches("[aria-busy=true]")
      && !root.querySelector("[aria-busy=true]")) {
    window.cnnMountedAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ["class", "aria-busy"]});"""


def first_answers(chromium, rounds: int) -> list[dict]:
    """Milliseconds from opening each built chapter page (from file://, as the README opens
    the site) to its first explorer mounted, drawn and, if it runs a network, answered
    (the network loaded and run once), the page scrolled to that explorer."""
    site = ROOT / "_build" / "html" / "chapters"
    rows = []
    for stem in sorted({s for e in registry.EXPLORERS for s in e.sections}):
        path = site / f"{stem}.html"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: run `make book` first")
        times = []
        for _ in range(rounds):
            page = chromium.new_page(viewport=VIEWPORTS["desktop 1280 px"])
            page.add_init_script(WATCH_MOUNT)
            page.goto(path.as_uri())
            page.wait_for_function("() => window.cnnMountedAt !== undefined", timeout=30_000)
            times.append(page.evaluate("() => window.cnnMountedAt"))
            page.close()
        rows.append({"page": f"chapters/{stem}.html", "median_ms": round(
            statistics.median(times), 1), "max_ms": round(max(times), 1), "loads": rounds,
            "explorer_bytes": explorer_bytes(path.read_text(encoding="utf-8"))})
    return rows


def explorer_bytes(page: str) -> int:
    """Bytes of the explorers' inline scripts (code and start state) in a built page: what a
    page carries so that its explorers compute (page.live_html puts them after each root)."""
    total = 0
    for start in re.finditer(r'<div class="cnn-explorer"[^>]*data-live="1"', page):
        root_end = page.index('<div class="cnnx-mount"></div></div>', start.end())
        scripts = re.compile(r'\s*(<script>.*?</script>)', re.S)
        at = root_end + len('<div class="cnnx-mount"></div></div>')
        while (found := scripts.match(page, at)) is not None:
            total += len(found.group(1).encode())
            at = found.end()
    return total


def browser_rows(rounds: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
        chromium = playwright.chromium.launch(executable_path=_chromium_path(), headless=True,
                                              args=CHROMIUM_ARGS)
        for entry in registry.EXPLORERS:
            widget = entry.build()
            url = page_file(Path(tmp), widget).as_uri()
            for label, viewport in VIEWPORTS.items():
                page = chromium.new_page(viewport=viewport)
                page.goto(url)
                page.locator("#explorer").scroll_into_view_if_needed()  # networks load in view
                moves = [(c.name, sweep(c)) for c in widget.CONTROLS] + [
                    (name, None) for name in menus(widget)]
                for move in moves:  # warm up (the first network load, the JIT) on one
                    if page.evaluate(DRAG, [*move, 1]) is not None:
                        break
                for name, values in moves:
                    times = page.evaluate(DRAG, [name, values, rounds])
                    if times is None:
                        continue
                    rows.append({"explorer": entry.name, "viewport": label,
                                 "control": name, "computes_with": list(entry.computes_with),
                                 **summary(times)})
                page.close()
        first = first_answers(chromium, rounds)
        version = chromium.version
        chromium.close()
    return rows, first, version


def python_rows(rounds: int) -> list[dict]:
    rows = []
    for entry in registry.EXPLORERS:
        widget = entry.build()
        moves = [(c.name, sweep(c)) for c in widget.CONTROLS] + [
            (name, python_options(widget, name)) for name in menus(widget)]
        for name, values in moves:
            if not values:
                continue
            live_ms = []
            for _ in range(rounds):
                for value in values:
                    start = time.perf_counter()
                    setattr(widget, name, value)
                    live_ms.append((time.perf_counter() - start) * 1000)
            rows.append({"explorer": entry.name, "control": name,
                         "python_compute": summary(live_ms)})
    return rows


def script_weight() -> dict:
    files = {p for e in registry.EXPLORERS for p in e.build().page_scripts()}
    return {p.name: {"bytes": p.stat().st_size, "gzip_bytes": len(gzip.compress(p.read_bytes(), 9))}
            for p in sorted(files)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="drags of each slider")
    args = parser.parse_args()
    load_before = os.getloadavg()
    browser, first, version = browser_rows(args.rounds)
    python = python_rows(args.rounds)
    record = {
        "what": "explorer redraw: the one front-end computing in headless Chromium (file://) "
                "while a slider is dragged, beside Python's compute",
        "machine": hardware_info(),
        "browser": f"headless Chromium {version}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rounds": args.rounds,
        "target_ms": 16,
        # Each explorer starts as its chapter builds it; a drag passes through settings that
        # do not fit together too, which show their message instead of a picture.
        "start": {e.name: {c.name: getattr(w, c.name) for c in w.CONTROLS}
                  for e in registry.EXPLORERS for w in [e.build()]},
        "browser_redraws": browser,
        "first_answer": first,
        "python": python,
        "scripts": script_weight(),
    }
    for row in browser:
        print(f"{row['explorer']:22s} {row['viewport']:16s} {row['control']:12s} "
              f"median {row['median_ms']:5.2f} ms, p95 {row['p95_ms']:5.2f} ms, "
              f"max {row['max_ms']:5.2f} ms")
    for row in first:
        print(f"{row['page']}: first answer median {row['median_ms']} ms, max {row['max_ms']} ms")
    for row in python:
        print(f"{row['explorer']:22s} python {row['control']:12s} compute median "
              f"{row['python_compute']['median_ms']:.2f} ms")
    atomic_write_json(OUT, record)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
