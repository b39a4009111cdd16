/**
 * receptive-field.js: the front-end of section 7.5's receptive-field explorer.
 *
 * The same file runs in JupyterLab (Python's ReceptiveFieldExplorer computes the regions with
 * cnnlib.viz.receptive.trace_unit, that is cnnlib.ops.input_region and receptive_field, and
 * syncs them) and on the website (compute() below derives them in the browser with
 * CNNOps.inputRegion and CNNOps.receptiveField, mirroring cnnlib.widgets.receptive_field
 * message for message). See cnn-host.js for the contract and README.md beside this file.
 *
 * Model values. Controls: stack (a key of `stacks`), layer (an index into it), input_size,
 * row, col, and `controls` (the input-size slider's {name, label, min, max}). Data: stacks
 * (stack name -> its layers as {name, kernel, stride, padding, dilation}; Python's, never
 * retyped here). Derived: map_sizes, regions, rf_size, titles, summary, fields and error.
 *
 * Nothing here animates: a new setting is drawn at once.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the regions.
 */
(function () {
  "use strict";

  const { COLORS, show, whole, atLeast, range, element, baseStyle, batched, statusLine,
    controlsFor, cellRect, cellOutline, drawCells } = CNNExplorers.kit;
  const MAP_CELL_PX = 11; // on screen; these cells hold no text

  // ------------------------------------------------------------------ compute (website only)

  /** Python's repr of an (h, w) pair: "(12, 12)". */
  const pair = ([h, w]) => `(${h}, ${w})`;

  /**
   * cnnlib.ops.layer_output_sizes: the grid entering the first layer, then after each, with
   * conv_output_shape's words for a window that does not fit (naming the layer).
   */
  function mapSizes(layers, n) {
    const sizes = [[n, n]];
    for (const spec of layers) {
      const before = sizes[sizes.length - 1];
      const out = [0, 1].map((a) => {
        const k = spec.kernel[a], p = spec.padding[a], s = spec.stride[a], d = spec.dilation[a];
        const span = d * (k - 1) + 1; // how far the dilated window reaches
        const padded = before[a] + 2 * p;
        if (span > padded) {
          throw new Error(
            `layer ${show(spec.name)} with input ${pair(before)}: window of size ${span} ` +
              `(kernel_size=${k}, dilation=${d}) is larger than the padded input ${padded} ` +
              `(input ${before[a]} + 2*padding ${p}); use more padding or a smaller kernel`);
        }
        return Math.floor((padded - span) / s) + 1;
      });
      sizes.push(out);
    }
    return sizes;
  }

  /**
   * The values Python's ReceptiveFieldExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (stacks, stack, layer, input_size, row, col).
   * @returns {object} row and col pulled into the layer's output, map_sizes, regions (for the
   *   input and each map up to the unit's layer, [[row_start, row_stop], [col_start,
   *   col_stop]]), rf_size, titles, summary and fields.
   * @throws {Error} cnnlib's message, for an unknown stack, a layer outside it, an input
   *   size below 1, a layer whose window does not fit its input, or a unit that sees only
   *   padding.
   */
  function compute(state) {
    const stacks = state.stacks || {};
    if (!Object.prototype.hasOwnProperty.call(stacks, state.stack)) {
      throw new Error(`unknown stack ${show(state.stack)}; choose one of ` +
        `${show(Object.keys(stacks))}`);
    }
    const layers = stacks[state.stack];
    const layer = whole(state.layer, "layer");
    if (!(layer >= 0 && layer < layers.length)) {
      throw new Error(`layer must be in [0, ${layers.length}), got ${layer}`);
    }
    const n = whole(state.input_size, "input_size");
    atLeast(n, 1, "input_size");
    const sizes = mapSizes(layers, n);
    const [outH, outW] = sizes[layer + 1];
    // A row/col past the chosen layer's output moves to its last unit (issue 22).
    const row = Math.min(Math.max(whole(state.row, "row"), 0), outH - 1);
    const col = Math.min(Math.max(whole(state.col, "col"), 0), outW - 1);

    // The region in map m is what layers m .. layer make of the unit (cnnlib's trace_unit).
    // Walking back, the first map where no tap lands on a real cell names the layer, as
    // cnnlib.ops.input_region does (the chapter's stacks always see some input).
    const regions = [];
    for (let m = layer; m >= 0; m--) {
      const box = CNNOps.inputRegion(layers.slice(m, layer + 1), row, col, sizes[m]);
      if (box === null) {
        throw new Error(`output unit (${row}, ${col}) sees only padding at layer ` +
          `${show(layers[m].name)}`);
      }
      regions.unshift([[box.top, box.bottom], [box.left, box.right]]);
    }
    const field = CNNOps.receptiveField(layers.slice(0, layer + 1));
    const rfSize = field[field.length - 1].size;
    const names = ["input", ...layers.map((spec) => spec.name)];
    const [[r0, r1], [c0, c1]] = regions[0];
    return {
      row,
      col,
      map_sizes: sizes,
      regions,
      rf_size: rfSize,
      titles: names.map((name, m) => `${name} ${sizes[m][0]}×${sizes[m][1]}`),
      summary: `${layers[layer].name} unit (${row}, ${col}): receptive field ` +
        `${rfSize[0]}×${rfSize[1]}; input rows ${r0}–${r1 - 1}, columns ${c0}–${c1 - 1}`,
      fields: "receptive field after each layer: " + CNNOps.receptiveField(layers)
        .map((info, l) => `${layers[l].name} ${info.size[0]}×${info.size[1]}`).join(" → "),
    };
  }

  // ------------------------------------------------------------------ drawing

  /**
   * Map m of the stack: the unit's region (m <= layer), the unit itself (m = layer + 1), or
   * blank (later maps: the unit does not depend on them).
   */
  function mapPicture(m, state) {
    const [h, w] = state.map_sizes[m];
    const name = state.titles[m];
    let body = "";
    let words;
    if (m <= state.layer) {
      const [[r0, r1], [c0, c1]] = state.regions[m];
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const inside = r >= r0 && r < r1 && c >= c0 && c < c1;
          body += cellRect(r, c, inside ? COLORS.window : COLORS.input,
            `data-row="${r}" data-col="${c}"${inside ? ' data-region="true"' : ""}`);
        }
      }
      body += cellOutline(r0, c0, r1 - r0, c1 - c0);
      words = `${m ? "Map" : "Input"} ${name}: the unit depends on rows ${range(r0, r1 - 1)} ` +
        `and columns ${range(c0, c1 - 1)}, ${r1 - r0} by ${c1 - c0} cells, in orange.`;
    } else if (m === state.layer + 1) {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const unit = r === state.row && c === state.col;
          body += cellRect(r, c, unit ? COLORS.window : COLORS.input,
            `data-row="${r}" data-col="${c}"${unit ? ' data-unit="true"' : ""}`);
        }
      }
      body += cellOutline(state.row, state.col, 1, 1);
      words = `Map ${name}, holding the chosen unit, row ${state.row}, column ${state.col}, ` +
        "in orange. Click a unit, or use the unit row and column controls, to choose another.";
    } else {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) body += cellRect(r, c, COLORS.output, 'class="cnnx-blank"');
      }
      words = `Map ${name}, after the unit's layer: blank, the unit does not depend on it.`;
    }
    return { body, size: [h, w], words };
  }

  const STYLE = baseStyle("cnnx-rf") + `
.cnnx-rf .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-rf .cnnx-control label{flex:0 0 5.5em}
.cnnx-rf .cnnx-control input,.cnnx-rf .cnnx-control select{flex:1 1 auto;min-width:5rem;
  max-width:100%;min-height:24px;margin:0;font:inherit}
.cnnx-rf .cnnx-control-wide{grid-column:1/-1}
.cnnx-rf .cnnx-control-wide select{flex:0 1 auto}
.cnnx-rf .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-rf .cnnx-panels{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem}
.cnnx-rf .cnnx-panel{display:flex;flex-direction:column;gap:.25rem;margin:0;flex:0 0 auto}
.cnnx-rf .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-rf svg rect{stroke:#ffffff;stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-rf svg rect.cnnx-blank{stroke:#b0b0b0}
.cnnx-rf svg rect.cnnx-outline{stroke:${COLORS.current};stroke-width:2px}
.cnnx-rf .cnnx-unit-map rect[data-row]{cursor:pointer}
.cnnx-rf .cnnx-op{font-size:1.4em;padding:0 .1em}
.cnnx-rf .cnnx-status span{display:block}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-rf-${++instances}`;
    const root = element("div", { class: "cnnx-rf" });
    root.append(element("style", {}, STYLE));
    const form = controlsFor(model, { id, label: "Receptive-field settings" });
    const fieldset = form.fieldset;
    const controls = {};
    // Menus: the stack (Python's names) and the layer (its index in the stack; its options
    // follow the stack, so draw() fills them).
    const stacks = Object.keys(model.get("stacks") || {});
    controls.stack = form.menu("stack", "stack", stacks.map((s) => [s, s]));
    // The stack's names are long: its menu gets a row of its own, so none is cut off.
    controls.stack.box.classList.add("cnnx-control-wide");
    controls.layer = form.menu("layer", "unit of", [], Number);
    // Sliders: the input size, then the unit's row and column (range: the layer's output).
    const specs = [...(model.get("controls") || []),
      { name: "row", label: "unit row", min: 0, max: 0 },
      { name: "col", label: "unit col", min: 0, max: 0 }];
    for (const spec of specs) controls[spec.name] = form.slider(spec);

    const panels = element("div", { class: "cnnx-panels" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, panels, message, status);
    el.append(root);

    panels.addEventListener("click", (event) => {
      const picked = event.target.closest(".cnnx-unit-map rect[data-row]");
      if (!picked) return;
      model.set("row", Number(picked.dataset.row));
      model.set("col", Number(picked.dataset.col));
      model.save_changes();
    });

    let shownStack = null; // the stack whose layers the layer menu lists
    function layerMenu() {
      const stack = model.get("stack");
      const layers = (model.get("stacks") || {})[stack] || [];
      if (stack === shownStack) return;
      shownStack = stack;
      controls.layer.input.replaceChildren(...layers.map((spec, k) =>
        element("option", { value: String(k) }, spec.name)));
    }

    function draw() {
      layerMenu();
      for (const [name, { input, value }] of Object.entries(controls)) {
        input.value = String(model.get(name));
        if (value) value.textContent = model.get(name);
      }
      const error = model.get("error");
      const sizes = model.get("map_sizes");
      status.replaceChildren();
      if (error || !sizes || !sizes.length) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        panels.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      panels.hidden = false;
      message.hidden = true;
      const layer = model.get("layer");
      // The unit's row and column run over the chosen layer's output only (issue 22).
      const [outH, outW] = sizes[layer + 1];
      for (const [name, max] of [["row", outH - 1], ["col", outW - 1]]) {
        const input = controls[name].input;
        input.max = max;
        input.disabled = max === 0; // a single row (column): nothing to choose
        input.value = model.get(name);
        input.setAttribute("aria-valuetext", `${model.get(name)} of 0 to ${max}`);
      }
      const state = { layer, row: model.get("row"), col: model.get("col"), map_sizes: sizes,
        regions: model.get("regions"), titles: model.get("titles") };
      panels.replaceChildren();
      sizes.forEach((size, m) => {
        const picture = mapPicture(m, state);
        const [h, w] = picture.size;
        const figure = element("figure", {
          class: `cnnx-panel${m === layer + 1 ? " cnnx-unit-map" : ""}`, "data-map": m,
        });
        const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("role", "img");
        drawCells(svg, picture);
        // One cell size for every map (as the Python figure draws them), so a map half as
        // wide looks half as wide; a map wider than the screen shrinks to fit it.
        figure.style.width = `min(100%, max(${w * MAP_CELL_PX}px, 5.5em))`;
        svg.style.width = `min(100%, ${w * MAP_CELL_PX}px)`;
        figure.append(element("figcaption", {}, state.titles[m]), svg);
        if (m) panels.append(element("span", { class: "cnnx-op", "aria-hidden": "true" }, "→"));
        panels.append(figure);
      });
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")),
        element("span", { class: "cnnx-fields" }, model.get("fields")));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["stack", "layer", "input_size", "row", "col", "stacks", "map_sizes",
      "regions", "rf_size", "titles", "summary", "fields", "error", "controls"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("ReceptiveFieldExplorer", { render, compute });
})();
