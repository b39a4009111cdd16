/**
 * parameter-count.js: the front-end of section 7.1's parameter counter.
 *
 * The same file runs in JupyterLab (Python's ParameterCountExplorer counts with PyTorch's own
 * layers, cnnlib.explain.equivariance.layer_counts, and syncs the numbers) and on the website
 * (compute() below counts with the same formulas in whole numbers, BigInt, and writes them as
 * cnnlib.widgets.dense_vs_conv.count_summary and cnnlib.viz.equivariance.count_text do).
 * See cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: side_index, kernel_index, c_in_index, c_out_index (each slider's
 * position among the values it offers) and `controls` (the sliders' {name, label, min, max};
 * Python states them). Data: choices (index name -> the values its slider offers). Derived:
 * dense_count, conv_count, labels (both counts as the bars write them, convolution first),
 * title, summary and error.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, pyGeneral, grouped, baseStyle, batched, statusLine,
    controlsFor } = CNNExplorers.kit;
  const NAMES = ["side_index", "kernel_index", "c_in_index", "c_out_index"];
  const BAR_COLORS = ["#2a7ab9", "#c0392b"]; // cnnlib.viz.equivariance.count_figure's
  const SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹";

  // ------------------------------------------------------------------ Python's number format

  /** cnnlib.viz.equivariance.count_text: "4,160", or "1.64×10¹⁶" from a million up. */
  function countText(n) {
    if (n < 1000000n) return grouped(n.toString());
    const exponent = n.toString().length - 1;
    const power = [...String(exponent)].map((d) => SUPERSCRIPTS[Number(d)]).join("");
    return `${pyFixed(Number(n) / Number(`1e${exponent}`), 2)}×10${power}`;
  }

  // ------------------------------------------------------------------ compute (website only)

  /**
   * The values Python's ParameterCountExplorer derives, counted in the browser.
   *
   * @param {object} state the model's values (the four *_index, choices, controls).
   * @returns {object} dense_count, conv_count, labels, title and summary.
   * @throws {Error} cnnlib's message, for a position past a slider or a kernel larger than
   *   the image.
   */
  function compute(state) {
    const labels = Object.fromEntries((state.controls || []).map((c) => [c.name, c.label]));
    const chosen = NAMES.map((name) => {
      const values = state.choices[name];
      const index = state[name];
      if (!Number.isInteger(index) || index < 0 || index >= values.length) {
        throw new Error(`${name} must be 0 to ${values.length - 1}, a position of the ` +
          `${labels[name]} slider (${values.join(", ")}); got ${show(index)}`);
      }
      return values[index];
    });
    const [side, kernel, cIn, cOut] = chosen; // cnnlib.explain.equivariance.layer_counts
    if (kernel > side) {
      throw new Error(`a ${kernel}×${kernel} kernel does not fit a ${side}×${side} image`);
    }
    // nn.Linear(c_in·side², c_out·side²) and nn.Conv2d(c_in, c_out, kernel, padding="same"):
    // weights plus biases, in whole numbers (the dense count passes 2^53).
    const values = BigInt(side) * BigInt(side);
    const [ci, co, k] = [BigInt(cIn), BigInt(cOut), BigInt(kernel)];
    const dense = ci * values * (co * values) + co * values;
    const conv = co * ci * k * k + co;
    // Python's float arithmetic on exact whole numbers: both counts are exact doubles here.
    const ratio = Number(dense) / Number(conv);
    const gigabytes = Number(dense * 4n) / 1e9;
    const summary =
      `dense: (${cIn}·${grouped(values.toString())}) inputs × (${cOut}·` +
      `${grouped(values.toString())}) outputs + ${grouped((co * values).toString())} biases = ` +
      `${grouped(dense.toString())}; convolution: ${cOut}·${cIn}·${kernel}² + ${cOut} = ` +
      `${grouped(conv.toString())}. The dense layer has ${pyFixed(ratio, 0, { comma: true })}× as many, ` +
      `${pyGeneral(gigabytes, 3)} GB in float32`;
    return {
      dense_count: Number(dense),
      conv_count: Number(conv),
      labels: [countText(conv), countText(dense)],
      title: `${cIn}×${side}×${side} image → ${cOut}×${side}×${side} hidden values`,
      summary,
    };
  }

  // ------------------------------------------------------------------ drawing

  // The bar chart in SVG units: 360 wide, so its text (13 units) stays above 11 px on a phone.
  const WIDTH = 360, LEFT = 92, RIGHT = 340, BAR = 26, TOP = 8;

  /** Both counts as bars on a log scale, as cnnlib.viz.equivariance.count_figure draws them. */
  function barChart(counts, labels) {
    const top = Math.ceil(Math.log10(Math.max(...counts))) + 3; // room for the labels
    const x = (v) => LEFT + ((RIGHT - LEFT) * Math.log10(v)) / top;
    const names = ["convolution", "dense layer"];
    let body = "";
    counts.forEach((count, i) => {
      const y = TOP + i * (BAR + 12);
      body +=
        `<text x="${LEFT - 6}" y="${y + BAR / 2}" class="cnnx-name">${names[i]}</text>` +
        `<rect x="${LEFT}" y="${y}" width="${Math.max(x(count) - LEFT, 0.5)}" height="${BAR}" ` +
        `fill="${BAR_COLORS[i]}" data-count="${count}"/>` +
        `<text x="${x(count * 1.6)}" y="${y + BAR / 2}" class="cnnx-count">${labels[i]}</text>`;
    });
    const axis = TOP + 2 * (BAR + 12) - 4;
    body += `<line x1="${LEFT}" x2="${RIGHT}" y1="${axis}" y2="${axis}" class="cnnx-axis"/>`;
    const step = Math.max(1, Math.ceil(top / 5));
    for (let p = 0; p <= top; p += step) {
      const power = [...String(p)].map((d) => SUPERSCRIPTS[Number(d)]).join("");
      body += `<line x1="${x(10 ** p)}" x2="${x(10 ** p)}" y1="${axis}" y2="${axis + 4}" ` +
        `class="cnnx-axis"/><text x="${x(10 ** p)}" y="${axis + 15}" class="cnnx-tick">` +
        `10${power}</text>`;
    }
    body += `<text x="${(LEFT + RIGHT) / 2}" y="${axis + 32}" class="cnnx-tick">` +
      "parameters (log scale)</text>";
    return { body, height: axis + 38 };
  }

  const STYLE = baseStyle("cnnx-count-explorer") + `
.cnnx-count-explorer{font-size:max(12px,1em);line-height:1.35;color:#222;max-width:44rem}
.cnnx-count-explorer .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,
  minmax(14rem,1fr));gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-count-explorer .cnnx-control label{flex:0 0 6.5em}
.cnnx-count-explorer .cnnx-control input{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0}
.cnnx-count-explorer .cnnx-control output{flex:0 0 4ch;text-align:right;
  font-variant-numeric:tabular-nums}
.cnnx-count-explorer figure{margin:0}
.cnnx-count-explorer figcaption{font-weight:600;margin:.25rem 0}
.cnnx-count-explorer svg{display:block;width:100%;max-width:30rem;height:auto;overflow:visible}
.cnnx-count-explorer svg text{font-size:13px;dominant-baseline:central;fill:#222}
.cnnx-count-explorer svg text.cnnx-name{text-anchor:end}
.cnnx-count-explorer svg text.cnnx-tick{text-anchor:middle;font-size:12px}
.cnnx-count-explorer svg .cnnx-axis{stroke:#555;stroke-width:1}
.cnnx-count-explorer .cnnx-message{padding:1rem;border:1px solid #b00020;color:#b00020;
  border-radius:4px}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-count-${++instances}`;
    const root = element("div", { class: "cnnx-count-explorer" });
    root.append(element("style", {}, STYLE));
    const controls = controlsFor(model, { id, label: "Layer settings" });
    const fieldset = controls.fieldset;
    const inputs = {};
    // Sliders over positions 0, 1, ...; the value each stands for is beside it and is what a
    // screen reader announces (aria-valuetext, set in draw()).
    for (const spec of model.get("controls") || []) inputs[spec.name] = controls.slider(spec);

    const figure = element("figure", { class: "cnnx-figure" });
    const caption = element("figcaption");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "img");
    figure.append(caption, svg);
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, figure, message, status);
    el.append(root);

    function draw() {
      const choices = model.get("choices") || {};
      for (const [name, { input, value }] of Object.entries(inputs)) {
        const index = model.get(name);
        const shown = (choices[name] || [])[index];
        input.value = index;
        input.setAttribute("aria-valuetext", shown === undefined ? String(index) : `${shown}`);
        value.textContent = shown === undefined ? "?" : shown;
      }
      const error = model.get("error");
      status.replaceChildren();
      if (error || !model.get("summary")) {
        // A bad setting: say why, here and in the status line; the sliders stay usable.
        figure.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      figure.hidden = false;
      message.hidden = true;
      const counts = [model.get("conv_count"), model.get("dense_count")];
      const labels = model.get("labels");
      const chart = barChart(counts, labels);
      const words = `${model.get("title")}: the convolution has ${labels[0]} parameters, ` +
        `the dense layer ${labels[1]}, on a log scale.`;
      caption.textContent = model.get("title");
      svg.setAttribute("viewBox", `0 0 ${WIDTH} ${chart.height}`);
      svg.setAttribute("aria-label", words);
      svg.innerHTML = `<title>${words}</title>${chart.body}`;
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = [...NAMES, "choices", "controls", "dense_count", "conv_count", "labels",
      "title", "summary", "error"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("ParameterCountExplorer", { render, compute });
})();
