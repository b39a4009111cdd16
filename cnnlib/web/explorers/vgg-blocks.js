/**
 * vgg-blocks.js: the front-end of section 8.2's VGG block explorer.
 *
 * The same file runs in JupyterLab (Python's VGGBlockExplorer computes every number with
 * PyTorch and cnnlib.viz.vgg_blocks.block_field and syncs them) and on the website
 * (compute() below runs the shipped VGG-11 in the reader's browser with CNNNetworks,
 * cnn-networks.js, on the pixels Python resized, and the receptive-field arithmetic with
 * CNNOps, cnn-ops.js, building the same values and words as cnnlib.widgets.vgg_blocks).
 * See cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: example (position in `examples`), block (1-based), unit (one of
 * `units`), row, col, and `controls` (the sliders' {name, label, min, max}). Data from
 * Python: examples, labels_shown (each example's true class), units, classes, palettes
 * (matplotlib's colour maps, 256 "rrggbb" each), network {key, side, pixels: base64 uint8
 * (N, side, side)}, blocks (per block: summary, map, layers [{kernel, stride, padding}]).
 * Page only: picture and picture_alt (Python's drawing of the first setting), visible (set
 * once the explorer is on screen: the network loads only then). Derived: row and col (pulled
 * into the block's output, or placed by a named unit), field_info, maps_shown, predicted,
 * probability, summary, shown ({example, block} they belong to), error.
 *
 * Needs CNNOps (cnn-ops.js) and CNNNetworks (cnn-networks.js) on the page; in JupyterLab
 * neither is used.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, fromBase64, baseStyle, batched, statusLine, controlsFor, tile,
    mapStyle, colourer, pictureURL, palette256, roundHalfEven,
    visibleWhenInView } = CNNExplorers.kit;
  const DIVERGING = "RdBu_r"; // cnnlib.viz.images.DIVERGING_CMAP
  const SLIDERS = "row/col sliders"; // cnnlib.widgets.vgg_blocks.SLIDERS
  const SHOWN_CHANNELS = 8; // cnnlib.viz.vgg_blocks.SHOWN_CHANNELS
  const PER_ROW = 4; // vgg_block_figure: up to 4 maps per row
  const MAX_OVERHANG = 16; // vgg_block_figure's max_overhang
  const FIELD_COLOR = "#ff7f0e"; // matplotlib's tab:orange (cnnlib.viz.vgg_blocks.FIELD_COLOR)
  const PADDING_GREY = "#d9d9d9"; // the input panel's "0.85" background
  const SVG = "http://www.w3.org/2000/svg";

  /** cnnlib.widgets.vgg_blocks.UNITS: where each named unit sits in an h×w output. */
  const UNITS = {
    centre: (h, w) => [Math.floor(h / 2), Math.floor(w / 2)],
    "top edge, middle": (h, w) => [0, Math.floor(w / 2)],
    "top-left corner": () => [0, 0],
  };

  // ------------------------------------------------------------------ shared arithmetic

  const decoded = new WeakMap(); // network description -> its pixels as bytes
  /** The uint8 pixels (N, side, side) Python resized for the network. */
  function pixelsOf(network) {
    if (!decoded.has(network)) decoded.set(network, fromBase64(network.pixels));
    return decoded.get(network);
  }

  // ------------------------------------------------------------------ compute (website only)

  const runs = new WeakMap(); // network description -> Map(example -> Promise of outputs)

  /** VGG-11's outputs for example k (every block's maps), run once per example. */
  function outputs(network, blocks, k) {
    if (!runs.has(network)) runs.set(network, new Map());
    const cache = runs.get(network);
    if (!cache.has(k)) {
      const answer = CNNNetworks.load(network.key).then((net) => {
        const size = network.side * network.side;
        const bytes = pixelsOf(network).subarray(k * size, (k + 1) * size);
        // Python's input: the same uint8 pixels divided by 255 (resize_images).
        const image = new Float32Array(size);
        for (let i = 0; i < size; i++) image[i] = bytes[i] / 255;
        return net.run(image, { maps: blocks.map((b) => b.map) });
      });
      answer.catch(() => cache.delete(k)); // a later request may try again
      cache.set(k, answer);
    }
    return cache.get(k);
  }

  /** A whole number in low..high, or cnnlib's message (compare_stages.whole_number). */
  function wholeIn(value, name, low, high) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > high) {
      throw new Error(`${name} must be a whole number in ${low}..${high}, got ${show(value)}`);
    }
    return value;
  }

  /**
   * cnnlib.viz.vgg_blocks.block_field: where unit (row, col) of block b looks in the input,
   * with CNNOps's receptive-field arithmetic (cnnlib.ops's, line for line).
   */
  function blockField(blocks, b, row, col, side) {
    const layers = blocks.slice(0, b).flatMap((block) => block.layers);
    const info = CNNOps.receptiveField(layers).at(-1);
    let n = side;
    for (const { kernel, stride, padding } of layers) {
      n = CNNOps.outputSize(n, kernel, padding, stride);
    }
    const r = CNNOps.inputRegion(layers, row, col, side);
    const position = [row, col];
    const box = [0, 1].map((a) => {
      const centre = info.start[a] + position[a] * info.jump[a];
      const start = roundHalfEven(centre - (info.size[a] - 1) / 2);
      return [start, start + info.size[a]];
    });
    const region = [[r.top, r.bottom], [r.left, r.right]];
    const area = (r.bottom - r.top) * (r.right - r.left);
    return { block: b, position, output: [n, n], size: info.size.slice(), box, region,
      padding_fraction: 1 - area / (info.size[0] * info.size[1]) };
  }

  /** BlockField.describe, word for word. */
  function describeField(f) {
    const [[r0, r1], [c0, c1]] = f.region;
    return `unit (${f.position[0]}, ${f.position[1]}) of block ${f.block}'s ` +
      `${f.output[0]}×${f.output[1]} output: receptive field ${f.size[0]}×${f.size[1]}; it ` +
      `reads input rows ${r0}–${r1 - 1}, columns ${c0}–${c1 - 1}; ` +
      `${pyFixed(100 * f.padding_fraction, 0)}% of the field is padding`;
  }

  /** torch.argmax: the first largest value. */
  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  /**
   * The values Python's VGGBlockExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (controls, the data from Python, and visible
   *   once the explorer is on screen).
   * @returns {object|Promise<object>} nothing yet while the explorer is off screen (the
   *   network loads only when it is shown); then a Promise of row, col, field_info,
   *   maps_shown, predicted, probability, summary and shown.
   * @throws {Error} cnnlib's message, for an example, block or unit out of range.
   */
  function compute(state) {
    const count = (state.examples || []).length;
    const blocks = state.blocks || [];
    const k = wholeIn(state.example, "example", 0, count - 1);
    const b = wholeIn(state.block, "block", 1, blocks.length);
    const units = state.units || [];
    if (!units.includes(state.unit)) {
      throw new Error(`unknown unit ${show(state.unit)}; choose one of ${show(units)}`);
    }
    if (!state.visible) return {};
    if (typeof CNNNetworks === "undefined" || typeof CNNNetworks.load !== "function") {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    if (typeof CNNOps === "undefined") {
      throw new Error("cnn-ops.js is not loaded: add its script tag before this explorer's");
    }
    const network = state.network;
    return outputs(network, blocks, k).then((out) => {
      const map = out.maps[blocks[b - 1].map];
      const [c, h, w] = map.shape.slice(1);
      let row, col;
      if (UNITS[state.unit]) {
        [row, col] = UNITS[state.unit](h, w);
      } else { // the sliders, pulled into the block's output
        row = Math.min(Math.max(state.row | 0, 0), h - 1);
        col = Math.min(Math.max(state.col | 0, 0), w - 1);
      }
      const field = blockField(blocks, b, row, col, network.side);
      const predicted = argmax(out.probabilities);
      const probability = out.probabilities[predicted];
      const shown = Math.min(c, SHOWN_CHANNELS);
      const classes = state.classes;
      const truth = classes[(state.labels_shown || [])[k]];
      return {
        row, col,
        field_info: field,
        maps_shown: { shape: [c, h, w], tiles: [shown, h, w],
          values: Array.from(map.data.subarray(0, shown * h * w)) },
        predicted, probability,
        summary: [
          `block ${b}: ${blocks[b - 1].summary} → ${c}×${h}×${w}`,
          describeField(field),
          `predicted ${classes[predicted]} with probability ${pyFixed(probability, 2)} ` +
            `(true ${truth})`,
        ],
        shown: { example: k, block: b },
      };
    });
  }

  // ------------------------------------------------------------------ drawing

  /** An SVG element with attributes. */
  function svgNode(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    return node;
  }

  /** Fill svg (role img) with a title, an image and outlines, in pixel coordinates. */
  function picture(svg, viewBox, words, parts) {
    svg.setAttribute("viewBox", viewBox.join(" "));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", words);
    const title = svgNode("title", {});
    title.textContent = words;
    svg.replaceChildren(title, ...parts);
  }

  const STYLE = baseStyle("cnnx-vgg") + `
.cnnx-vgg .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-vgg .cnnx-control label{flex:0 0 4.5em}
.cnnx-vgg .cnnx-control input,.cnnx-vgg .cnnx-control select{flex:1 1 auto;min-width:5rem;
  min-height:24px;margin:0;font:inherit}
.cnnx-vgg .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-vgg .cnnx-panels{display:flex;flex-wrap:wrap;gap:.75rem 1.5rem;align-items:flex-start}
.cnnx-vgg .cnnx-panel{margin:0;display:flex;flex-direction:column;gap:.25rem}
.cnnx-vgg .cnnx-field{flex:1 1 12rem;max-width:18rem}
.cnnx-vgg .cnnx-mapsbox{flex:2 1 16rem;max-width:32rem}
.cnnx-vgg svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-vgg svg image{image-rendering:pixelated}
.cnnx-vgg svg rect.cnnx-box{stroke-dasharray:4 3}
.cnnx-vgg svg rect.cnnx-box,.cnnx-vgg svg rect.cnnx-region,.cnnx-vgg svg rect.cnnx-unit{
  fill:none;stroke:${FIELD_COLOR};vector-effect:non-scaling-stroke}
.cnnx-vgg svg rect.cnnx-box{stroke-width:1.5px}
.cnnx-vgg svg rect.cnnx-region{stroke-width:3px}
.cnnx-vgg svg rect.cnnx-unit{stroke-width:2px}
.cnnx-vgg .cnnx-scale{margin:0;font-variant-numeric:tabular-nums}
.cnnx-vgg .cnnx-python{margin:0}
.cnnx-vgg .cnnx-python img{display:block;max-width:100%;height:auto}
.cnnx-vgg .cnnx-python figcaption{font-style:italic}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-vgg-${++instances}`;
    // The page's model (cnn-host.js's LocalModel) computes in the browser and has settled();
    // anywidget's has not: in JupyterLab Python computes and nothing is loaded here.
    const local = typeof model.settled === "function";
    const root = element("div", { class: "cnnx-vgg" });
    root.append(element("style", {}, STYLE));

    const form = controlsFor(model, { id, label: "VGG block settings" });
    const fieldset = form.fieldset;
    const controls = {};
    const specs = Object.fromEntries((model.get("controls") || []).map((s) => [s.name, s]));
    // The image menu's values are positions (example is an index), the unit's are names.
    controls.example = form.menu("example", "image",
      (model.get("examples") || []).map((text, i) => [i, text]), Number);
    controls.block = form.slider(specs.block || { name: "block", label: "block", min: 1, max: 1 });
    controls.unit = form.menu("unit", "unit", (model.get("units") || []).map((t) => [t, t]));
    controls.row = form.slider(specs.row || { name: "row", label: "unit row", min: 0, max: 0 });
    controls.col = form.slider(specs.col || { name: "col", label: "unit col", min: 0, max: 0 });

    // Python's picture of the first setting: shown until the browser's answer arrives.
    const python = element("figure", { class: "cnnx-python", hidden: "" });
    const first = model.get("picture");
    if (first) {
      python.append(element("img", { src: `data:image/png;base64,${first}`,
        alt: model.get("picture_alt") || "" }));
      python.append(element("figcaption", {},
        `Drawn by Python for image ${(model.get("examples") || [])[model.get("example")]}, ` +
        `block ${model.get("block")}, unit ${model.get("unit")}.`));
    }
    const panels = element("div", { class: "cnnx-panels" });
    const fieldFigure = element("figure", { class: "cnnx-panel cnnx-field" });
    const fieldCaption = element("figcaption");
    const fieldSVG = svgNode("svg", { class: "cnnx-input" });
    fieldFigure.append(fieldCaption, fieldSVG);
    const mapsFigure = element("figure", { class: "cnnx-panel cnnx-mapsbox" });
    const mapsCaption = element("figcaption");
    const mapsSVG = svgNode("svg", { class: "cnnx-maps" });
    const scale = element("p", { class: "cnnx-scale" });
    mapsFigure.append(mapsCaption, mapsSVG, scale);
    panels.append(fieldFigure, mapsFigure);
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, python, panels, message, status);
    el.append(root);

    function drawField(f, k) {
      const network = model.get("network");
      const side = network.side;
      const [[b0, b1], [d0, d1]] = f.box;
      const loR = Math.max(Math.min(b0, 0), -MAX_OVERHANG);
      const hiR = Math.min(Math.max(b1, side), side + MAX_OVERHANG);
      const loC = Math.max(Math.min(d0, 0), -MAX_OVERHANG);
      const hiC = Math.min(Math.max(d1, side), side + MAX_OVERHANG);
      const bytes = pixelsOf(network).subarray(k * side * side, (k + 1) * side * side);
      const url = pictureURL(side, side, (p) => [bytes[p], bytes[p], bytes[p]]);
      const [[r0, r1], [c0, c1]] = f.region;
      const percent = pyFixed(100 * f.padding_fraction, 0);
      fieldCaption.textContent =
        `input ${side}×${side}: field ${f.size[0]}×${f.size[1]}, ${percent}% padding (grey)`;
      const words = `Image ${(model.get("examples") || [])[k]}, ${side} by ${side} pixels, ` +
        `with the receptive field of unit (${f.position[0]}, ${f.position[1]}) of block ` +
        `${f.block}: a dashed ${f.size[0]} by ${f.size[1]} box from row ${b0} to ${b1 - 1} and ` +
        `column ${d0} to ${d1 - 1} (grey where it reaches past the image, into padding), and a ` +
        `solid box around the pixels it reads, rows ${r0} to ${r1 - 1}, columns ${c0} to ` +
        `${c1 - 1}.`;
      picture(fieldSVG, [loC, loR, hiC - loC, hiR - loR], words, [
        svgNode("rect", { x: loC, y: loR, width: hiC - loC, height: hiR - loR,
          fill: PADDING_GREY }),
        svgNode("image", { x: 0, y: 0, width: side, height: side, href: url,
          preserveAspectRatio: "none" }),
        svgNode("rect", { class: "cnnx-box", x: d0, y: b0, width: d1 - d0, height: b1 - b0 }),
        svgNode("rect", { class: "cnnx-region", x: c0, y: r0, width: c1 - c0, height: r1 - r0 }),
      ]);
    }

    function drawMaps(maps, f) {
      const [c, h, w] = maps.shape;
      const [n] = maps.tiles;
      const mosaic = tile(maps.values, maps.tiles, PER_ROW, 1);
      const style = mapStyle(mosaic.data);
      const colourOf = colourer(palette256(model.get("palettes")[style.palette]), style.low,
        style.high);
      const url = pictureURL(mosaic.rows, mosaic.cols, (p) => colourOf(mosaic.data[p]));
      const [i, j] = f.position;
      const marks = [];
      for (let m = 0; m < n; m++) {
        const gr = Math.floor(m / PER_ROW), gc = m % PER_ROW;
        marks.push(svgNode("rect", { class: "cnnx-unit", x: gc * (w + 1) + j,
          y: gr * (h + 1) + i, width: 1, height: 1 }));
      }
      mapsCaption.textContent = `block ${f.block} output ${c}×${h}×${w}: first ${n} ` +
        `channels, unit (${i}, ${j}) marked`;
      const words = `The first ${n} of block ${f.block}'s ${c} feature maps, each ${h} by ` +
        `${w}, ${style.palette === DIVERGING ? "red positive, blue negative"
          : "dark low, yellow high"}, colours from ${pyFixed(style.low, 2)} to ` +
        `${pyFixed(style.high, 2)}; unit (${i}, ${j}) is outlined in each.`;
      picture(mapsSVG, [0, 0, mosaic.cols, mosaic.rows], words, [
        svgNode("image", { x: 0, y: 0, width: mosaic.cols, height: mosaic.rows, href: url,
          preserveAspectRatio: "none" }),
        ...marks,
      ]);
      scale.replaceChildren(
        document.createTextNode(style.palette === DIVERGING
          ? "red positive, blue negative, from " : "colour scale from "),
        element("span", { class: "cnnx-low", "data-value": String(style.low) },
          pyFixed(style.low, 2)),
        document.createTextNode(" to "),
        element("span", { class: "cnnx-high", "data-value": String(style.high) },
          pyFixed(style.high, 2)));
    }

    function draw() {
      for (const [name, { input, value }] of Object.entries(controls)) {
        input.value = String(model.get(name));
        if (value) value.textContent = model.get(name);
      }
      const named = (model.get("units") || []).includes(model.get("unit")) &&
        model.get("unit") !== SLIDERS;
      const error = model.get("error");
      const f = model.get("field_info") || {};
      const maps = model.get("maps_shown") || {};
      const shown = model.get("shown") || {};
      const ready = Boolean(f.output && maps.shape);
      // On the page the explorer is aria-busy from a change until its answer is in (the
      // network runs asynchronously); in JupyterLab Python's values arrive together.
      const waiting = !ready || shown.example !== model.get("example") ||
        shown.block !== model.get("block") || f.position[0] !== model.get("row") ||
        f.position[1] !== model.get("col");
      root.setAttribute("aria-busy", String(local && !error && waiting));
      for (const name of ["row", "col"]) {
        const { input, value } = controls[name];
        if (ready) input.max = f.output[name === "row" ? 0 : 1] - 1;
        input.value = String(model.get(name));
        value.textContent = model.get(name);
        input.disabled = named || !ready || Number(input.max) === 0;
      }
      status.replaceChildren();
      if (error && (!local || ready)) {
        // A setting the controls do not offer (set from Python): say why; they stay usable.
        panels.hidden = python.hidden = true;
        message.hidden = false;
        message.textContent = error;
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      message.hidden = true;
      if (!ready) {
        // The page before its first answer: Python's picture, and what is happening.
        panels.hidden = true;
        python.hidden = !first;
        const kept = first ? " The picture is Python's." : "";
        if (error) {
          status.append(element("span", { class: "cnnx-error" }, `${error}.${kept}`));
        } else {
          status.append(element("span", { class: "cnnx-waiting" }, model.get("visible")
            ? `Loading VGG-11 to compute in this browser…${kept}`
            : `VGG-11 loads when the explorer is on screen.${kept}`));
        }
        return;
      }
      python.hidden = true;
      panels.hidden = false;
      drawField(f, shown.example);
      drawMaps(maps, f);
      for (const line of model.get("summary") || []) {
        status.append(element("div", { class: "cnnx-line" }, line));
      }
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["example", "block", "unit", "row", "col", "field_info", "maps_shown",
      "summary", "shown", "error", "visible", "controls"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);

    // On the page, the network loads when the explorer comes into view (or a control is
    // used): a reader who never scrolls here downloads nothing.
    const stopWatching = visibleWhenInView(model, root);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("VGGBlockExplorer", { render, compute });
})();
