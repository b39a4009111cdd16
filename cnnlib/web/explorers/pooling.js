/**
 * pooling.js: the front-end of section 7.5's pooling explorer.
 *
 * The same file runs in JupyterLab (Python's PoolingExplorer computes the values with
 * cnnlib.viz.pooling.pool, that is cnnlib.ops.pool2d and PyTorch, and syncs them) and on the
 * website (compute() below derives them in the browser with CNNOps.pool2d, mirroring
 * cnnlib.ops.pool2d, cnnlib.viz.pooling and cnnlib.widgets.pooling message for message).
 * See cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: mode ("max" | "avg"), input_choice (a key of `inputs`),
 * kernel_size, stride, padding, row, col, and `controls` (the sliders' {name, label, min,
 * max}; Python states them). Data: inputs (input name -> rows of values; Python's seeded
 * digits, never regenerated here). Derived: geometry, output (Y as rows), window_values,
 * source, sources, equation, header, summary, titles and error.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the pooling itself.
 */
(function () {
  "use strict";

  const { COLORS, show, whole, atLeast, sizeFormula, tint, range, element, formatValue, baseStyle,
    batched, statusLine, controlsFor, textCell, cellOutline, drawCells } = CNNExplorers.kit;
  const INPUT_COLOR = COLORS.input;
  const PADDING_COLOR = COLORS.padding;
  const WINDOW_COLOR = COLORS.window;
  const CURRENT_COLOR = COLORS.current;
  const FILLED_COLOR = COLORS.filled;
  const CHOSEN_COLOR = COLORS.chosen;
  const EDGE_COLOR = COLORS.edge;
  const MAX_WRITTEN_VALUES = 9; // cnnlib.viz.pooling.MAX_WRITTEN_VALUES
  const MODES = ["max", "avg"]; // cnnlib.widgets.pooling.MODES

  const MENUS = [
    { name: "mode", label: "pool" },
    { name: "input_choice", label: "input" },
  ];

  // ------------------------------------------------------------------ compute (website only)

  /**
   * The values Python's PoolingExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (mode, input_choice, inputs, kernel_size,
   *   stride, padding, row, col).
   * @returns {object} row and col pulled into the output, geometry, output, window_values,
   *   source, sources, equation, header, summary and titles.
   * @throws {Error} cnnlib's message, for an unknown mode or input, a size that is not a
   *   whole number in range, padding above half the window (PyTorch's rule) or a window
   *   larger than the padded input.
   */
  function compute(state) {
    // The input first, as Python needs it to pool; then cnnlib.ops.pool2d's checks in order.
    const inputs = state.inputs || {};
    const names = Object.keys(inputs);
    if (!Object.prototype.hasOwnProperty.call(inputs, state.input_choice)) {
      throw new Error(`unknown input ${show(state.input_choice)}; choose one of ${show(names)}`);
    }
    const mode = state.mode;
    if (!MODES.includes(mode)) {
      throw new Error(`mode must be 'max' or 'avg', got ${show(mode)}`);
    }
    const rowsOfX = inputs[state.input_choice];
    const H = rowsOfX.length, W = rowsOfX[0].length;
    const k = whole(state.kernel_size, "pool_size");
    const p = whole(state.padding, "padding");
    const s = whole(state.stride, "stride");
    atLeast(k, 1, "pool_size");
    atLeast(p, 0, "padding");
    if (p > Math.floor(k / 2)) {
      throw new Error(`padding (${p}, ${p}) must be at most half of pool_size (${k}, ${k})`);
    }
    atLeast(s, 1, "stride"); // cnnlib.ops.conv_output_shape's
    for (const n of [H, W]) {
      if (k > n + 2 * p) {
        throw new Error(
          `window of size ${k} (kernel_size=${k}, dilation=1) is larger than the padded ` +
            `input ${n + 2 * p} (input ${n} + 2*padding ${p}); use more padding or a smaller ` +
            "kernel",
        );
      }
    }
    if (typeof CNNOps === "undefined") {
      throw new Error("cnn-ops.js is not loaded: add its script tag before this explorer's");
    }
    const X = { shape: [H, W], data: Float32Array.from(rowsOfX.flat()) };
    const Y = CNNOps.pool2d(X, { kind: mode, size: k, padding: p, stride: s });
    const [outH, outW] = Y.shape;
    const output = Array.from({ length: outH }, (_, i) =>
      Array.from(Y.data.subarray(i * outW, (i + 1) * outW)));
    // An output row/col past the new output moves to its last cell, as the Lab sliders do.
    const row = Math.min(Math.max(0, state.row | 0), outH - 1);
    const col = Math.min(Math.max(0, state.col | 0), outW - 1);

    // The padded input as the pooling pads it: -inf (null) for max, 0 for avg.
    const Hp = H + 2 * p, Wp = W + 2 * p;
    const fill = mode === "max" ? null : 0;
    const padded = (r, c) =>
      r < p || r >= H + p || c < p || c >= W + p ? fill : rowsOfX[r - p][c - p];
    const taps = (start) => Array.from({ length: k }, (_, a) => start * s + a);
    const windowAt = (i, j) => taps(i).map((r) => taps(j).map((c) => padded(r, c)));

    // Max pooling: the first maximum in row-major order, the one PyTorch keeps.
    const sources = [];
    if (mode === "max") {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let best = null;
          for (const r of taps(i)) {
            for (const c of taps(j)) {
              const v = padded(r, c);
              if (v !== null && (best === null || v > best.v)) best = { v, at: [r, c] };
            }
          }
          sources.push(best.at);
        }
      }
    }
    const source = mode === "max" ? sources[row * outW + col] : [];

    const windowValues = windowAt(row, col);
    const flat = windowValues.flat();
    const result = formatValue(output[row][col]);
    let equation;
    if (flat.length > MAX_WRITTEN_VALUES) {
      equation = `Y[${row}, ${col}] = ${mode === "max" ? "max" : "mean"} of ${flat.length} ` +
        `cells = ${result}`;
    } else if (mode === "max") {
      equation = `Y[${row}, ${col}] = max(${flat.map(formatValue).join(", ")}) = ${result}`;
    } else {
      equation = `Y[${row}, ${col}] = (${flat.map(formatValue).join(" + ")})/${flat.length} = ` +
        result;
    }
    let summary =
      `output size ${sizeFormula(H, k, p, s)} per side: ${outH}×${outW} ` +
      `(nn.${mode === "max" ? "MaxPool2d" : "AvgPool2d"}(${k}, stride=${s}, padding=${p}))`;
    if (mode === "max") {
      summary += `; this output takes input cell (${source[0] - p}, ${source[1] - p})`;
    } else if (p) {
      summary += `; the mean divides by all ${k * k} cells, padding zeros included`;
    }
    return {
      row,
      col,
      geometry: {
        input: [H, W],
        kernel: [k, k],
        padding: [p, p],
        stride: [s, s],
        padded: [Hp, Wp],
        output: [outH, outW],
        position: [row, col],
        window: [taps(row), taps(col)],
      },
      output,
      window_values: windowValues,
      source,
      sources,
      equation,
      header: `${mode} pool ${k}×${k}, stride (${s}, ${s}):   ${equation}`,
      summary,
      titles: [p ? `X padded (${p}, ${p}) with ${mode === "max" ? "-∞" : "0"}` : "input X",
        "output Y"],
    };
  }

  // ------------------------------------------------------------------ drawing

  /** The padded input: padding grey, input blue, the window orange, max's picks purple. */
  function inputPicture(state) {
    const g = state.geometry;
    const [Hp, Wp] = g.padded, [p] = g.padding, [H, W] = g.input;
    const [rows, cols] = g.window;
    const X = state.inputs[state.input_choice];
    const isMax = state.mode === "max";
    const inRows = new Set(rows), inCols = new Set(cols);
    const picked = new Set((state.sources || []).map(([r, c]) => `${r},${c}`));
    const source = state.source && state.source.length ? `${state.source[0]},${state.source[1]}`
      : null;
    let cells = "", rings = "";
    for (let r = 0; r < Hp; r++) {
      for (let c = 0; c < Wp; c++) {
        const padding = r < p || r >= H + p || c < p || c >= W + p;
        const windowed = inRows.has(r) && inCols.has(c);
        let fill = padding ? PADDING_COLOR : INPUT_COLOR;
        if (windowed) fill = WINDOW_COLOR;
        const key = `${r},${c}`;
        let role = windowed ? "window" : padding ? "padding" : "input";
        if (picked.has(key)) fill = tint(fill, CHOSEN_COLOR, 0.45);
        if (key === source) {
          fill = CHOSEN_COLOR;
          role = "source";
        }
        const value = padding ? (isMax ? "-∞" : "0") : formatValue(X[r - p][c - p]);
        cells += textCell(r, c, fill, value,
          `data-row="${r}" data-col="${c}" data-role="${role}"` +
          (picked.has(key) ? ' data-picked="true"' : ""), key === source);
        if (picked.has(key)) {
          rings += cellOutline(r, c, 1, 1, { cls: "cnnx-ring", stroke: CHOSEN_COLOR });
        }
      }
    }
    const box = cellOutline(rows[0], cols[0], rows.length, cols.length,
      { stroke: CURRENT_COLOR });
    const [i, j] = g.position;
    let words =
      `${p ? `Padded input, ${Hp} by ${Wp}: the ${H} by ${W} input inside ${p} ` +
        `ring${p === 1 ? "" : "s"} of ${isMax ? "minus infinity" : "zeros"}` :
        `Input, ${H} by ${W}`}. Output cell (${i}, ${j}) pools rows ` +
      `${range(rows[0], rows[rows.length - 1])} and columns ` +
      `${range(cols[0], cols[cols.length - 1])}, outlined: ` +
      `${state.window_values.flat().map(formatValue).join(", ")}.`;
    if (source) {
      words += ` It takes the cell in row ${state.source[0]}, column ${state.source[1]} ` +
        "(filled purple); a purple ring marks the cell each output takes.";
    }
    return { body: cells + rings + box, size: [Hp, Wp], words };
  }

  function outputPicture(state) {
    const g = state.geometry;
    const [r0, c0] = g.position;
    let cells = "";
    for (let r = 0; r < g.output[0]; r++) {
      for (let c = 0; c < g.output[1]; c++) {
        const chosen = r === r0 && c === c0;
        // data-value: the whole number behind the two-decimal label (the tests read it).
        cells += textCell(r, c, chosen ? WINDOW_COLOR : FILLED_COLOR,
          formatValue(state.output[r][c]),
          `data-row="${r}" data-col="${c}" data-value="${state.output[r][c]}"` +
          (chosen ? ' data-chosen="true"' : ""));
      }
    }
    return {
      body: cells + cellOutline(r0, c0, 1, 1, { stroke: CURRENT_COLOR }),
      size: g.output,
      words: `Output Y, ${g.output[0]} by ${g.output[1]}: ` +
        state.output.map((line) => line.map(formatValue).join(", ")).join("; ") +
        `. Cell (${r0}, ${c0}) is chosen. Click a cell, or use the output row and column ` +
        "controls, to choose another.",
    };
  }

  const STYLE = baseStyle("cnnx-pool") + `
.cnnx-pool .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-pool .cnnx-control label{flex:0 0 5.5em}
.cnnx-pool .cnnx-control input,.cnnx-pool .cnnx-control select{flex:1 1 auto;min-width:5rem;
  min-height:24px;margin:0;font:inherit}
.cnnx-pool .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-pool .cnnx-header{margin:.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.cnnx-pool .cnnx-panels{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem}
.cnnx-pool .cnnx-panel{display:flex;flex-direction:column;gap:.25rem;margin:0}
.cnnx-pool .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-pool svg rect{stroke:${EDGE_COLOR};stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-pool svg rect.cnnx-outline{stroke:${CURRENT_COLOR};stroke-width:3px}
.cnnx-pool svg rect.cnnx-ring{stroke:${CHOSEN_COLOR};stroke-width:2px}
.cnnx-pool svg text{font-size:3.8px;text-anchor:middle;dominant-baseline:central;fill:#222;
  font-variant-numeric:tabular-nums;pointer-events:none}
.cnnx-pool svg text.cnnx-light{fill:#fff}
.cnnx-pool .cnnx-op{font-size:1.4em;padding:0 .1em}
.cnnx-pool .cnnx-output g[data-row]{cursor:pointer}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-pool-${++instances}`;
    const root = element("div", { class: "cnnx-pool" });
    root.append(element("style", {}, STYLE));

    const controls = controlsFor(model, { id, label: "Pooling settings" });
    const fieldset = controls.fieldset;
    const inputs = {};
    // Menus: the mode and the input (the inputs' names are the keys Python sent).
    for (const spec of MENUS) {
      const options = spec.name === "mode" ? MODES : Object.keys(model.get("inputs") || {});
      inputs[spec.name] = controls.menu(spec.name, spec.label, options.map((o) => [o, o]));
    }
    // Sliders: native range inputs, each with the value beside it.
    const specs = [
      ...(model.get("controls") || []),
      { name: "row", label: "output row", min: 0, max: 0 },
      { name: "col", label: "output col", min: 0, max: 0 },
    ];
    for (const spec of specs) inputs[spec.name] = controls.slider(spec);

    const header = element("p", { class: "cnnx-header" });
    const panels = element("div", { class: "cnnx-panels" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    const figures = ["input", "output"].map((kind, i) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-${kind}` });
      const caption = element("figcaption", { class: "cnnx-caption" });
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      figure.append(caption, svg);
      if (i) panels.append(element("span", { class: "cnnx-op", "aria-hidden": "true" }, "→"));
      panels.append(figure);
      return { figure, caption, svg };
    });
    figures[1].svg.addEventListener("click", (event) => {
      const picked = event.target.closest("g[data-row]");
      if (!picked) return;
      model.set("row", Number(picked.dataset.row));
      model.set("col", Number(picked.dataset.col));
      model.save_changes();
    });

    root.append(fieldset, header, panels, message, status);
    el.append(root);

    function draw() {
      for (const [name, { input, value }] of Object.entries(inputs)) {
        const v = model.get(name);
        input.value = v;
        if (value) value.textContent = v;
      }
      const error = model.get("error");
      const g = model.get("geometry");
      status.replaceChildren();
      if (error || !g || !g.output) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        panels.hidden = header.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      panels.hidden = header.hidden = false;
      message.hidden = true;
      for (const name of ["row", "col"]) {
        const max = g.output[name === "row" ? 0 : 1] - 1;
        inputs[name].input.max = max;
        inputs[name].input.disabled = max === 0; // a 1×1 output has one cell to choose
        inputs[name].input.value = model.get(name);
      }
      const state = {};
      for (const name of ["mode", "input_choice", "inputs", "geometry", "output",
        "window_values", "source", "sources"]) state[name] = model.get(name);
      const pictures = [inputPicture(state), outputPicture(state)];
      const captions = model.get("titles") || [];
      pictures.forEach((picture, i) => {
        const { figure, caption, svg } = figures[i];
        const [h, w] = picture.size;
        caption.textContent = captions[i] || "";
        drawCells(svg, picture);
        // Cells stay at least 32 px wide (the values stay readable on a phone) and at
        // most 48 px; panels grow in proportion to their width in cells.
        figure.style.flex = `${w} 1 0px`;
        figure.style.minWidth = `min(100%, ${w * 32}px)`;
        figure.style.maxWidth = `max(${w * 48}px, 8em)`;
        svg.style.maxWidth = `${w * 48}px`;
      });
      header.textContent = model.get("header");
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["mode", "input_choice", "kernel_size", "stride", "padding", "row", "col",
      "inputs", "geometry", "output", "window_values", "source", "sources", "equation",
      "header", "summary", "titles", "error", "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("PoolingExplorer", { render, compute });
})();
