/**
 * padding-stride.js: the front-end of section 7.3's padding / stride / dilation explorer.
 *
 * The same file runs in JupyterLab (Python's LivePaddingStride computes the values with
 * cnnlib.ops.SlidingWindow and syncs them) and on the website (compute() below derives them
 * in the browser, mirroring cnnlib.ops.SlidingWindow, cnnlib.viz.padding_stride and
 * cnnlib.widgets.padding_stride line for line). See cnn-host.js for the contract.
 *
 * Model values. Controls: input_size, kernel_size, padding, stride, dilation, row, col, and
 * `controls` (the list of {name, label, min, max} the inputs are built from; Python states it).
 * Derived: geometry (the SlidingWindow as pairs, the chosen cell's window), formula, warning,
 * summary (the status line), titles (the three panels' captions) and error.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the output-size arithmetic.
 */
(function () {
  "use strict";

  const { COLORS, CELL, whole, atLeast, sizeFormula, tint, range, element, baseStyle, batched,
    statusLine, controlsFor, cellRect, cellOutline, drawCells } = CNNExplorers.kit;
  const INPUT_COLOR = COLORS.input;
  const PADDING_COLOR = COLORS.padding;
  const WINDOW_COLOR = COLORS.window;
  const CURRENT_COLOR = COLORS.current;
  const OUTPUT_COLOR = COLORS.output;
  const UNUSED_COLOR = COLORS.unused;
  const EDGE_COLOR = COLORS.edge;
  const CORNER_COLOR = COLORS.corner;
  const UNUSED_AMOUNT = 0.45; // cell_grid.tint's default
  const CONTROL_NAMES = ["input_size", "kernel_size", "padding", "stride", "dilation"];

  // ------------------------------------------------------------------ compute (website only)

  /** cnnlib.ops.as_pair(value, name, minimum) for one int: the same checks, the same words. */
  function wholeAtLeast(value, name, minimum) {
    return atLeast(whole(value, name), minimum, name);
  }

  /** cnnlib.widgets.padding_stride.tiling_warning, for a square geometry. */
  function tilingWarning(g) {
    const parts = [];
    let lost = 0;
    [["row", "bottom"], ["column", "right"]].forEach(([name, side], axis) => {
      const left = g.leftover[axis];
      if (left) {
        parts.push(`${left} ${name}${left > 1 ? "s" : ""} at the ${side}`);
        lost += g.lost_input[axis];
      }
    });
    if (!parts.length) return "";
    const verb = parts.length === 1 && parts[0].startsWith("1 ") ? "is" : "are";
    const loss = lost ? "real input cells among them are skipped" : "padding only, no input lost";
    const stride = g.stride[0] === g.stride[1] ? g.stride[0] : `(${g.stride[0]}, ${g.stride[1]})`;
    return (
      `stride ${stride} does not tile the padded input: ${parts.join(" and ")} ` +
      `${verb} never read (${loss})`
    );
  }

  /** cnnlib.viz.padding_stride.input_title / kernel_title, and the output's. */
  function titles(g) {
    const [h, w] = g.input, [ph, pw] = g.padding, [Hp, Wp] = g.padded;
    let kernel = `kernel ${g.kernel[0]}×${g.kernel[1]}, stride (${g.stride[0]}, ${g.stride[1]})`;
    if (g.dilation[0] !== 1 || g.dilation[1] !== 1) {
      kernel += `\ndilation (${g.dilation[0]}, ${g.dilation[1]}): spans ${g.span[0]}×${g.span[1]}`;
    }
    return [
      `input ${h}×${w}, padding (${ph}, ${pw}) → ${Hp}×${Wp}`,
      kernel,
      `output ${g.output[0]}×${g.output[1]}`,
    ];
  }

  /**
   * The values Python's LivePaddingStride derives, computed in the browser.
   *
   * @param {object} state the model's values (input_size, kernel_size, padding, stride,
   *   dilation, row, col).
   * @returns {object} row and col pulled into the output, geometry, formula, warning, summary
   *   and titles.
   * @throws {Error} cnnlib's message, when a value is not a whole number in range or the
   *   (dilated) kernel is larger than the padded input.
   */
  function compute(state) {
    const n = wholeAtLeast(state.input_size, "input_size", 1);
    const k = wholeAtLeast(state.kernel_size, "kernel_size", 1);
    const p = wholeAtLeast(state.padding, "padding", 0);
    const s = wholeAtLeast(state.stride, "stride", 1);
    const d = wholeAtLeast(state.dilation, "dilation", 1);
    const span = d * (k - 1) + 1; // how far the dilated window reaches
    const padded = n + 2 * p;
    if (span > padded) {
      // cnnlib.ops.conv_output_shape's words, so the page says what the notebook says.
      throw new Error(
        `window of size ${span} (kernel_size=${k}, dilation=${d}) is larger than the padded ` +
          `input ${padded} (input ${n} + 2*padding ${p}); use more padding or a smaller kernel`,
      );
    }
    if (typeof CNNOps === "undefined") {
      throw new Error("cnn-ops.js is not loaded: add its script tag before this explorer's");
    }
    const out = CNNOps.outputSize(n, k, p, s, d);
    // An output row/col past the new output moves to its last cell, as the Lab sliders do.
    const row = Math.min(Math.max(0, state.row | 0), out - 1);
    const col = Math.min(Math.max(0, state.col | 0), out - 1);
    const leftover = (padded - span) % s;
    const taps = (start) => Array.from({ length: k }, (_, a) => start * s + d * a);
    const geometry = {
      input: [n, n],
      kernel: [k, k],
      padding: [p, p],
      stride: [s, s],
      dilation: [d, d],
      padded: [padded, padded],
      span: [span, span],
      output: [out, out],
      leftover: [leftover, leftover],
      lost_input: [Math.max(0, leftover - p), Math.max(0, leftover - p)],
      position: [row, col],
      window: [taps(row), taps(col)],
    };
    const formula = sizeFormula(n, k, p, s, d);
    return {
      row,
      col,
      geometry,
      formula,
      warning: tilingWarning(geometry),
      summary:
        `output size ${formula} per side, so the output is ${out}×${out} ` +
        `(nn.Conv2d(1, 1, kernel_size=${k}, padding=${p}, stride=${s}, dilation=${d}))`,
      titles: titles(geometry),
    };
  }

  // ------------------------------------------------------------------ drawing

  const UNREAD_PADDING = tint(PADDING_COLOR, UNUSED_COLOR, UNUSED_AMOUNT);
  const UNREAD_INPUT = tint(INPUT_COLOR, UNUSED_COLOR, UNUSED_AMOUNT);

  /** The padded input: padding grey, input blue, unread rows/columns red, window orange. */
  function inputPicture(g) {
    const [Hp, Wp] = g.padded, [ph, pw] = g.padding, [lh, lw] = g.leftover;
    const [rows, cols] = g.window;
    const inWindowRow = new Set(rows), inWindowCol = new Set(cols);
    let cells = "";
    for (let r = 0; r < Hp; r++) {
      for (let c = 0; c < Wp; c++) {
        const padding = r < ph || r >= Hp - ph || c < pw || c >= Wp - pw;
        const unread = r >= Hp - lh || c >= Wp - lw;
        const windowed = inWindowRow.has(r) && inWindowCol.has(c);
        let fill = padding ? PADDING_COLOR : INPUT_COLOR;
        if (unread) fill = padding ? UNREAD_PADDING : UNREAD_INPUT;
        if (windowed) fill = WINDOW_COLOR;
        const role = windowed ? "window" : unread ? "unread" : padding ? "padding" : "input";
        cells += cellRect(r, c, fill, `data-row="${r}" data-col="${c}" data-role="${role}"`);
      }
    }
    let dots = "";
    for (let i = 0; i < g.output[0]; i++) {
      for (let j = 0; j < g.output[1]; j++) {
        dots +=
          `<circle cx="${(j * g.stride[1] + 0.5) * CELL}" cy="${(i * g.stride[0] + 0.5) * CELL}" ` +
          `r="${CELL * 0.16}" fill="${CORNER_COLOR}" data-corner="${i},${j}"/>`;
      }
    }
    const box = cellOutline(rows[0], cols[0], rows[rows.length - 1] - rows[0] + 1,
      cols[cols.length - 1] - cols[0] + 1, { stroke: CURRENT_COLOR });
    const [r, c] = g.position;
    let words =
      `Padded input, ${Hp} by ${Wp}: the ${g.input[0]} by ${g.input[1]} input inside ` +
      `${ph} ring${ph === 1 ? "" : "s"} of zero padding. A dot marks where each of the ` +
      `${g.output[0] * g.output[1]} windows starts, every ${g.stride[0]} cells. ` +
      `Output cell (${r}, ${c}) reads rows ${range(rows[0], rows[rows.length - 1])} and ` +
      `columns ${range(cols[0], cols[cols.length - 1])}` +
      (g.dilation[0] > 1 ? `, every ${g.dilation[0]}th` : "") + ", outlined.";
    if (lh || lw) {
      words += ` The last ${lh} row${lh === 1 ? "" : "s"} and ${lw} column${lw === 1 ? "" : "s"} ` +
        "are never read (red).";
    }
    return { body: cells + dots + box, size: [Hp, Wp], words };
  }

  function kernelPicture(g) {
    let cells = "";
    for (let r = 0; r < g.kernel[0]; r++) {
      for (let c = 0; c < g.kernel[1]; c++) cells += cellRect(r, c, WINDOW_COLOR);
    }
    return { body: cells, size: g.kernel, words: `Kernel, ${g.kernel[0]} by ${g.kernel[1]}.` };
  }

  function outputPicture(g) {
    const [r0, c0] = g.position;
    let cells = "";
    for (let r = 0; r < g.output[0]; r++) {
      for (let c = 0; c < g.output[1]; c++) {
        const chosen = r === r0 && c === c0;
        cells += cellRect(r, c, chosen ? WINDOW_COLOR : OUTPUT_COLOR,
          `data-row="${r}" data-col="${c}"${chosen ? ' data-chosen="true"' : ""}`);
      }
    }
    return {
      body: cells + cellOutline(r0, c0, 1, 1, { stroke: CURRENT_COLOR }),
      size: g.output,
      words: `Output, ${g.output[0]} by ${g.output[1]}; cell (${r0}, ${c0}) is chosen. ` +
        "Click a cell, or use the output row and column controls, to choose another.",
    };
  }

  const STYLE = baseStyle("cnnx-ps") + `
.cnnx-ps .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-ps .cnnx-control label{flex:0 0 6.5em}
.cnnx-ps .cnnx-control input{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0}
.cnnx-ps .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-ps .cnnx-panels{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem}
.cnnx-ps .cnnx-panel{display:flex;flex-direction:column;gap:.25rem;margin:0}
.cnnx-ps .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-ps svg rect{stroke:${EDGE_COLOR};stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-ps svg rect.cnnx-outline{stroke:${CURRENT_COLOR};stroke-width:3px}
.cnnx-ps .cnnx-caption{white-space:pre-line}
.cnnx-ps .cnnx-op{font-size:1.4em;padding:0 .1em}
.cnnx-ps .cnnx-output rect[data-row]{cursor:pointer}
.cnnx-ps .cnnx-status .cnnx-warning{color:#a63603}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-ps-${++instances}`;
    const root = element("div", { class: "cnnx-ps" });
    root.append(element("style", {}, STYLE));

    // Controls: native range inputs, each with a label and the value beside it.
    const controls = controlsFor(model, { id, label: "Padding and stride settings" });
    const fieldset = controls.fieldset;
    const inputs = {};
    const specs = [
      ...(model.get("controls") || []),
      { name: "row", label: "output row", min: 0, max: 0 },
      { name: "col", label: "output col", min: 0, max: 0 },
    ];
    for (const spec of specs) inputs[spec.name] = controls.slider(spec);

    const panels = element("div", { class: "cnnx-panels" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);

    const figures = ["input", "kernel", "output"].map((kind, i) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-${kind}` });
      const caption = element("figcaption", { class: "cnnx-caption" });
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      figure.append(caption, svg);
      if (i) panels.append(element("span", { class: "cnnx-op", "aria-hidden": "true" },
        i === 1 ? "⋆" : "="));
      panels.append(figure);
      return { figure, caption, svg };
    });
    figures[2].svg.addEventListener("click", (event) => {
      const cell = event.target.closest("rect[data-row]");
      if (!cell) return;
      model.set("row", Number(cell.dataset.row));
      model.set("col", Number(cell.dataset.col));
      model.save_changes();
    });

    root.append(fieldset, panels, message, status);
    el.append(root);

    function draw() {
      for (const [name, { input, value }] of Object.entries(inputs)) {
        const v = model.get(name);
        input.value = v;
        value.textContent = v;
      }
      const error = model.get("error");
      const g = model.get("geometry");
      status.replaceChildren();
      if (error || !g) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        panels.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      panels.hidden = false;
      message.hidden = true;
      for (const name of ["row", "col"]) {
        const max = g.output[name === "row" ? 0 : 1] - 1;
        inputs[name].input.max = max;
        inputs[name].input.disabled = max === 0; // a 1×1 output has one cell to choose
        inputs[name].input.value = model.get(name);
      }
      const pictures = [inputPicture(g), kernelPicture(g), outputPicture(g)];
      const captions = model.get("titles") || [];
      pictures.forEach((picture, i) => {
        const { figure, caption, svg } = figures[i];
        const [h, w] = picture.size;
        caption.textContent = captions[i] || "";
        drawCells(svg, picture);
        // Panels grow in proportion to their width in cells, so cells are one size across
        // panels on one line; below ~12 px a cell wraps its panel to the next line.
        figure.style.flex = `${w} 1 0px`;
        figure.style.minWidth = `min(100%, ${Math.max(w * 12, 80)}px)`;
        // The caption may be wider than a small grid (a 1×1 kernel): the panel grows for
        // the caption, the picture stops at 28 px a cell.
        figure.style.maxWidth = `max(${w * 28}px, 12em)`;
        svg.style.maxWidth = `${w * 28}px`;
      });
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
      const warning = model.get("warning");
      if (warning) {
        status.append(element("br"));
        status.append(element("span", { class: "cnnx-warning" }, `⚠ ${warning}`));
      }
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = [...CONTROL_NAMES, "row", "col", "geometry", "formula", "warning",
      "summary", "titles", "error", "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("PaddingStrideExplorer", { render, compute });
})();
