/**
 * channels.js: the front-end of section 7.4's multiple input and output channels explorer.
 *
 * The same file runs in JupyterLab (Python's ChannelsExplorer computes the values with
 * cnnlib.viz.channels.channel_breakdown, that is cnnlib.ops.corr2d per input channel, and
 * syncs them) and on the website (compute() below derives them in the browser with CNNOps,
 * mirroring cnnlib.widgets.channels message for message). See cnn-host.js for the contract and
 * README.md beside this file for the rules.
 *
 * Model values. Controls: in_channels, out_channels, kernel_size, out_channel (sliders, from
 * `controls`, which Python states), and the numbers the reader types: inputs (every input
 * channel the explorer holds, n_in × H × W), weights (every kernel slice, n_out × n_in × n_k ×
 * n_k) and biases (n_out). The layer uses the first in_channels / out_channels of them and the
 * top-left kernel_size × kernel_size of each slice, so each output channel keeps its own kernel
 * and bias when the reader switches between channels. Derived: layer (what is on screen),
 * partial_maps, total_map, output_map, outputs, header, summary and error.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the convolutions.
 */
(function () {
  "use strict";

  const { COLORS, CELL, keepSliderKeys, element, formatValue, baseStyle, batched, statusLine,
    controlsFor } = CNNExplorers.kit;
  const INPUT_COLOR = COLORS.input;
  const KERNEL_COLOR = COLORS.window;
  const FILLED_COLOR = COLORS.filled;
  const OUTPUT_COLOR = COLORS.output;
  const EDGE_COLOR = COLORS.edge;
  const CURRENT_COLOR = COLORS.current;
  const FLOAT32_MAX = 3.4028234663852886e38;
  // cnnlib.widgets.channels.OVERFLOW: typed numbers, each finite, whose sums are not.
  const OVERFLOW = "the output overflows float32 (a value beyond about ±3.4e38); type smaller " +
    "numbers";

  // ------------------------------------------------------------------ compute (website only)

  /** cnnlib.widgets.channels.signed: "+ 2" or "− 2.5", a bias written after a sum. */
  function signed(value) {
    return value < 0 ? `− ${formatValue(-value)}` : `+ ${formatValue(value)}`;
  }

  function plural(count, word) {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
  }

  /** The shape of nested arrays of numbers, or null when they are not a regular grid. */
  function shapeOf(values) {
    const shape = [];
    let probe = values;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (!probe.length) break;
      probe = probe[0];
    }
    function regular(v, depth) {
      if (depth === shape.length) return typeof v === "number";
      return Array.isArray(v) && v.length === shape[depth] && v.every((x) => regular(x, depth + 1));
    }
    return regular(values, 0) ? shape : null;
  }

  /**
   * cnnlib.widgets.channels._grid: values as a float32 tensor of shape (null: any size), or
   * an Error in the same words.
   */
  function grid(values, name, shape, axes = "") {
    const got = shapeOf(values);
    if (!got || got.length !== shape.length || got.includes(0) ||
        shape.some((want, i) => want !== null && want !== got[i])) {
      throw new Error(`${name} must be a grid of ${axes || shape.join(" × ")} numbers; the ` +
        "values sent to the explorer have another shape");
    }
    const data = Float32Array.from(shape.length > 1 ? values.flat(shape.length - 1) : values);
    if (!data.every(Number.isFinite)) {
      throw new Error(`${name} holds a value that is not a finite float32 number (NaN, ` +
        "infinite, or beyond about ±3.4e38); give finite numbers");
    }
    return { shape: got, data };
  }

  /** A flat row-major array as rows (2-D) or channels of rows (3-D). */
  function nest(data, shape) {
    if (shape.length === 1) return Array.from(data);
    const size = data.length / shape[0];
    return Array.from({ length: shape[0] }, (_, i) =>
      nest(data.subarray(i * size, (i + 1) * size), shape.slice(1)));
  }

  /**
   * The values Python's ChannelsExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (in_channels, out_channels, kernel_size,
   *   out_channel, inputs, weights, biases).
   * @returns {object} out_channel pulled into the layer, layer, partial_maps, total_map,
   *   output_map, outputs, header and summary.
   * @throws {Error} cnnlib's message, for numbers that are not a grid of the right shape or
   *   not finite, a count or kernel size outside what the explorer holds, or a kernel larger
   *   than the input.
   */
  function compute(state) {
    const X = grid(state.inputs, "inputs", [null, null, null], "input channels × height × width");
    const [nIn, H, W] = X.shape;
    const weightsAxes = `output channels × ${nIn} input channels × k × k`;
    const Wt = grid(state.weights, "weights", [null, nIn, null, null], weightsAxes);
    const [nOut, , nK, nK2] = Wt.shape;
    if (nK !== nK2) {
      throw new Error(`weights must be a grid of ${weightsAxes} numbers; the values sent to ` +
        "the explorer have another shape");
    }
    const B = grid(state.biases, "biases", [nOut]);
    const cI = state.in_channels, cO = state.out_channels, k = state.kernel_size;
    for (const [name, value, top] of [["in_channels", cI, nIn], ["out_channels", cO, nOut],
      ["kernel_size", k, nK]]) {
      if (!Number.isInteger(value) || value < 1 || value > top) {
        throw new Error(`${name} must be between 1 and ${top}, got ${value}`);
      }
    }
    if (k > H || k > W) {
      throw new Error(
        `a ${k}×${k} kernel does not fit in the ${H}×${W} input: without padding a kernel can ` +
          `be at most as large as the input, so choose a kernel size of at most ` +
          `${Math.min(H, W)} (padding, section 7.3, lets a kernel reach past the edge)`);
    }
    // An output channel past the new count moves to the last one (clamp_slider).
    const o = Math.min(Math.max(state.out_channel, 0), cO - 1);

    // The layer in use: the first cI input channels, cO kernels, their top-left k × k.
    const input = CNNOps.tensor([cI, H, W], X.data.subarray(0, cI * H * W));
    const kernel = CNNOps.tensor([cO, cI, k, k]);
    let t = 0;
    for (let a = 0; a < cO; a++) {
      for (let c = 0; c < cI; c++) {
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) kernel.data[t++] = Wt.data[((a * nIn + c) * nK + u) * nK + v];
        }
      }
    }
    const bias = B.data.subarray(0, cO);
    const slice = (T, i) => {
      const shape = T.shape.slice(1);
      const size = shape.reduce((x, y) => x * y, 1);
      return CNNOps.tensor(shape, T.data.subarray(i * size, (i + 1) * size));
    };

    // channel_breakdown: one corr2d per input channel, their float32 sum, plus the bias.
    const partials = [];
    const kernelOfO = slice(kernel, o);
    for (let c = 0; c < cI; c++) partials.push(CNNOps.corr2d(slice(input, c), slice(kernelOfO, c)));
    const [h, w] = partials[0].shape;
    const total = new Float32Array(h * w);
    for (const P of partials) for (let i = 0; i < total.length; i++) total[i] += P.data[i];
    const output = total.map((v) => v + bias[o]); // a Float32Array: float32 sums, as torch's
    const outputs = CNNOps.conv2d(input, kernel, { bias }); // the whole layer, as F.conv2d
    if (![...partials.map((P) => P.data), total, output, outputs.data].every(
      (data) => data.every(Number.isFinite))) {
      throw new Error(OVERFLOW);
    }

    const b = state.biases[o];
    const terms = Array.from({ length: cI }, (_, c) => `X[${c}] ⋆ K[${o}, ${c}]`).join(" + ");
    let summary = `Y[${o}] = ${terms} ${signed(b)}: ${plural(cI, "input channel")} × ` +
      `${k}×${k} weights = ${plural(cI * k * k, "weight")} per output value`;
    if (k === 1) {
      summary += ` (a 1×1 convolution: each output value mixes the ` +
        `${plural(cI, "input value")} at its own pixel, one weight each)`;
    }
    return {
      out_channel: o,
      layer: {
        in_channels: cI, out_channels: cO, kernel_size: k, out_channel: o,
        input_size: [H, W], output_size: [h, w], bias: b,
        biases: state.biases.slice(0, cO),
        input: nest(input.data, input.shape), kernel: nest(kernelOfO.data, [cI, k, k]),
      },
      partial_maps: partials.map((P) => nest(P.data, P.shape)),
      total_map: nest(total, [h, w]),
      output_map: nest(output, [h, w]),
      outputs: nest(outputs.data, outputs.shape),
      header: `output channel ${o} of ${cO}: the sum over ${plural(cI, "input channel")}, ` +
        `plus bias ${formatValue(b)}`,
      summary,
    };
  }

  // ------------------------------------------------------------------ typed numbers

  /** A number as a text box shows it: seven significant digits, no float32 noise. */
  function typed(value) {
    return String(Number(value.toPrecision(7)));
  }

  /** Rows as a text box shows them: "0 1; 2 3". */
  function gridText(rows) {
    return rows.map((line) => line.map(typed).join(" ")).join("; ");
  }

  /**
   * What the reader typed in a grid's box, as rows of numbers.
   *
   * @param {string} text numbers separated by spaces or commas, rows by ";" or new lines.
   * @param {number} rows how many rows the grid has.
   * @param {number} cols how many numbers each row has.
   * @param {string} name the grid's name in messages, e.g. "K[0, 1]".
   * @returns {number[][]}
   * @throws {Error} saying what is wrong with the text and what to type instead.
   */
  function parseGrid(text, rows, cols, name) {
    const lines = text.split(/[;\n]/).map((line) => line.trim()).filter((line) => line !== "");
    const example = Array(rows).fill(Array(cols).fill("0").join(" ")).join("; ");
    if (lines.length !== rows) {
      throw new Error(`${name} needs ${plural(rows, "row")} of ${plural(cols, "number")}, rows ` +
        `separated by ";" (for example "${example}"); you typed ${plural(lines.length, "row")}`);
    }
    return lines.map((line, r) => {
      const tokens = line.split(/[\s,]+/).filter((token) => token !== "");
      if (tokens.length !== cols) {
        throw new Error(`row ${r + 1} of ${name} has ${plural(tokens.length, "number")}; it ` +
          `needs ${cols} (for example "${example}")`);
      }
      return tokens.map((token) => {
        const value = Number(token);
        if (!Number.isFinite(value)) throw new Error(`${name}: "${token}" is not a number`);
        if (Math.abs(value) > FLOAT32_MAX) {
          throw new Error(`${name}: ${token} is too large for float32 (about ±3.4e38)`);
        }
        return value;
      });
    });
  }

  // ------------------------------------------------------------------ drawing

  /** One grid of numbers as an SVG panel in a figure: cells carry their full value. */
  function panel(caption, rows, fill, words, attrs = {}) {
    const h = rows.length, w = rows[0].length;
    const labels = rows.map((line) => line.map(formatValue));
    // A cell is as wide as its longest label needs (about 2.2 units a character at 3.8-unit
    // text), so "-12.75" stays inside its cell.
    const longest = Math.max(...labels.flat().map((text) => text.length));
    const cw = Math.max(CELL, Math.ceil(longest * 2.2 + 2));
    const figure = element("figure", { class: "cnnx-panel", ...attrs });
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("viewBox", `0 0 ${w * cw} ${h * CELL}`);
    svg.setAttribute("aria-label", words);
    let cells = "";
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const x = c * cw, y = r * CELL;
        // data-value: the whole number behind the two-decimal label (the tests read it).
        cells += `<g data-row="${r}" data-col="${c}" data-value="${rows[r][c]}">` +
          `<rect x="${x}" y="${y}" width="${cw}" height="${CELL}" fill="${fill}"/>` +
          `<text x="${x + cw / 2}" y="${y + CELL / 2}">${labels[r][c]}</text></g>`;
      }
    }
    svg.innerHTML = `<title>${words}</title>${cells}`;
    figure.append(element("figcaption", { class: "cnnx-caption" }, caption), svg);
    // 3.2 px a unit at least, so 3.8-unit text stays above 12 px on a phone; 4.8 at most.
    // The figure is wide enough for its caption on one or two lines.
    const units = (w * cw) / CELL;
    const captionEm = Math.ceil(caption.length * 0.45);
    figure.style.flex = `${units} 1 0px`;
    figure.style.minWidth = `min(100%, max(${units * 32}px, ${captionEm}em))`;
    figure.style.maxWidth = `max(${units * 48}px, ${captionEm}em)`;
    svg.style.maxWidth = `${units * 48}px`;
    return figure;
  }

  /** "3 by 3: 0, 1, 2; 3, 4, 5; 6, 7, 8": a grid in words, for a screen reader. */
  function inWords(rows) {
    return `${rows.length} by ${rows[0].length}: ` +
      rows.map((line) => line.map(formatValue).join(", ")).join("; ");
  }

  function op(symbol) {
    return element("span", { class: "cnnx-op", "aria-hidden": "true" }, symbol);
  }

  const STYLE = baseStyle("cnnx-chan") + `
.cnnx-chan fieldset{margin:0 0 .5rem;padding:0;border:0;min-width:0}
.cnnx-chan legend{padding:0;font-weight:600}
.cnnx-chan .cnnx-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem}
.cnnx-chan .cnnx-numbers .cnnx-grid,.cnnx-chan .cnnx-inputs .cnnx-grid{
  grid-template-columns:repeat(auto-fill,minmax(min(21rem,100%),1fr))}
.cnnx-chan .cnnx-control{display:flex;align-items:center;gap:.5rem;min-width:0}
.cnnx-chan .cnnx-control label{flex:0 0 7.5em}
.cnnx-chan .cnnx-control input{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0;
  font:inherit}
.cnnx-chan .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-chan .cnnx-control input[aria-invalid=true]{outline:2px solid #b00020}
.cnnx-chan .cnnx-hint{margin:.1rem 0 .4rem;color:#555}
.cnnx-chan .cnnx-header{margin:.25rem 0;overflow-wrap:anywhere}
.cnnx-chan .cnnx-row{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .5rem;
  margin:0 0 .5rem}
.cnnx-chan .cnnx-panel{display:flex;flex-direction:column;gap:.15rem;margin:0}
.cnnx-chan .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-chan .cnnx-shown svg rect{stroke:${CURRENT_COLOR};stroke-width:2px}
.cnnx-chan svg rect{stroke:${EDGE_COLOR};stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-chan svg text{font-size:3.8px;text-anchor:middle;dominant-baseline:central;fill:#222;
  font-variant-numeric:tabular-nums}
.cnnx-chan .cnnx-op{font-size:1.4em;padding:0 .1em}
.cnnx-chan .cnnx-subhead{margin:.5rem 0 .25rem;font-weight:600}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-chan-${++instances}`;
    const root = element("div", { class: "cnnx-chan" });
    root.append(element("style", {}, STYLE));

    // The layer: sliders (native range inputs), each with its value beside it.
    const form = controlsFor(model, { id });
    const layerSet = form.fieldset; // named by its legend
    layerSet.append(element("legend", {}, "The layer"));
    const sliderGrid = element("div", { class: "cnnx-grid" });
    layerSet.append(sliderGrid);
    const sliders = {};
    for (const spec of model.get("controls") || []) {
      sliders[spec.name] = form.slider(spec, sliderGrid);
    }
    // The number boxes sit in fieldsets of their own, labelled the same way.
    const controlBox = (parent, name, label, control) => form.box(name, label, control, parent);

    // The numbers the reader types: the shown channel's bias and kernels, the input channels.
    const numbersSet = element("fieldset", { class: "cnnx-numbers" });
    const numbersLegend = element("legend");
    const numbersGrid = element("div", { class: "cnnx-grid" });
    const hintId = `${id}-hint`;
    numbersSet.append(numbersLegend, element("p", { class: "cnnx-hint", id: hintId },
      "Type numbers separated by spaces, rows separated by \";\", then press Enter."),
    numbersGrid);
    const inputsSet = element("fieldset", { class: "cnnx-inputs" });
    const inputsGrid = element("div", { class: "cnnx-grid" });
    inputsSet.append(element("legend", {}, "The input channels in use"), inputsGrid);

    const header = element("p", { class: "cnnx-header" });
    const breakdown = element("div", { class: "cnnx-breakdown" });
    const layerHead = element("p", { class: "cnnx-subhead" });
    const layerRow = element("div", { class: "cnnx-row cnnx-outputs" });
    const pictures = element("div", { class: "cnnx-pictures" });
    pictures.append(header, breakdown, layerHead, layerRow);
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(layerSet, numbersSet, inputsSet, pictures, message, status);
    el.append(root);

    let typingError = ""; // what was wrong with the last thing typed, until it is fixed
    let editorsKey = "";
    let editors = []; // {input, text()} of the boxes, refreshed when not being edited

    /** Hand a typed change to the model, or say what is wrong with it. */
    function commit(input, change) {
      let next;
      try {
        next = change(input.value);
      } catch (err) {
        input.setAttribute("aria-invalid", "true");
        typingError = err.message;
        showStatus();
        return;
      }
      input.removeAttribute("aria-invalid");
      typingError = "";
      for (const [name, value] of Object.entries(next)) model.set(name, value);
      model.save_changes();
      showStatus(); // the same status when the numbers did not change
    }

    function copy(values) {
      return JSON.parse(JSON.stringify(values));
    }

    /** The boxes for output channel o, in_channels cI and kernel size k (rebuilt when one
     * of them changes; otherwise only their text follows the model). */
    function buildEditors(cI, o, k, H, W) {
      numbersLegend.textContent = `The numbers of output channel ${o}`;
      numbersGrid.replaceChildren();
      inputsGrid.replaceChildren();
      editors = [];
      typingError = ""; // the box it was about is gone
      // Each box is described by the hint and by the status line, where a mistake is explained.
      const described = `${hintId} ${id}-status`;
      const bias = element("input", { type: "number", step: "any", inputmode: "decimal",
        "aria-describedby": `${id}-status` });
      controlBox(numbersGrid, "bias", `bias b[${o}]`, bias);
      bias.addEventListener("change", () => commit(bias, (text) => {
        const value = Number(text);
        if (text.trim() === "" || !Number.isFinite(value)) {
          throw new Error(`b[${o}] must be a number, such as 0.5 or -2`);
        }
        if (Math.abs(value) > FLOAT32_MAX) {
          throw new Error(`b[${o}]: ${text} is too large for float32 (about ±3.4e38)`);
        }
        const biases = copy(model.get("biases"));
        biases[o] = value;
        return { biases };
      }));
      editors.push({ input: bias, text: () => typed(model.get("biases")[o]) });
      for (let c = 0; c < cI; c++) {
        const box = element("input", { type: "text", spellcheck: "false", autocomplete: "off",
          "aria-describedby": described });
        controlBox(numbersGrid, `kernel-${c}`, `kernel K[${o}, ${c}]`, box);
        box.addEventListener("change", () => commit(box, (text) => {
          const rows = parseGrid(text, k, k, `K[${o}, ${c}]`);
          const weights = copy(model.get("weights"));
          rows.forEach((line, u) => line.forEach((v, j) => { weights[o][c][u][j] = v; }));
          return { weights };
        }));
        editors.push({ input: box, text: () => gridText(model.get("weights")[o][c]
          .slice(0, k).map((line) => line.slice(0, k))) });
      }
      for (let c = 0; c < cI; c++) {
        const box = element("input", { type: "text", spellcheck: "false", autocomplete: "off",
          "aria-describedby": described });
        controlBox(inputsGrid, `input-${c}`, `input X[${c}]`, box);
        box.addEventListener("change", () => commit(box, (text) => {
          const inputs = copy(model.get("inputs"));
          inputs[c] = parseGrid(text, H, W, `X[${c}]`);
          return { inputs };
        }));
        editors.push({ input: box, text: () => gridText(model.get("inputs")[c]) });
      }
      keepSliderKeys(numbersSet); // a number box's arrows, too
    }

    function showStatus() {
      status.replaceChildren();
      const error = typingError || model.get("error");
      if (error) status.append(element("span", { class: "cnnx-error" }, error));
      else status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    function draw() {
      for (const [name, { input, value }] of Object.entries(sliders)) {
        input.value = model.get(name);
        value.textContent = model.get(name);
      }
      const layer = model.get("layer") || {};
      const inputs = model.get("inputs") || [];
      const holds = model.get("weights") || [];
      // The boxes follow the layer on screen, or the sliders while a setting is refused.
      const cI = layer.in_channels ?? Math.min(model.get("in_channels"), inputs.length);
      const cO = layer.out_channels ?? Math.min(model.get("out_channels"), holds.length);
      const k = layer.kernel_size ?? model.get("kernel_size");
      const o = layer.out_channel ?? Math.min(model.get("out_channel"), cO - 1);
      if (sliders.out_channel) {
        sliders.out_channel.input.max = Math.max(cO - 1, 0);
        sliders.out_channel.input.disabled = cO <= 1; // one output channel: nothing to choose
        sliders.out_channel.input.value = o;
      }
      const H = inputs[0] ? inputs[0].length : 0;
      const W = inputs[0] && inputs[0][0] ? inputs[0][0].length : 0;
      const key = `${cI},${o},${k},${H},${W}`;
      if (key !== editorsKey) {
        editorsKey = key;
        buildEditors(cI, o, k, H, W);
      }
      for (const { input, text } of editors) {
        // A box being edited, or holding refused text, keeps what the reader typed.
        if (input === document.activeElement || input.getAttribute("aria-invalid")) continue;
        try {
          input.value = text();
        } catch (err) {
          input.value = "";
        }
      }
      showStatus();
      const error = model.get("error");
      if (error || !layer.output_size) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        pictures.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        return;
      }
      pictures.hidden = false;
      message.hidden = true;
      header.textContent = model.get("header");
      drawBreakdown(layer);
    }

    function drawBreakdown(layer) {
      const { out_channel: o, in_channels: cI, bias } = layer;
      const partials = model.get("partial_maps");
      const rows = [];
      for (let c = 0; c < cI; c++) {
        const row = element("div", { class: "cnnx-row", "data-in-channel": c });
        const x = layer.input[c], kern = layer.kernel[c];
        row.append(
          panel(`X[${c}]`, x, INPUT_COLOR, `Input channel X[${c}], ${inWords(x)}`,
            { "data-panel": `X[${c}]` }),
          op("⋆"),
          panel(`K[${o}, ${c}]`, kern, KERNEL_COLOR,
            `Kernel slice K[${o}, ${c}], ${inWords(kern)}`, { "data-panel": `K[${o}, ${c}]` }),
          op("="),
          panel(`X[${c}] ⋆ K[${o}, ${c}]`, partials[c], FILLED_COLOR,
            `X[${c}] cross-correlated with K[${o}, ${c}], ${inWords(partials[c])}`,
            { "data-panel": `partial ${c}` }),
        );
        rows.push(row);
      }
      const total = model.get("total_map"), output = model.get("output_map");
      const sum = element("div", { class: "cnnx-row", "data-sum": "" });
      sum.append(
        panel("sum over c", total, FILLED_COLOR,
          `The sum over the ${plural(cI, "input channel")}, ${inWords(total)}`,
          { "data-panel": "sum" }),
        op("+"),
        panel("bias", [[bias]], OUTPUT_COLOR, `Bias b[${o}] = ${formatValue(bias)}`,
          { "data-panel": "bias" }),
        op("="),
        panel(`Y[${o}]`, output, KERNEL_COLOR, `Output channel Y[${o}], ${inWords(output)}`,
          { "data-panel": `Y[${o}]` }),
      );
      rows.push(sum);
      breakdown.replaceChildren(...rows);
      const outputs = model.get("outputs");
      layerHead.textContent = `The layer's ${plural(outputs.length, "output channel")}, ` +
        "each with its own kernel and bias:";
      layerRow.replaceChildren(...outputs.map((Y, a) => panel(
        `Y[${a}], b[${a}] = ${formatValue(layer.biases[a])}`, Y,
        a === o ? KERNEL_COLOR : FILLED_COLOR,
        `Output channel Y[${a}] of the layer${a === o ? " (shown above)" : ""}, with bias ` +
          `${formatValue(layer.biases[a])}, ${inWords(Y)}`,
        { "data-panel": `out ${a}`, class: `cnnx-panel${a === o ? " cnnx-shown" : ""}` })));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["in_channels", "out_channels", "kernel_size", "out_channel", "inputs",
      "weights", "biases", "layer", "partial_maps", "total_map", "output_map", "outputs",
      "header", "summary", "error", "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("ChannelsExplorer", { render, compute });
})();
