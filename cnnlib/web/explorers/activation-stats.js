/**
 * activation-stats.js: the front-end of section 8.5's ActivationStatsExplorer.
 *
 * It replays a recorded training run (cnnlib/weights/bn_snapshots.json, made once by
 * scripts/record_bn_snapshots.py): BN-LeNet and its twin without batch norm, each layer's
 * mean, std, saturated fraction and histogram at 15 moments of one epoch. Nothing is
 * trained here: the recorded numbers are data that Python sends in the model value
 * `record` (cnnlib.widgets.bn_stats.snapshot_data), as pooling.js gets its inputs.
 * In JupyterLab Python picks the numbers for the current setting and syncs them; on the
 * website compute() below picks the same ones and writes the status line word for word
 * as Python's ActivationStatsExplorer.compute does.
 *
 * Model values. Controls: step (the snapshot's position), layer (the hidden block, 0 =
 * conv 1), kind ("sigmoid input" | "sigmoid output": what the right panel and the status
 * line sum up). Data: record ({steps, kinds, nets: {with_bn, without_bn}}). Derived:
 * stats, panels, depth, heading, summary and error.
 */
(function () {
  "use strict";

  const { element, keepSliderKeys, show } = CNNExplorers.kit;
  const NET_NAMES = ["with_bn", "without_bn"]; // cnnlib.explain.bn_stats.NET_NAMES
  const NET_WORDS = { with_bn: "with BN", without_bn: "without BN" };
  // cnnlib.viz.bn_stats: the nets' colours, and the dashed "before BN" curve.
  const COLOURS = { with_bn: "#1f77b4", without_bn: "#d62728", before_bn: "#1f77b4" };
  const CURVE_WORDS = { with_bn: "with BN", without_bn: "without BN", before_bn: "before BN" };
  const SATURATION = [0.05, 0.95]; // cnnlib.explain.bn_stats.SATURATION
  const PLAY_MS = 700; // one snapshot per 0.7 s while the run plays

  // ------------------------------------------------------------------ numbers as Python writes

  /**
   * Python's f"{value:.{digits}f}": like toFixed, except that an exact tie (0.125 to two
   * digits) rounds to even, as Python does, where toFixed rounds it away from zero.
   *
   * @param {number} value
   * @param {number} digits
   * @returns {string}
   */
  function pyFixed(value, digits) {
    if (Number.isNaN(value)) return "nan";
    const sign = value < 0 || Object.is(value, -0) ? "-" : "";
    const size = Math.abs(value);
    // An exact tie is k / 2^(digits+1) with k odd (then k·5^digits / (2·10^digits) is
    // halfway); multiplying by a power of two is exact, so this test never errs, where
    // size * 10^digits * 2 may round a near-tie (2.675) onto one.
    const k = size * 2 ** (digits + 1);
    if (Number.isInteger(k) && k % 2 === 1 && k < 2 ** 52) {
      const scale = 10 ** digits;
      const down = Math.floor(size * scale); // exact: size * 10^digits is k·5^digits / 2
      const even = down % 2 === 0 ? down : down + 1;
      return sign + (even / scale).toFixed(digits);
    }
    return sign + size.toFixed(digits);
  }

  // ------------------------------------------------------------------ compute (website only)

  /**
   * The values Python's ActivationStatsExplorer derives, picked from the recorded run.
   *
   * @param {object} state the model's values (step, layer, kind, record).
   * @returns {object} stats, panels, depth, heading and summary.
   * @throws {Error} Python's words for a step, layer or kind out of range.
   */
  function compute(state) {
    const data = state.record;
    const steps = data.steps;
    const labels = data.nets.with_bn.blocks.map((b) => b.label);
    const i = state.step;
    const block = state.layer;
    const kind = state.kind;
    if (!(Number.isInteger(i) && i >= 0 && i < steps.length)) {
      throw new Error(`step must be a snapshot position 0..${steps.length - 1}, got ${i}`);
    }
    if (!(Number.isInteger(block) && block >= 0 && block < labels.length)) {
      throw new Error(`layer must be 0..${labels.length - 1} (${labels.join(", ")}), ` +
        `got ${block}`);
    }
    if (!data.kinds.includes(kind)) {
      throw new Error(`kind must be one of ${show(data.kinds)}, got ${show(kind)}`);
    }
    const field = kind === data.kinds[0] ? "sigmoid_in" : "sigmoid_out";
    const stats = {};
    const depth = {};
    const panels = { sigmoid_in: [], sigmoid_out: [] };
    for (const name of NET_NAMES) {
      const net = data.nets[name];
      const b = net.blocks[block];
      const point = b[field];
      stats[name] = {
        point: net.points[point],
        mean: net.mean[i][point],
        std: net.std[i][point],
        saturated: net.saturated[i][b.sigmoid_out],
        hist: net.hist[i][point],
        probe_loss: net.probe_loss[i],
        probe_acc: net.probe_acc[i],
      };
      for (const panel of Object.keys(panels)) {
        const p = b[panel];
        panels[panel].push({ net: name, hist: net.hist[i][p], range: net.ranges[p] });
      }
      const points = net.blocks.map((bb) => bb[field]);
      depth[name] = { mean: points.map((p) => net.mean[i][p]),
        std: points.map((p) => net.std[i][p]) };
    }
    // The same layer's values before batch norm rescaled them (dashed in the picture).
    const bn = data.nets.with_bn;
    const b = bn.blocks[block];
    panels.sigmoid_in.push({ net: "before_bn", hist: bn.hist[i][b.layer],
      range: bn.ranges[b.layer] });
    const parts = NET_NAMES.map((name) => {
      const s = stats[name];
      return `${NET_WORDS[name]}: mean ${pyFixed(s.mean, 2)}, std ${pyFixed(s.std, 2)}, ` +
        `${pyFixed(100 * s.saturated, 0)}% of sigmoid outputs saturated; ` +
        `probe loss ${pyFixed(s.probe_loss, 2)}, accuracy ${pyFixed(s.probe_acc, 2)}`;
    });
    const summary = `After ${steps[i]} SGD steps, ${labels[block]}'s ${kind}s. ` +
      `${parts.join(". ")}.`;
    return { stats, panels, depth, heading: `${labels[block]} after ${steps[i]} SGD steps`,
      summary };
  }

  // ------------------------------------------------------------------ drawing

  const SVG = "http://www.w3.org/2000/svg";
  const W = 220; // a panel's viewBox: text of 11 units stays 11 px at 220 px on screen
  const H = 150;
  const PAD = { left: 12, right: 8, top: 8, bottom: 28 };

  function svgNode(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The fractions a histogram panel draws: counts over their total (cnnlib.viz's _step_hist). */
  function fractions(counts) {
    const total = Math.max(counts.reduce((a, c) => a + c, 0), 1);
    return counts.map((c) => c / total);
  }

  /** One histogram panel: the curves of `curves` as steps, and the saturation edges. */
  function drawHistograms(svg, curves, edges, ticks, what) {
    svg.replaceChildren();
    const lows = curves.map((c) => c.range[0]);
    const highs = curves.map((c) => c.range[1]);
    const x0 = Math.min(...lows);
    const x1 = Math.max(...highs);
    let peak = 0;
    for (const c of curves) peak = Math.max(peak, ...fractions(c.hist));
    const top = Math.min(Math.max(peak, 1e-3) * 1.1, 1.02);
    const sx = (v) => PAD.left + ((v - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
    const sy = (f) => H - PAD.bottom - (f / top) * (H - PAD.top - PAD.bottom);
    const words = curves.map((c) => CURVE_WORDS[c.net]).join(", ");
    const label = `Histograms of the ${what} (${words}), as fractions of all values; ` +
      `dotted lines where the sigmoid saturates.`;
    svg.setAttribute("aria-label", label);
    svg.append(svgNode("title", {}, label));
    svg.append(svgNode("line", { x1: PAD.left, x2: W - PAD.right, y1: sy(0), y2: sy(0),
      class: "cnnx-axis" }));
    for (const t of ticks) {
      svg.append(svgNode("text", { x: sx(t), y: H - PAD.bottom + 13 }, String(t)));
    }
    for (const edge of edges) {
      svg.append(svgNode("line", { x1: sx(edge), x2: sx(edge), y1: PAD.top, y2: sy(0),
        class: "cnnx-edge" }));
    }
    for (const c of curves) {
      const f = fractions(c.hist);
      const [lo, hi] = c.range;
      const step = (hi - lo) / f.length;
      let d = `M${sx(lo)},${sy(0)}`;
      f.forEach((v, k) => {
        d += `V${sy(v)}H${sx(lo + (k + 1) * step)}`;
      });
      d += `V${sy(0)}`;
      svg.append(svgNode("path", { d, class: `cnnx-curve cnnx-${c.net}`,
        stroke: COLOURS[c.net], "data-net": c.net, "data-counts": JSON.stringify(c.hist),
        "data-range": JSON.stringify(c.range) }));
    }
  }

  /** The right panel: every block's mean ± std, both nets, the current block shaded. */
  function drawDepth(svg, depth, labels, block, output) {
    svg.replaceChildren();
    let lo = output ? -0.05 : Infinity;
    let hi = output ? 1.05 : -Infinity;
    if (!output) {
      for (const name of NET_NAMES) {
        depth[name].mean.forEach((m, k) => {
          lo = Math.min(lo, m - depth[name].std[k]);
          hi = Math.max(hi, m + depth[name].std[k]);
        });
      }
      const margin = 0.05 * (hi - lo || 1);
      lo -= margin;
      hi += margin;
    }
    const n = labels.length;
    const sx = (x) => PAD.left + 14 + ((x + 0.6) / n) * (W - PAD.left - 14 - PAD.right);
    const sy = (v) => H - PAD.bottom - ((v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
    const what = output ? "output" : "input";
    const label = `The mean ± one std of every block's sigmoid ${what}, with BN and ` +
      `without BN; ${labels[block]} shaded.`;
    svg.setAttribute("aria-label", label);
    svg.append(svgNode("title", {}, label));
    svg.append(svgNode("rect", { x: sx(block - 0.45), width: sx(0.9) - sx(0), y: PAD.top,
      height: H - PAD.top - PAD.bottom, class: "cnnx-shade" }));
    svg.append(svgNode("line", { x1: sx(-0.6), x2: sx(n - 0.4), y1: H - PAD.bottom,
      y2: H - PAD.bottom, class: "cnnx-axis" }));
    for (const v of [lo, hi].map((x) => Number(x.toPrecision(2)))) {
      svg.append(svgNode("text", { x: PAD.left + 4, y: sy(v), class: "cnnx-ytick" }, `${v}`));
    }
    labels.forEach((text, k) => {
      svg.append(svgNode("text", { x: sx(k), y: H - PAD.bottom + 13 },
        text.replace("conv ", "c").replace("dense ", "d")));
    });
    for (const [offset, name] of [[-0.12, "with_bn"], [0.12, "without_bn"]]) {
      depth[name].mean.forEach((m, k) => {
        const s = depth[name].std[k];
        const x = sx(k + offset);
        const g = svgNode("g", { class: "cnnx-bar", "data-net": name, "data-block": k,
          "data-mean": m, "data-std": s, stroke: COLOURS[name], fill: COLOURS[name] });
        g.append(svgNode("line", { x1: x, x2: x, y1: sy(m - s), y2: sy(m + s) }));
        g.append(svgNode("circle", { cx: x, cy: sy(m), r: 2.5 }));
        svg.append(g);
      });
    }
  }

  const STYLE = `
.cnnx-act{font-size:max(12px,1em);line-height:1.35;color:#222;max-width:60rem}
.cnnx-act .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-act .cnnx-control{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
.cnnx-act .cnnx-control>label{flex:0 0 4.5em}
.cnnx-act .cnnx-control input[type=range],.cnnx-act .cnnx-control select{flex:1 1 auto;
  min-width:5rem;min-height:24px;margin:0;font:inherit}
.cnnx-act .cnnx-control output{flex:0 0 4ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-act .cnnx-control button{min-height:24px;font:inherit}
.cnnx-act .cnnx-kinds{display:flex;gap:.75rem;flex-wrap:wrap;border:0;margin:0;padding:0}
.cnnx-act .cnnx-kinds label{display:flex;align-items:center;gap:.25rem;min-height:24px}
.cnnx-act .cnnx-heading{margin:.25rem 0;font-weight:600}
.cnnx-act .cnnx-legend{display:flex;gap:1rem;flex-wrap:wrap;margin:.25rem 0}
.cnnx-act .cnnx-legend span::before{content:"";display:inline-block;width:1.5em;
  margin-right:.3em;vertical-align:middle;border-top:2px solid var(--c)}
.cnnx-act .cnnx-legend .cnnx-dashed::before{border-top-style:dashed}
.cnnx-act .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem .75rem}
.cnnx-act .cnnx-panel{flex:1 1 220px;min-width:220px;max-width:420px;margin:0}
.cnnx-act .cnnx-panel svg{display:block;width:100%;height:auto}
.cnnx-act svg text{font-size:11px;text-anchor:middle;fill:#222}
.cnnx-act svg text.cnnx-ytick{text-anchor:start;dominant-baseline:central}
.cnnx-act svg .cnnx-axis{stroke:#555;stroke-width:1}
.cnnx-act svg .cnnx-edge{stroke:grey;stroke-width:1;stroke-dasharray:1 2}
.cnnx-act svg .cnnx-curve{fill:none;stroke-width:2}
.cnnx-act svg .cnnx-before_bn{stroke-width:1.2;stroke-dasharray:4 3}
.cnnx-act svg .cnnx-shade{fill:#e6e6e6;stroke:none}
.cnnx-act svg .cnnx-bar line{stroke-width:1.5}
.cnnx-act .cnnx-message{padding:1rem;border:1px solid #b00020;color:#b00020;border-radius:4px}
.cnnx-act .cnnx-status{margin-top:.5rem;min-height:1.35em;overflow-wrap:anywhere}
.cnnx-act [hidden]{display:none !important}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: stops the player and removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-act-${++instances}`;
    const data = model.get("record");
    const steps = data.steps;
    const labels = data.nets.with_bn.blocks.map((b) => b.label);
    const root = element("div", { class: "cnnx-act" });
    root.append(element("style", {}, STYLE));
    const fieldset = element("fieldset", { class: "cnnx-controls",
      "aria-label": "Training run settings" });

    function send(name, value) {
      model.set(name, value);
      model.save_changes();
    }

    // The step: a slider over the snapshots, showing the training step; ▶ plays the run.
    const stepBox = element("div", { class: "cnnx-control" });
    const slider = element("input", { type: "range", id: `${id}-step`, name: "step", min: 0,
      max: steps.length - 1, step: 1 });
    const stepValue = element("output", { for: `${id}-step`, "aria-hidden": "true" });
    const play = element("button", { type: "button", name: "play", "aria-pressed": "false" },
      "▶ play");
    stepBox.append(element("label", { for: `${id}-step` }, "step"), slider, stepValue, play);
    slider.addEventListener("input", () => send("step", Number(slider.value)));
    let timer = null;
    function stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      play.textContent = "▶ play";
      play.setAttribute("aria-pressed", "false");
    }
    play.addEventListener("click", () => {
      if (timer !== null) return stop();
      if (model.get("step") >= steps.length - 1) send("step", 0);
      play.textContent = "❚❚ pause";
      play.setAttribute("aria-pressed", "true");
      timer = setInterval(() => {
        const next = model.get("step") + 1;
        if (next >= steps.length) return stop();
        send("step", next);
        if (next === steps.length - 1) stop();
      }, PLAY_MS);
    });

    // The layer: a menu of the hidden blocks.
    const layerBox = element("div", { class: "cnnx-control" });
    const menu = element("select", { id: `${id}-layer`, name: "layer" });
    labels.forEach((text, k) => menu.append(element("option", { value: k }, text)));
    layerBox.append(element("label", { for: `${id}-layer` }, "layer"), menu);
    menu.addEventListener("change", () => send("layer", Number(menu.value)));

    // The toggle: what the right panel and the status line sum up.
    const kindBox = element("div", { class: "cnnx-control" });
    const kinds = element("fieldset", { class: "cnnx-kinds", "aria-label": "summarise" });
    const radios = data.kinds.map((kind, k) => {
      const radio = element("input", { type: "radio", name: "kind", value: kind,
        id: `${id}-kind-${k}` });
      const label = element("label", { for: `${id}-kind-${k}` });
      label.append(radio, document.createTextNode(kind.replace("sigmoid ", "") + "s"));
      kinds.append(label);
      radio.addEventListener("change", () => radio.checked && send("kind", kind));
      return radio;
    });
    kindBox.append(element("span", { "aria-hidden": "true" }, "summarise"), kinds);
    fieldset.append(stepBox, layerBox, kindBox);
    keepSliderKeys(fieldset); // JupyterLab's command mode would take the arrow keys

    const heading = element("p", { class: "cnnx-heading" });
    const legend = element("p", { class: "cnnx-legend", "aria-hidden": "true" });
    for (const net of ["with_bn", "without_bn", "before_bn"]) {
      const span = element("span", { style: `--c:${COLOURS[net]}` }, CURVE_WORDS[net]);
      if (net === "before_bn") span.classList.add("cnnx-dashed");
      legend.append(span);
    }
    const panels = element("div", { class: "cnnx-panels" });
    const figures = ["sigmoid input", "sigmoid output", ""].map((title, k) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-panel-${k}` });
      const caption = element("figcaption", {}, title);
      const svg = svgNode("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
      figure.append(caption, svg);
      panels.append(figure);
      return { caption, svg };
    });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = element("div", { class: "cnnx-status", role: "status",
      "aria-live": "polite", id: `${id}-status` });
    root.append(fieldset, heading, legend, panels, message, status);
    el.append(root);

    function draw() {
      const i = model.get("step");
      slider.value = i;
      stepValue.textContent = steps[i] === undefined ? "" : String(steps[i]);
      slider.setAttribute("aria-valuetext", steps[i] === undefined ? "" :
        `after ${steps[i]} SGD steps`);
      menu.value = String(model.get("layer"));
      for (const radio of radios) radio.checked = radio.value === model.get("kind");
      const error = model.get("error");
      const valid = !error && model.get("summary");
      message.hidden = !error;
      message.textContent = error || "";
      panels.hidden = legend.hidden = heading.hidden = !valid;
      status.textContent = error || model.get("summary");
      if (!valid) return;
      heading.textContent = model.get("heading");
      const p = model.get("panels");
      const logit = SATURATION.map((q) => Math.log(q / (1 - q)));
      drawHistograms(figures[0].svg, p.sigmoid_in, logit, [-5, 0, 5], "sigmoid inputs");
      drawHistograms(figures[1].svg, p.sigmoid_out, SATURATION, [0, 0.5, 1], "sigmoid outputs");
      const output = model.get("kind") !== data.kinds[0];
      figures[2].caption.textContent = `${output ? "output" : "input"} mean ± std`;
      drawDepth(figures[2].svg, model.get("depth"), labels, model.get("layer"), output);
    }

    let queued = false; // several values change at once: one drawing
    function redraw() {
      if (queued) return;
      queued = true;
      Promise.resolve().then(() => {
        queued = false;
        draw();
      });
    }
    const events = ["step", "layer", "kind", "summary", "panels", "depth", "heading", "error"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, redraw);
    draw();
    return () => {
      stop();
      for (const event of events) model.off(event, redraw);
    };
  }

  CNNExplorers.define("ActivationStatsExplorer", { render, compute });
})();
