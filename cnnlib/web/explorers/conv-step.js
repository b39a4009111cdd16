/**
 * conv-step.js: the front-end of section 7.3's convolution step-through.
 *
 * The same file runs in JupyterLab (Python's ConvStepExplorer computes the values with
 * cnnlib.viz.conv_steps.conv_step, that is cnnlib.ops.corr2d_vectorized and PyTorch, and
 * syncs them) and on the website (compute() below derives them in the browser with
 * CNNOps.conv2d, mirroring cnnlib.widgets.conv_steps message for message). See cnn-host.js
 * for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: step (0-based, counting output cells row by row), padding, stride,
 * and `controls` (the padding and stride sliders' {name, label, min, max}; Python states
 * them). Data: input_values (X as rows), kernel_values (K as rows), interval (ms per step
 * while playing). Derived: geometry, num_steps, padded, products, running, total, output,
 * equation, header, summary, titles and error.
 *
 * Play walks the steps here, in the page, in JupyterLab too: each tick sets `step` as the
 * slider would. Its only animation (a newly filled output cell fading in) runs only where
 * the reader's system does not ask for reduced motion.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the convolution itself.
 */
(function () {
  "use strict";

  const { COLORS, whole, range, element, formatValue, baseStyle, batched, statusLine, controlsFor,
    textCell, cellOutline, drawCells } = CNNExplorers.kit;
  const MAX_WRITTEN_TERMS = 9; // cnnlib.viz.conv_steps.MAX_WRITTEN_TERMS

  // ------------------------------------------------------------------ compute (website only)

  /** A matrix of rows as a CNNOps tensor (float32, as the Python side holds it). */
  function asTensor(rows, shape) {
    return CNNOps.tensor(shape, rows.flat());
  }

  /**
   * The values Python's ConvStepExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (input_values, kernel_values, padding, stride,
   *   step).
   * @returns {object} step pulled into the output, geometry, num_steps, padded, products,
   *   running, total, output, equation, header, summary and titles.
   * @throws {Error} cnnlib's message, for a padding or stride that is not a whole number, or
   *   a kernel larger than the padded input.
   */
  function compute(state) {
    const X = state.input_values;
    const K = state.kernel_values;
    const p = whole(state.padding, "padding");
    const s = whole(state.stride, "stride");
    const wanted = whole(state.step, "step");
    const H = X.length, W = X[0].length;
    const kh = K.length, kw = K[0].length;
    const Hp = H + 2 * p, Wp = W + 2 * p;
    if (kh > Hp || kw > Wp) {
      // cnnlib.ops._check_window, on the padded input that strided_corr2d hands it.
      throw new Error(`kernel K.shape=(${kh}, ${kw}) is larger than input X.shape=(${Hp}, ` +
        `${Wp}) in at least one dimension; pad the input or use a smaller kernel`);
    }
    const x = asTensor(X, [H, W]);
    const k = asTensor(K, [kh, kw]);
    const Y = CNNOps.conv2d(x, { shape: [1, 1, kh, kw], data: k.data }, { padding: p, stride: s });
    const [, outH, outW] = Y.shape; // (1, H', W')
    const count = outH * outW;
    // A step past the new output moves to its last cell (Python's clamp).
    const step = Math.min(Math.max(wanted, 0), count - 1);
    const i = Math.floor(step / outW), j = step % outW;
    const top = i * s, left = j * s;

    const P = CNNOps.pad2d(x, p); // (H + 2p, W + 2p), zeros around X
    const padded = Array.from({ length: Hp }, (_, r) => Array.from(P.data.subarray(r * Wp,
      (r + 1) * Wp)));
    // Products as float32 multiplies them (the product of two float32 values is exact in
    // double, then rounded once), and their running sum accumulated in double, as
    // torch.cumsum does on the CPU, stored as float32.
    const windowValues = [];
    const products = [];
    for (let u = 0; u < kh; u++) {
      windowValues.push(padded[top + u].slice(left, left + kw));
      products.push(windowValues[u].map((v, c) => Math.fround(v * k.data[u * kw + c])));
    }
    const running = [];
    let sum = 0;
    for (const value of products.flat()) {
      sum += value;
      running.push(Math.fround(sum));
    }
    const total = Y.data[step];
    const output = Array.from({ length: outH }, (_, r) => Array.from(Y.data.subarray(r * outW,
      (r + 1) * outW)));

    const terms = windowValues.flat().map((v, t) => `${formatValue(v)}·${formatValue(k.data[t])}`);
    const written = terms.length > MAX_WRITTEN_TERMS ? `sum of ${terms.length} products`
      : terms.join(" + ");
    const equation = `Y[${i}, ${j}] = ${written} = ${formatValue(total)}`;
    return {
      step,
      geometry: {
        input: [H, W],
        kernel: [kh, kw],
        padding: [p, p],
        stride: [s, s],
        padded: [Hp, Wp],
        output: [outH, outW],
        position: [i, j],
        window: [Array.from({ length: kh }, (_, u) => top + u),
          Array.from({ length: kw }, (_, v) => left + v)],
      },
      num_steps: count,
      padded,
      products,
      running,
      total,
      output,
      equation,
      header: `step ${step + 1} of ${count}:  ${equation}`,
      summary: `step ${step + 1} of ${count}: output cell (${i}, ${j}) reads the window at ` +
        `rows ${top}–${top + kh - 1}, columns ${left}–${left + kw - 1} of the padded input; ` +
        `the ${kh * kw} products sum to ${formatValue(total)}`,
      titles: [p ? "padded input X" : "input X", "kernel K", "products", "output Y"],
    };
  }

  // ------------------------------------------------------------------ drawing

  const rowsText = (rows) => rows.map((line) => line.map(formatValue).join(", ")).join("; ");

  /** The (padded) input: padding grey, input blue, this step's window orange. */
  function inputPicture(state) {
    const g = state.geometry;
    const [Hp, Wp] = g.padded, [p] = g.padding, [H, W] = g.input;
    const [rows, cols] = g.window;
    const inRows = new Set(rows), inCols = new Set(cols);
    let cells = "";
    for (let r = 0; r < Hp; r++) {
      for (let c = 0; c < Wp; c++) {
        const isPadding = r < p || r >= H + p || c < p || c >= W + p;
        const windowed = inRows.has(r) && inCols.has(c);
        const fill = windowed ? COLORS.window : isPadding ? COLORS.padding : COLORS.input;
        const role = windowed ? "window" : isPadding ? "padding" : "input";
        cells += textCell(r, c, fill, formatValue(state.padded[r][c]),
          `data-row="${r}" data-col="${c}" data-role="${role}"`);
      }
    }
    const lead = p ? `Padded input, ${Hp} by ${Wp}: the ${H} by ${W} input inside ${p} ` +
      `ring${p === 1 ? "" : "s"} of zeros` : `Input, ${H} by ${W}`;
    return {
      body: cells + cellOutline(rows[0], cols[0], rows.length, cols.length),
      size: [Hp, Wp],
      words: `${lead}. This step's window, outlined, covers rows ` +
        `${range(rows[0], rows[rows.length - 1])} and columns ` +
        `${range(cols[0], cols[cols.length - 1])}: ` +
        `${rowsText(rows.map((r) => cols.map((c) => state.padded[r][c])))}.`,
    };
  }

  function matrixPicture(values, what) {
    let cells = "";
    values.forEach((line, r) => line.forEach((v, c) => {
      cells += textCell(r, c, COLORS.window, formatValue(v),
        `data-row="${r}" data-col="${c}" data-value="${v}"`);
    }));
    return {
      body: cells,
      size: [values.length, values[0].length],
      words: `${what}, ${values.length} by ${values[0].length}: ${rowsText(values)}.`,
    };
  }

  /** The output: cells up to this step written (green), this step's cell orange. */
  function outputPicture(state, step) {
    const g = state.geometry;
    const [outH, outW] = g.output;
    const [i0, j0] = g.position;
    let cells = "";
    const done = [];
    for (let r = 0; r < outH; r++) {
      for (let c = 0; c < outW; c++) {
        const index = r * outW + c;
        const filled = index <= step;
        const current = r === i0 && c === j0;
        const fill = current ? COLORS.window : filled ? COLORS.filled : COLORS.output;
        const value = state.output[r][c];
        if (filled) done.push(formatValue(value));
        // data-value: the whole number behind a written label (the tests read it).
        cells += textCell(r, c, fill, filled ? formatValue(value) : "",
          `data-row="${r}" data-col="${c}"` + (filled ? ` data-value="${value}"` : "") +
          (current ? ' data-current="true" class="cnnx-new"' : ""));
      }
    }
    return {
      body: cells + cellOutline(i0, j0, 1, 1),
      size: [outH, outW],
      words: `Output Y, ${outH} by ${outW}: ${done.length} of ${outH * outW} cells computed ` +
        `so far, row by row: ${done.join(", ")}. This step fills cell (${i0}, ${j0}).`,
    };
  }

  const STYLE = baseStyle("cnnx-step") + `
.cnnx-step .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-step .cnnx-control label{flex:0 0 4.5em}
.cnnx-step .cnnx-control input{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0;font:inherit}
.cnnx-step .cnnx-control output{flex:0 0 auto;min-width:2ch;text-align:right;
  font-variant-numeric:tabular-nums}
.cnnx-step .cnnx-buttons{display:flex;flex-wrap:wrap;gap:.4rem;grid-column:1/-1}
.cnnx-step button{font:inherit;min-height:32px;min-width:44px;padding:.2rem .7rem;cursor:pointer;
  border:1px solid #555;border-radius:4px;background:#f4f4f4;color:#222}
.cnnx-step button:focus-visible{outline:3px solid ${COLORS.current};outline-offset:1px}
.cnnx-step button[aria-disabled=true]{cursor:default;color:#595959;background:#e8e8e8}
.cnnx-step .cnnx-header{margin:.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.cnnx-step .cnnx-panels{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem}
.cnnx-step .cnnx-panel{display:flex;flex-direction:column;gap:.25rem;margin:0}
.cnnx-step .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-step svg rect{stroke:${COLORS.edge};stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-step svg rect.cnnx-outline{stroke:${COLORS.current};stroke-width:3px}
.cnnx-step svg text{font-size:3.8px;text-anchor:middle;dominant-baseline:central;fill:#222;
  font-variant-numeric:tabular-nums;pointer-events:none}
.cnnx-step .cnnx-op{font-size:1.4em;padding:0 .1em}
.cnnx-step .cnnx-running{margin:.25rem 0;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
.cnnx-step .cnnx-note{margin:.25rem 0;min-height:1.35em}
@media (prefers-reduced-motion: no-preference){
  .cnnx-step g.cnnx-new rect{animation:cnnx-step-in .35s ease-out}
}
@keyframes cnnx-step-in{from{fill-opacity:.15}to{fill-opacity:1}}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /** A button's text: its word, and a symbol that screen readers skip (the word names it). */
  function caption(button, symbol, word, after = false) {
    const mark = element("span", { "aria-hidden": "true" }, symbol);
    button.replaceChildren(...(after ? [`${word} `, mark] : [mark, ` ${word}`]));
  }

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: stops playing and removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-step-${++instances}`;
    const root = element("div", { class: "cnnx-step" });
    root.append(element("style", {}, STYLE));

    // A reader's own move of a slider ends playing.
    const form = controlsFor(model, { id, label: "Step-through settings",
      save: () => { stop(""); model.save_changes(); } });
    const fieldset = form.fieldset;
    // Back, Play/Pause, Next: native buttons, so Enter and Space work and a screen reader
    // names them by their text.
    const buttons = element("div", { class: "cnnx-buttons" });
    const back = element("button", { type: "button", name: "back" });
    const play = element("button", { type: "button", name: "play" });
    const next = element("button", { type: "button", name: "next" });
    caption(back, "◀", "Back");
    caption(play, "▶", "Play");
    caption(next, "▶", "Next", true);
    buttons.append(back, play, next);
    fieldset.append(buttons);

    const inputs = {};
    // The step's range is the current output's cells: set on every drawing from num_steps.
    inputs.step = form.slider({ name: "step", label: "step", min: 0, max: 0 });
    for (const spec of model.get("controls") || []) inputs[spec.name] = form.slider(spec);

    const header = element("p", { class: "cnnx-header" });
    const panels = element("div", { class: "cnnx-panels" });
    const running = element("p", { class: "cnnx-running" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    // What Play did (restarted, stopped at the last step): announced, apart from the status
    // line, which always says what the explorer shows.
    const note = element("p", { class: "cnnx-note", "aria-live": "polite" });
    const status = statusLine(`${id}-status`);
    const kinds = ["input", "kernel", "products", "output"];
    const operators = ["⋆", "→", "Σ →"];
    const figures = kinds.map((kind, n) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-${kind}` });
      const caption = element("figcaption", { class: "cnnx-caption" });
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      figure.append(caption, svg);
      if (n) panels.append(element("span", { class: "cnnx-op", "aria-hidden": "true" },
        operators[n - 1]));
      panels.append(figure);
      return { figure, caption, svg };
    });

    root.append(fieldset, header, panels, running, message, note, status);
    el.append(root);

    // ---------------------------------------------------------------- playing
    let timer = null;

    function lastStep() {
      return Math.max(0, (model.get("num_steps") || 1) - 1);
    }

    function go(step) {
      model.set("step", step);
      model.save_changes();
    }

    /** Stop playing; say `words` (null: keep the note as it is). */
    function stop(words) {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
      caption(play, "▶", "Play");
      if (words !== null) note.textContent = words;
    }

    function tick() {
      const step = model.get("step");
      if (model.get("error") || step >= lastStep()) {
        stop(model.get("error") ? "Stopped: these settings cannot be drawn." :
          `Stopped at the last step, ${lastStep() + 1} of ${lastStep() + 1}.`);
        return;
      }
      go(step + 1);
      if (step + 1 >= lastStep()) {
        stop(`Stopped at the last step, ${lastStep() + 1} of ${lastStep() + 1}; ` +
          "press Play to start again from step 1.");
      }
    }

    play.addEventListener("click", () => {
      if (timer !== null) {
        stop(`Paused at step ${model.get("step") + 1} of ${lastStep() + 1}.`);
        return;
      }
      if (model.get("error")) {
        note.textContent = "Nothing to play: these settings cannot be drawn.";
        return;
      }
      if (model.get("step") >= lastStep()) {
        // At the last step there is nothing left to play: start again, and say so.
        go(0);
        note.textContent = `Restarted from step 1 of ${lastStep() + 1}.`;
      } else {
        note.textContent = `Playing from step ${model.get("step") + 1} of ${lastStep() + 1}.`;
      }
      if (lastStep() === 0) {
        note.textContent = "There is only one step to show.";
        return;
      }
      caption(play, "❚❚", "Pause");
      timer = setInterval(tick, Math.max(100, model.get("interval") || 1200));
    });
    back.addEventListener("click", () => {
      stop("");
      if (!model.get("error") && model.get("step") > 0) go(model.get("step") - 1);
    });
    next.addEventListener("click", () => {
      stop("");
      if (!model.get("error") && model.get("step") < lastStep()) go(model.get("step") + 1);
    });

    // ---------------------------------------------------------------- drawing
    function draw() {
      for (const [name, { input, value }] of Object.entries(inputs)) {
        input.value = model.get(name);
        value.textContent = model.get(name);
      }
      const error = model.get("error");
      const g = model.get("geometry");
      status.replaceChildren();
      if (error || !g || !g.output) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        panels.hidden = header.hidden = running.hidden = true;
        back.setAttribute("aria-disabled", "true");
        next.setAttribute("aria-disabled", "true");
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        if (timer !== null) stop("Stopped: these settings cannot be drawn.");
        return;
      }
      panels.hidden = header.hidden = running.hidden = false;
      message.hidden = true;
      const step = model.get("step");
      const count = model.get("num_steps");
      // The step slider runs over this output's cells only (issue 22: it ran past them).
      const stepInput = inputs.step.input;
      stepInput.max = count - 1;
      stepInput.disabled = count === 1; // one cell: nothing to step through
      stepInput.value = step;
      stepInput.setAttribute("aria-valuetext", `step ${step + 1} of ${count}`);
      inputs.step.value.textContent = `${step + 1} of ${count}`;
      // aria-disabled, not disabled: the button keeps the keyboard focus at either end.
      back.setAttribute("aria-disabled", String(step === 0));
      next.setAttribute("aria-disabled", String(step >= count - 1));

      const state = {};
      for (const name of ["geometry", "padded", "output"]) state[name] = model.get(name);
      const products = model.get("products");
      const pictures = [
        inputPicture(state),
        matrixPicture(model.get("kernel_values"), "Kernel K"),
        matrixPicture(products, "Products of the window and the kernel, cell by cell"),
        outputPicture(state, step),
      ];
      const captions = model.get("titles") || [];
      pictures.forEach((picture, n) => {
        const { figure, caption, svg } = figures[n];
        const [h, w] = picture.size;
        caption.textContent = captions[n] || "";
        drawCells(svg, picture);
        // Cells at least 32 px wide (values readable on a phone), at most 48 px.
        figure.style.flex = `${w} 1 0px`;
        figure.style.minWidth = `min(100%, ${w * 32}px)`;
        figure.style.maxWidth = `max(${w * 48}px, 8em)`;
        svg.style.maxWidth = `${w * 48}px`;
      });
      // The running sum, product by product: the last one is this step's output.
      const sums = model.get("running") || [];
      running.textContent = `running sum, product by product: ${sums.map(formatValue)
        .join(" → ")}`;
      running.dataset.values = JSON.stringify(sums);
      header.textContent = model.get("header");
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["step", "padding", "stride", "input_values", "kernel_values", "geometry",
      "num_steps", "padded", "products", "running", "total", "output", "equation", "header",
      "summary", "titles", "error", "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      stop(null);
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("ConvStepExplorer", { render, compute });
})();
