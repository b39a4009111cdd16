/**
 * compare-stages.js: the front-end of section 8.1's LeNet / AlexNet stage comparison.
 *
 * The same file runs in JupyterLab (Python's StageComparisonExplorer computes every number
 * with PyTorch and syncs them) and on the website (compute() below runs the shipped networks
 * in the reader's browser with CNNNetworks, cnn-networks.js, on the pixels Python resized,
 * and builds the same values and words as cnnlib.widgets.compare_stages). See cnn-host.js for
 * the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: example (position in `examples`), stage (one of `stages_menu`).
 * Data from Python: examples (the menu's labels), stages_menu, networks (per network: title,
 * key for CNNNetworks.load, side, pixels as base64 uint8 (N, side, side), stages {name,
 * what, map}, the first layer's kernels {shape, data: base64 of float32}), classes,
 * palettes (matplotlib's colour maps, 256 "rrggbb" each). Page only: picture and picture_alt (Python's drawing of the
 * first setting, shown while the networks load and kept where they cannot run), visible
 * (set once the explorer is on screen: the networks load only then). Derived: columns (per
 * network: title, side, kind, heading, shape, tiles, values, missing, predicted,
 * probability, line), shown ({example, stage} the columns belong to), summary, error.
 *
 * Needs CNNNetworks (cnn-networks.js) on the page; in JupyterLab nothing is loaded.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, fromBase64, baseStyle, batched, statusLine, tile, mapStyle,
    colourer, pictureURL, palette256, controlsFor, visibleWhenInView } = CNNExplorers.kit;
  const KERNELS = "first-layer kernels"; // cnnlib.viz.compare_stages.KERNELS
  const DIVERGING = "RdBu_r"; // cnnlib.viz.images.DIVERGING_CMAP
  const SVG = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ shared arithmetic

  const decoded = new WeakMap(); // network description -> its pixels as bytes
  /** The uint8 pixels (N, side, side) Python resized for this network. */
  function pixelsOf(network) {
    if (!decoded.has(network)) decoded.set(network, fromBase64(network.pixels));
    return decoded.get(network);
  }

  const weights = new WeakMap(); // network description -> its first layer's kernels
  /** The first layer's kernels Python sent (float32, little-endian, as base64). */
  function kernelsOf(network) {
    if (!weights.has(network)) {
      weights.set(network, new Float32Array(fromBase64(network.kernels.data).buffer));
    }
    return weights.get(network);
  }

  /** cnnlib.viz.compare_stages._columns: maps per row so n square maps fill aspect. */
  function perRow(n, aspect) {
    return Math.max(1, Math.min(n, Math.ceil(Math.sqrt(n * aspect))));
  }

  // ------------------------------------------------------------------ compute (website only)

  const runs = new WeakMap(); // network description -> Map(example -> Promise of its outputs)

  /** The network's outputs for example k (every stage's maps), run once per example. */
  function outputs(network, k) {
    if (!runs.has(network)) runs.set(network, new Map());
    const cache = runs.get(network);
    if (!cache.has(k)) {
      const answer = CNNNetworks.load(network.key).then((net) => {
        const size = network.side * network.side;
        const bytes = pixelsOf(network).subarray(k * size, (k + 1) * size);
        // Python's input: the same uint8 pixels divided by 255 (resize_images).
        const image = new Float32Array(size);
        for (let i = 0; i < size; i++) image[i] = bytes[i] / 255;
        return net.run(image, { maps: network.stages.map((s) => s.map) });
      });
      answer.catch(() => cache.delete(k)); // a later request may try again
      cache.set(k, answer);
    }
    return cache.get(k);
  }

  /** torch.argmax: the first largest value. */
  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  /** One column of StageComparisonExplorer.compute from the network's outputs. */
  function column(network, out, stageName, classes) {
    const title = network.title;
    const side = network.side;
    let kind, heading, shape, tiles, values, missing = "";
    if (stageName === KERNELS) {
      shape = network.kernels.shape.slice();
      const [o, i, kh, kw] = shape;
      kind = "kernels";
      values = Array.from(kernelsOf(network));
      tiles = [o * i, kh, kw];
      heading = `${o} kernels of ${kh}×${kw} (× ${i} input channel${i > 1 ? "s" : ""})`;
    } else {
      const stage = network.stages.find((s) => s.name === stageName);
      if (stage) {
        const map = out.maps[stage.map];
        shape = map.shape.slice(1); // without the batch
        kind = "maps";
        values = Array.from(map.data);
        tiles = shape.slice();
        heading = `${stage.name}: ${stage.what} → ${shape.join("×")}`;
      } else {
        const last = network.stages[network.stages.length - 1];
        const lastShape = out.maps[last.map].shape.slice(1).join("×");
        kind = "missing";
        shape = null;
        values = [];
        tiles = [];
        missing = `${title} has no ${stageName}: its ${last.name} maps (${lastShape}) ` +
          "go to the dense layers.";
        heading = missing;
      }
    }
    const predicted = argmax(out.probabilities);
    const probability = out.probabilities[predicted];
    const channels = shape ? ` (${shape[0]} channels)` : "";
    const line = `${title} on ${side}×${side}: ${heading}${channels}; predicted ` +
      `${classes[predicted]} with probability ${pyFixed(probability, 2)}`;
    return { title, side, kind, heading, shape, tiles, values, missing, predicted, probability,
      line };
  }

  /**
   * The values Python's StageComparisonExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (example, stage, the data from Python, and
   *   visible once the explorer is on screen).
   * @returns {object|Promise<object>} nothing yet while the explorer is off screen (the
   *   networks load only when it is shown); then a Promise of columns, shown and summary.
   * @throws {Error} cnnlib's message, for an example or stage the menus do not offer.
   */
  function compute(state) {
    const count = (state.examples || []).length;
    const k = state.example;
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k > count - 1) {
      throw new Error(`example must be a whole number in 0..${count - 1}, got ${show(k)}`);
    }
    const options = state.stages_menu || [];
    if (!options.includes(state.stage)) {
      throw new Error(`unknown stage ${show(state.stage)}; choose one of ${show(options)}`);
    }
    if (!state.visible) return {};
    if (typeof CNNNetworks === "undefined" || typeof CNNNetworks.load !== "function") {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    const networks = state.networks;
    return Promise.all(networks.map((network) => outputs(network, k))).then((answers) => {
      const columns = networks.map((network, i) =>
        column(network, answers[i], state.stage, state.classes));
      return { columns, shown: { example: k, stage: state.stage },
        summary: columns.map((c) => c.line) };
    });
  }

  // ------------------------------------------------------------------ drawing

  /** An SVG picture of a rows×cols image (a viewBox in pixels, so it scales crisply). */
  function pictureSVG(svg, rows, cols, url, words) {
    svg.setAttribute("viewBox", `0 0 ${cols} ${rows}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", words);
    svg.replaceChildren();
    const title = document.createElementNS(SVG, "title");
    title.textContent = words;
    const image = document.createElementNS(SVG, "image");
    for (const [key, value] of Object.entries({ x: 0, y: 0, width: cols, height: rows,
      href: url, preserveAspectRatio: "none" })) image.setAttribute(key, value);
    svg.append(title, image);
  }

  const STYLE = baseStyle("cnnx-stages") + `
.cnnx-stages .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-stages .cnnx-control label{flex:0 0 3.5em}
.cnnx-stages .cnnx-control select{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0;
  font:inherit}
.cnnx-stages .cnnx-columns{display:flex;flex-wrap:wrap;gap:.75rem 1.25rem}
.cnnx-stages .cnnx-column{flex:1 1 16rem;min-width:0;margin:0;display:flex;
  flex-direction:column;gap:.35rem}
.cnnx-stages .cnnx-column figcaption{font-weight:bold}
.cnnx-stages .cnnx-top{display:flex;gap:.6rem;align-items:flex-start}
.cnnx-stages .cnnx-input{flex:0 0 4.5rem;width:4.5rem}
.cnnx-stages .cnnx-heading{margin:0;overflow-wrap:anywhere}
.cnnx-stages svg{display:block;height:auto;overflow:visible}
.cnnx-stages svg image{image-rendering:pixelated}
.cnnx-stages .cnnx-maps{width:100%;max-height:22rem}
.cnnx-stages .cnnx-scale{margin:0;font-variant-numeric:tabular-nums}
.cnnx-stages .cnnx-python img{display:block;max-width:100%;height:auto}
.cnnx-stages .cnnx-python figcaption{font-style:italic}
.cnnx-stages .cnnx-python{margin:0}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-stages-${++instances}`;
    // The page's model (cnn-host.js's LocalModel) computes in the browser and has settled();
    // anywidget's has not: in JupyterLab Python computes and nothing is loaded here.
    const local = typeof model.settled === "function";
    const root = element("div", { class: "cnnx-stages" });
    root.append(element("style", {}, STYLE));

    const form = controlsFor(model, { id, label: "Stage comparison settings" });
    const fieldset = form.fieldset;
    // The image menu's values are positions (example is an index), the stage's are names.
    const menus = {
      example: form.menu("example", "image",
        (model.get("examples") || []).map((text, i) => [i, text]), Number).input,
      stage: form.menu("stage", "stage",
        (model.get("stages_menu") || []).map((text) => [text, text])).input,
    };

    // Python's picture of the first setting: shown until the browser's answer arrives.
    const python = element("figure", { class: "cnnx-python" });
    const picture = model.get("picture");
    if (picture) {
      python.append(element("img", { src: `data:image/png;base64,${picture}`,
        alt: model.get("picture_alt") || "" }));
      const first = model.get("examples") || [];
      python.append(element("figcaption", {},
        `Drawn by Python for image ${first[model.get("example")] || ""}, ` +
        `${model.get("stage")}.`));
    }
    python.hidden = true;
    const columnsBox = element("div", { class: "cnnx-columns" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, python, columnsBox, message, status);
    el.append(root);

    const figures = [];
    function figureFor(i) {
      if (!figures[i]) {
        const figure = element("figure", { class: "cnnx-column" });
        const caption = element("figcaption");
        const top = element("div", { class: "cnnx-top" });
        const input = document.createElementNS(SVG, "svg");
        input.setAttribute("class", "cnnx-input");
        const heading = element("p", { class: "cnnx-heading" });
        top.append(input, heading);
        const maps = document.createElementNS(SVG, "svg");
        maps.setAttribute("class", "cnnx-maps");
        const scale = element("p", { class: "cnnx-scale" });
        figure.append(caption, top, maps, scale);
        columnsBox.append(figure);
        figures[i] = { figure, caption, input, heading, maps, scale };
      }
      return figures[i];
    }

    function names() {
      return (model.get("networks") || []).map((n) => n.title).join(" and ");
    }

    function drawColumn(i, col, k) {
      const f = figureFor(i);
      const network = model.get("networks")[i];
      const side = network.side;
      f.figure.hidden = false;
      f.caption.textContent = `${col.title}, input ${side}×${side}`;
      const bytes = pixelsOf(network).subarray(k * side * side, (k + 1) * side * side);
      pictureSVG(f.input, side, side, pictureURL(side, side, (p) => [bytes[p], bytes[p], bytes[p]]),
        `${col.title}'s input: image ${(model.get("examples") || [])[k]}, ${side} by ${side} ` +
        "pixels");
      f.heading.textContent = col.heading;
      f.figure.dataset.kind = col.kind;
      if (col.kind === "missing") {
        f.maps.replaceChildren();
        f.maps.hidden = true;
        f.scale.replaceChildren();
        f.scale.hidden = true;
        return;
      }
      const kernels = col.kind === "kernels";
      const [n, h, w] = col.tiles;
      const pad = !kernels && w === 1 ? 0 : 1; // 1×1 maps: a block of squares, no gaps
      const mosaic = tile(col.values, col.tiles, perRow(n, 1.2), pad);
      const style = mapStyle(mosaic.data, { symmetric: kernels });
      const colourOf = colourer(palette256(model.get("palettes")[style.palette]), style.low,
        style.high);
      const what = kernels ? `${n} kernels of ${h} by ${w}` : `${n} maps of ${h} by ${w}`;
      pictureSVG(f.maps, mosaic.rows, mosaic.cols,
        pictureURL(mosaic.rows, mosaic.cols, (p) => colourOf(mosaic.data[p])),
        `${col.title}: ${what}, ${style.palette === DIVERGING ? "red positive, blue negative"
          : "dark low, yellow high"}, colours from ${pyFixed(style.low, 2)} to ` +
        `${pyFixed(style.high, 2)}`);
      f.maps.hidden = false;
      f.maps.style.maxWidth = `${Math.max(mosaic.cols * 6, 160)}px`;
      f.scale.hidden = false;
      f.scale.replaceChildren(
        document.createTextNode(style.palette === DIVERGING
          ? "red positive, blue negative, from " : "colour scale from "),
        element("span", { class: "cnnx-low", "data-value": String(style.low) },
          pyFixed(style.low, 2)),
        document.createTextNode(" to "),
        element("span", { class: "cnnx-high", "data-value": String(style.high) },
          pyFixed(style.high, 2)));
    }

    function draw() {
      for (const [name, select] of Object.entries(menus)) select.value = String(model.get(name));
      const error = model.get("error");
      const columns = model.get("columns") || [];
      const shown = model.get("shown") || {};
      // On the page the explorer is aria-busy from a change until its answer is in (the
      // networks run asynchronously); in JupyterLab Python's values arrive together.
      const waiting = shown.example !== model.get("example") || shown.stage !== model.get("stage");
      root.setAttribute("aria-busy", String(local && !error && waiting));
      status.replaceChildren();
      if (error && (!local || columns.length)) {
        // A setting the menus do not offer (set from Python): say why; the menus stay usable.
        columnsBox.hidden = python.hidden = true;
        message.hidden = false;
        message.textContent = error;
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      message.hidden = true;
      if (!columns.length) {
        // The page before its first answer: Python's picture, and what is happening.
        columnsBox.hidden = true;
        python.hidden = !picture;
        const kept = picture ? " The picture is Python's." : "";
        let words;
        if (error) {
          words = `${error}.${kept}`;
          status.append(element("span", { class: "cnnx-error" }, words));
          return;
        }
        words = model.get("visible")
          ? `Loading ${names()} to compute in this browser…${kept}`
          : `${names()} load when the explorer is on screen.${kept}`;
        status.append(element("span", { class: "cnnx-waiting" }, words));
        return;
      }
      python.hidden = true;
      columnsBox.hidden = false;
      columns.forEach((col, i) => drawColumn(i, col, shown.example));
      for (const line of model.get("summary") || []) {
        status.append(element("div", { class: "cnnx-line" }, line));
      }
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["example", "stage", "columns", "shown", "summary", "error", "visible"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);

    // On the page, the networks load when the explorer comes into view (or a control is
    // used): a reader who never scrolls here downloads nothing.
    const stopWatching = visibleWhenInView(model, root);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("StageComparisonExplorer", { render, compute });
})();
