/**
 * grad-flow.js: the front-end of section 8.6's gradient-flow explorer.
 *
 * The same file runs in JupyterLab (Python's GradientFlowExplorer builds a plain deep CNN
 * and its residual twin with cnnlib.explain.grad_flow.twin_networks, backpropagates with
 * PyTorch and syncs the norms and the status line) and on the website. A browser cannot
 * reproduce PyTorch's random initialisation, so it cannot backpropagate through the same
 * networks: compute() below looks the setting up in the table PyTorch recorded for every
 * setting the controls allow (cnnlib/weights/grad_flow_table.json, written by
 * scripts/record_grad_flow.py: float32 values in base64, exactly as measured), and computes
 * the ratios, the counts and the status line word for word as
 * cnnlib.widgets.grad_flow.status_lines does. See cnn-host.js for the contract and README.md
 * beside this file for the rules.
 *
 * Model values. Controls: depth (one of `depths`), batch_norm (boolean), init ("default" |
 * "kaiming", the values of `inits`, [label, value] pairs), seed, and `controls` (the seed
 * slider's {name, label, min, max}). Data: depths, inits, shape ({images, channels,
 * height, width}), and on the website only table ({depths, inits, seeds, flows: {key:
 * base64}}, see setting_key in cnnlib/explain/grad_flow.py). Derived: flows ({plain,
 * residual}, each {weight: [...], output: [...], loss}; a non-finite number as null),
 * summary (the status line's three lines) and error.
 */
(function () {
  "use strict";

  const { show, element, pyGeneral, fromBase64, baseStyle, batched, statusLine,
    controlsFor } = CNNExplorers.kit;
  const INITS = ["default", "kaiming"]; // cnnlib.explain.grad_flow.INITS
  // cnnlib.viz.grad_flow's colours (matplotlib's tab:red and tab:blue) and panels.
  const NETS = [
    { name: "plain", color: "#d62728" },
    { name: "residual", color: "#1f77b4" },
  ];
  const PANELS = [
    { field: "weight", title: "‖∂loss/∂W‖ per block", words: "weight-gradient norm" },
    { field: "output", title: "‖∂loss/∂H‖ per block output", words: "output-gradient norm" },
  ];
  const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶",
    7: "⁷", 8: "⁸", 9: "⁹" };

  // ------------------------------------------------------------------ numbers as Python writes them

  /** cnnlib.widgets.grad_flow.format_ratio. @param {number} value @returns {string} */
  function formatRatio(value) {
    if (Number.isNaN(value)) return "0/0"; // both ends are zero
    if (value === Infinity) return "∞ (the last block's gradient is 0)";
    return pyGeneral(value, 3);
  }

  /** GradientFlow.ratio: first block's norm over the last's (inf when the last is 0). */
  function ratio(norms) {
    const first = norms[0], last = norms[norms.length - 1];
    if (last === 0) return first > 0 ? Infinity : NaN;
    return first / last;
  }

  /**
   * cnnlib.widgets.grad_flow.status_lines: the status line's three lines.
   *
   * @param {number} depth @param {number} seed
   * @param {{images: number, channels: number, height: number, width: number}} shape
   * @param {object} plain @param {object} residual each {weight, output, loss} with the
   *   exact values (non-finite ones included).
   * @returns {string[]}
   */
  function statusLines(depth, seed, shape, plain, residual) {
    const line = (name, flow) => {
      const zeros = flow.weight.filter((v) => v === 0).length;
      let text = `${name}: first/last block ‖∂loss/∂W‖ = ${formatRatio(ratio(flow.weight))}, ` +
        `‖∂loss/∂H‖ = ${formatRatio(ratio(flow.output))}; ` +
        `loss at init ${pyGeneral(flow.loss, 3)}`;
      if (zeros) text += `; ${zeros} blocks get exactly zero gradient`;
      return text;
    };
    return [
      `${depth} blocks of ${shape.channels} channels at ${shape.height}×${shape.width} px, ` +
        `${shape.images} images, at initialisation (seed ${seed})`,
      line("plain", plain),
      line("residual", residual),
    ];
  }

  // ------------------------------------------------------------------ the recorded table

  /**
   * One setting's numbers (cnnlib.explain.grad_flow.decode_flows): plain then residual,
   * each weight norms, output norms and loss, little-endian float32.
   */
  function decode(text, depth) {
    const bytes = fromBase64(text);
    const count = bytes.length / 4;
    if (count !== 4 * depth + 2) {
      throw new Error(`the recorded table is damaged: ${count} values for depth ${depth}, ` +
        `expected ${4 * depth + 2}; remake it with python scripts/record_grad_flow.py`);
    }
    const view = new DataView(bytes.buffer);
    const at = (i) => view.getFloat32(4 * i, true);
    return [0, 2 * depth + 1].map((start) => ({
      weight: Array.from({ length: depth }, (_, i) => at(start + i)),
      output: Array.from({ length: depth }, (_, i) => at(start + depth + i)),
      loss: at(start + 2 * depth),
    }));
  }

  /** A flow as Python syncs it: a non-finite number becomes null (JSON has none). */
  function synced(flow) {
    const safe = (v) => (Number.isFinite(v) ? v : null);
    return { weight: flow.weight.map(safe), output: flow.output.map(safe), loss: safe(flow.loss) };
  }

  let decoded = { table: null, key: null, flows: null }; // the last setting looked up

  /**
   * The values Python's GradientFlowExplorer derives, from the recorded table.
   *
   * @param {object} state the model's values (depth, batch_norm, init, seed, shape, table).
   * @returns {{flows: object, summary: string[]}}
   * @throws {Error} cnnlib's message for a bad depth, init or seed; a message saying
   *   what the page has when the setting (or the batch) was not recorded.
   */
  function compute(state) {
    const { depth, init, seed } = state;
    if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1) {
      throw new Error(`depth must be a whole number >= 1, got ${show(depth)}`);
    }
    if (!INITS.includes(init)) {
      throw new Error(`init must be one of ('default', 'kaiming'), got ${show(init)}`);
    }
    if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0) {
      throw new Error(`seed must be a whole number >= 0, got ${show(seed)}`);
    }
    const table = state.table || {};
    if (!table.flows) {
      throw new Error("this page has PyTorch's numbers only for the chapter's own batch and " +
        "width; run the notebook to compute this explorer's");
    }
    const key = `${depth},${state.batch_norm ? 1 : 0},${init},${seed}`;
    if (!Object.prototype.hasOwnProperty.call(table.flows, key)) {
      const seeds = table.seeds;
      throw new Error(`this page has PyTorch's numbers for depths ${table.depths.join(", ")} ` +
        `and seeds ${seeds[0]}–${seeds[seeds.length - 1]}, not depth ${depth} with seed ` +
        `${seed}; run the notebook to compute it`);
    }
    if (decoded.table !== table || decoded.key !== key) {
      decoded = { table, key, flows: decode(table.flows[key], depth) };
    }
    const [plain, residual] = decoded.flows;
    return {
      flows: { plain: synced(plain), residual: synced(residual) },
      summary: statusLines(depth, seed, state.shape, plain, residual),
    };
  }

  // ------------------------------------------------------------------ drawing

  // One panel in SVG units: the plot area, and room for the ticks and the axis label.
  const W = 320, H = 210;
  const PLOT = { left: 50, right: 312, top: 10, bottom: 168 };
  const power = (e) => (e === 0 ? "1" : `10${[...String(e)].map((c) => SUPERSCRIPT[c]).join("")}`);

  /** Ticks of the block axis: every block up to 8, then a round step, at most 8 ticks. */
  function blockTicks(depth) {
    const step = [1, 2, 5, 10, 20, 50, 100].find((s) => depth / s <= 8) || Math.ceil(depth / 8);
    const ticks = [];
    for (let b = step === 1 ? 1 : step; b <= depth; b += step) ticks.push(b);
    return ticks;
  }

  /** One panel: both networks' norms per block on a log scale, exact zeros marked. */
  function panel(flows, panelSpec, depth) {
    const series = NETS.map((net) => ({ ...net, values: flows[net.name][panelSpec.field] }));
    const positive = series.flatMap((s) => s.values.filter((v) => v !== null && v > 0));
    const low = positive.length ? Math.min(...positive) : 1e-3;
    const high = positive.length ? Math.max(...positive) : 1;
    const floor = low / 10; // where an exact zero is marked (as cnnlib.viz.grad_flow)
    const y0 = Math.log10(floor / 2), y1 = Math.log10(high * 3);
    const x = (b) => PLOT.left + ((b - 0.5) / depth) * (PLOT.right - PLOT.left);
    const y = (v) => PLOT.bottom - ((Math.log10(v) - y0) / (y1 - y0)) * (PLOT.bottom - PLOT.top);
    let body = "";
    // Powers of ten, at most 6 (LogLocator(numticks=6)).
    const first = Math.ceil(y0), last = Math.floor(y1);
    const stride = Math.max(1, Math.ceil((last - first + 1) / 6));
    for (let e = first; e <= last; e += stride) {
      const at = y(10 ** e).toFixed(1);
      body += `<line class="gf-grid" x1="${PLOT.left}" x2="${PLOT.right}" y1="${at}" y2="${at}"/>` +
        `<text class="gf-tick" x="${PLOT.left - 4}" y="${at}" text-anchor="end" ` +
        `dominant-baseline="central">${power(e)}</text>`;
    }
    for (const b of blockTicks(depth)) {
      body += `<line class="gf-tickmark" x1="${x(b)}" x2="${x(b)}" y1="${PLOT.bottom}" ` +
        `y2="${PLOT.bottom + 4}"/><text class="gf-tick" x="${x(b)}" y="${PLOT.bottom + 16}" ` +
        `text-anchor="middle">${b}</text>`;
    }
    body += `<rect class="gf-frame" x="${PLOT.left}" y="${PLOT.top}" ` +
      `width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none"/>` +
      `<text class="gf-label" x="${(PLOT.left + PLOT.right) / 2}" y="${H - 4}" ` +
      `text-anchor="middle">block (1 = nearest the input)</text>`;
    const markers = depth <= 16;
    for (const s of series) {
      // A zero or a non-finite norm has no place on a log axis: the line breaks there.
      let d = "", pen = "M";
      s.values.forEach((v, i) => {
        if (v !== null && v > 0) {
          d += `${pen}${x(i + 1).toFixed(2)} ${y(v).toFixed(2)}`;
          pen = "L";
        } else {
          pen = "M";
        }
      });
      // data-values: the exact numbers drawn (the tests compare them with PyTorch's).
      body += `<path class="gf-line" d="${d}" stroke="${s.color}" fill="none" ` +
        `data-net="${s.name}" data-values="${s.values.map(String).join(" ")}"/>`;
      s.values.forEach((v, i) => {
        if (markers && v !== null && v > 0) {
          body += `<circle cx="${x(i + 1).toFixed(2)}" cy="${y(v).toFixed(2)}" r="2.5" ` +
            `fill="${s.color}"/>`;
        }
        if (v === 0) {
          const cx = x(i + 1), cy = y(floor);
          body += `<path class="gf-zero" data-net="${s.name}" data-block="${i + 1}" ` +
            `d="M${(cx - 4).toFixed(2)} ${(cy - 4).toFixed(2)}h8l-4 7z" fill="${s.color}"/>`;
        }
      });
    }
    const words = series.map((s) => {
      const zeros = s.values.filter((v) => v === 0).length;
      const ends = [s.values[0], s.values[depth - 1]].map((v) => (v === null ? "not finite" :
        pyGeneral(v, 3)));
      return `${s.name}: ${ends[0]} at block 1, ${ends[1]} at block ${depth}` +
        (zeros ? `, exactly 0 at ${zeros} block${zeros === 1 ? "" : "s"} (triangles on the ` +
          "bottom edge)" : "");
    });
    return {
      body,
      words: `${panelSpec.words[0].toUpperCase()}${panelSpec.words.slice(1)} at each of ` +
        `${depth} blocks, log scale, plain network red, residual twin blue. ` +
        `${words.join("; ")}.`,
    };
  }

  const STYLE = baseStyle("cnnx-gflow") + `
.cnnx-gflow .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-gflow .cnnx-control label{flex:0 0 5.5em}
.cnnx-gflow .cnnx-control input[type=range],.cnnx-gflow .cnnx-control select{flex:1 1 auto;
  min-width:5rem;min-height:24px;margin:0;font:inherit}
.cnnx-gflow .cnnx-control input[type=checkbox]{width:24px;height:24px;margin:0}
.cnnx-gflow .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-gflow .cnnx-legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:.25rem 0;padding:0;
  list-style:none}
.cnnx-gflow .cnnx-legend li{display:flex;align-items:center;gap:.35rem}
.cnnx-gflow .cnnx-swatch{display:inline-block;width:1.5em;height:3px}
.cnnx-gflow .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
.cnnx-gflow .cnnx-panel{flex:1 1 300px;min-width:min(100%,300px);margin:0}
.cnnx-gflow .cnnx-panel figcaption{text-align:center}
.cnnx-gflow .cnnx-panel svg{display:block;width:100%;height:auto}
.cnnx-gflow svg text{font-size:13px;fill:#222;font-family:inherit}
.cnnx-gflow svg .gf-grid{stroke:#000;stroke-opacity:.15}
.cnnx-gflow svg .gf-frame,.cnnx-gflow svg .gf-tickmark{stroke:#222}
.cnnx-gflow svg .gf-line{stroke-width:1.8px;stroke-linejoin:round}
.cnnx-gflow .cnnx-status{margin-top:.5rem;min-height:4em;overflow-wrap:anywhere}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-gflow-${++instances}`;
    const root = element("div", { class: "cnnx-gflow" });
    root.append(element("style", {}, STYLE));
    const form = controlsFor(model, { id, label: "Gradient-flow settings" });
    const fieldset = form.fieldset;
    const controlBox = form.box;
    const send = (name, value) => {
      model.set(name, value);
      model.save_changes();
    };

    // Depth: a slider over the depths offered. Its positions are their indices, so it is
    // named depth_index, as the Python explorer's property that reads and sets it that way.
    const depths = model.get("depths") || [];
    const depth = element("input", { type: "range", min: 0, max: depths.length - 1, step: 1 });
    const depthValue = element("output", { "aria-hidden": "true" });
    controlBox("depth_index", "depth", depth).append(depthValue);
    depth.addEventListener("input", () => send("depth", depths[Number(depth.value)]));

    const batchNorm = element("input", { type: "checkbox" });
    controlBox("batch_norm", "batch norm", batchNorm);
    batchNorm.addEventListener("change", () => send("batch_norm", batchNorm.checked));

    const init = form.menu("init", "init",
      (model.get("inits") || []).map(([label, value]) => [value, label])).input;

    const sliders = (model.get("controls") || []).map((spec) =>
      ({ name: spec.name, ...form.slider(spec) }));

    const legend = element("ul", { class: "cnnx-legend", "aria-hidden": "true" });
    for (const net of NETS) {
      const item = element("li");
      const swatch = element("span", { class: "cnnx-swatch" });
      swatch.style.background = net.color;
      item.append(swatch, net.name);
      legend.append(item);
    }
    const zeroItem = element("li", {}, "▼ exactly 0 (bottom edge)");
    legend.append(zeroItem);
    const panels = element("div", { class: "cnnx-panels" });
    const figures = PANELS.map((spec) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-${spec.field}` });
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
      figure.append(element("figcaption", {}, spec.title), svg);
      panels.append(figure);
      return { spec, svg };
    });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, legend, panels, message, status);
    el.append(root);

    function draw() {
      const d = model.get("depth");
      const index = depths.indexOf(d);
      depth.value = index < 0 ? 0 : index;
      depth.setAttribute("aria-valuetext", `${d} blocks`);
      depthValue.textContent = d;
      batchNorm.checked = Boolean(model.get("batch_norm"));
      init.value = model.get("init");
      for (const { name, input, value } of sliders) {
        input.value = model.get(name);
        value.textContent = model.get(name);
      }
      const error = model.get("error");
      const flows = model.get("flows");
      status.replaceChildren();
      if (error || !flows || !flows.plain) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        panels.hidden = legend.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("div", { class: "cnnx-error" }, error));
        return;
      }
      panels.hidden = legend.hidden = false;
      message.hidden = true;
      const blocks = flows.plain.weight.length;
      zeroItem.hidden = ![flows.plain, flows.residual].some((f) =>
        f.weight.includes(0) || f.output.includes(0));
      for (const { spec, svg } of figures) {
        const picture = panel(flows, spec, blocks);
        svg.setAttribute("aria-label", picture.words);
        svg.innerHTML = `<title>${picture.words}</title>${picture.body}`;
      }
      for (const line of model.get("summary") || []) {
        status.append(element("div", { class: "cnnx-summary" }, line));
      }
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["depth", "batch_norm", "init", "seed", "flows", "summary", "error",
      "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("GradientFlowExplorer", { render, compute, formatG: pyGeneral });
})();
