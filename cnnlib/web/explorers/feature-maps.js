/**
 * feature-maps.js: the front-end of section 7.6's feature-map explorer.
 *
 * Draw a garment (mouse, pen or touch), choose a test image or upload a picture, and watch
 * LeNet's feature maps and its ten class probabilities change as you draw.
 *
 * The same file runs in JupyterLab (Python's LiveFeatureMapExplorer runs the trained LeNet in
 * PyTorch and syncs every layer's output) and on the website, where compute() below runs the
 * shipped LeNet in the reader's browser (CNNNetworks.load("lenet"), onnxruntime-web; the
 * answer is a Promise). See cnn-host.js for the contract and README.md beside this file for
 * the rules.
 *
 * Model values. Controls: example (a test image's number, -1 for a drawing or an upload),
 * drawing (784 values in [0, 1], row by row, light garment on a dark background; [] for a
 * test image), input_name ("your drawing", "upload 'x.png'"; "" for a test image), upload_steps, stages_only,
 * request (raised with every new input). Data from Python: gallery ({index, text, label,
 * scale, pixels}), layers ({name, index, layer, stage}), classes, kernels_png (the learned
 * kernels, a base64 PNG). Derived: probabilities,
 * maps (name -> {shape, data}), predicted, label, status, engine ("python" or "browser"),
 * answered (the request they belong to) and error.
 *
 * Needs CNNNetworks (cnn-networks.js) on a website page; JupyterLab never calls compute.
 */
(function () {
  "use strict";

  const { element, keepSliderKeys, pyFixed, baseStyle, batched, statusLine,
    grayscaleUpload } = CNNExplorers.kit;
  const SIZE = 28; // cnnlib.widgets.feature_maps.IMAGE_SIZE
  const PIXELS = SIZE * SIZE;
  const MAX_MAP_COLUMNS = 8; // cnnlib.viz.feature_maps.MAX_MAP_COLUMNS
  // matplotlib's viridis and RdBu_r at nine even stops (cnnlib.viz.feature_maps._map_style).
  const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80",
    "#5ec962", "#addc30", "#fde725"];
  const RDBU_R = ["#053061", "#2a71b2", "#6bacd1", "#c2ddec", "#f7f6f6", "#fbccb4", "#e48066",
    "#ba2832", "#67001f"];
  const RIGHT_COLOR = "#1f77b4"; // matplotlib's tab:blue, as cnnlib.viz.feature_maps
  const WRONG_COLOR = "#d62728"; // tab:red
  const OTHER_COLOR = "#bfbfbf"; // "0.75"
  const BRUSH = 1.1; // stroke half-width in pixels of the 28×28 input
  const LOADING = "Loading LeNet into this page";

  // ------------------------------------------------------------------ the input, as Python

  /**
   * The input the controls describe, checked as Python's _input checks it.
   * @param {object} state the model's values.
   * @returns {{pixels: Float32Array, label: (number|null), source: string}}
   * @throws {Error} Python's words, for a drawing that is not 784 numbers in [0, 1] or an
   *   example the menu does not offer.
   */
  function inputOf(state) {
    const drawing = state.drawing || [];
    if (drawing.length) {
      if (drawing.length !== PIXELS) {
        throw new Error(`a drawing must be ${SIZE}×${SIZE} = ${PIXELS} values in [0, 1], ` +
          `row by row; got ${drawing.length} values`);
      }
      if (!drawing.every((v) => typeof v === "number" && v >= 0 && v <= 1)) {
        throw new Error("a drawing's values must be numbers in [0, 1] (0 is the dark " +
          "background, 1 the light garment)");
      }
      return { pixels: Float32Array.from(drawing), label: null,
        source: state.input_name || "your drawing" };
    }
    const entry = (state.gallery || []).find((g) => g.index === state.example);
    if (!entry) {
      const offered = (state.gallery || []).map((g) => g.index).join(", ");
      throw new Error(`test image #${state.example} is not in the menu; choose one of ` +
        `[${offered}]`);
    }
    return { pixels: galleryPixels(entry), label: entry.label,
      source: `test image #${entry.index}` };
  }

  /** A gallery entry's pixels as the float32 image Python's as_image makes. */
  function galleryPixels(entry) {
    return Float32Array.from(entry.pixels, (v) => v / entry.scale);
  }

  /** The status line Python's _describe writes. */
  function describe(state, probabilities, label, source) {
    const classes = state.classes || [];
    let top = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[top]) top = i;
    const named = classes.length === probabilities.length;
    const name = (i) => (named ? classes[i] : String(i));
    let text = `${source}: predicted ${name(top)} with probability ` +
      pyFixed(probabilities[top], 2);
    if (label !== null && label !== undefined) {
      text += `; its label is ${name(label)}, so the prediction is ` +
        `${top === label ? "right" : "wrong"}`;
    }
    text += ".";
    const steps = state.upload_steps || [];
    if (steps.length && (state.drawing || []).length) {
      text += ` The upload was ${steps.join("; ")}.`;
    }
    return { text, top };
  }

  /** Round as Python's _rounded does (6 decimals): the probabilities' ten values. */
  function rounded(values) {
    return Array.from(values, (v) => Math.round(v * 1e6) / 1e6);
  }

  // ------------------------------------------------------------------ compute (website only)

  let queue = Promise.resolve(); // the pass in flight: onnxruntime runs one at a time
  let latest = 0;
  const SKIPPED = {};

  /**
   * Run LeNet on pixels after the pass in flight, unless a newer request came meanwhile
   * (then this one is skipped: the latest wins, and at most one pass waits).
   */
  function runLatest(pixels) {
    const mine = ++latest;
    const result = queue.then(() => {
      if (mine !== latest) return SKIPPED;
      return CNNNetworks.load("lenet").then((net) => net.run(pixels));
    });
    queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The values Python's LiveFeatureMapExplorer derives, computed in the browser by the
   * shipped LeNet.
   *
   * @param {object} state the model's values.
   * @returns {Promise<object>} probabilities, maps, predicted, label, status, engine and
   *   answered; rejects with "this browser cannot run the network: ..." where it cannot.
   * @throws {Error} at once, Python's words, for an input that does not fit (see inputOf).
   */
  function compute(state) {
    const input = inputOf(state);
    if (typeof CNNNetworks === "undefined" || !CNNNetworks.load) {
      throw new Error("cnn-networks.js is not loaded: add its script tag before this " +
        "explorer's");
    }
    return runLatest(input.pixels).then((out) => {
      if (out === SKIPPED) return {};
      const maps = {};
      for (const { name } of state.layers || []) {
        const map = out.maps[name];
        // Not rounded as Python rounds what it syncs: here nothing travels, and rounding
        // 14,000 values per pass costs more than the network's own run.
        if (map) maps[name] = { shape: map.shape.slice(1), data: Array.from(map.data) };
      }
      const probabilities = rounded(out.probabilities);
      const { text, top } = describe(state, out.probabilities, input.label, input.source);
      return { probabilities, maps, predicted: top, label: input.label, status: text,
        engine: "browser", answered: state.request };
    });
  }

  // ------------------------------------------------------------------ an upload, as Python

  /**
   * cnnlib.widgets.feature_maps.image_from_bytes, on RGBA pixels the browser decoded:
   * transparent pixels over white (Pillow's alpha_composite), grey (Pillow's L), padded to
   * a square with the median border grey, shrunk to 28×28 (Pillow's LANCZOS), inverted when
   * the background is light.
   *
   * @param {Uint8ClampedArray} rgba width*height*4 values, not premultiplied.
   * @param {number} width
   * @param {number} height
   * @param {string} kind "PNG", "JPEG", ...
   * @returns {{pixels: Float32Array, steps: string[]}}
   */
  function convertUpload(rgba, width, height, kind) {
    return grayscaleUpload(rgba, width, height, SIZE, kind); // shared with kernel.js
  }

  /** The picture's RGBA pixels as the browser decodes them (no colour management). */
  async function decode(file) {
    const bitmap = await createImageBitmap(file, { premultiplyAlpha: "none",
      colorSpaceConversion: "none" });
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    bitmap.close();
    return { data, width: canvas.width, height: canvas.height };
  }

  /** "PNG" for image/png, else the file type's own name. */
  function kindOf(file) {
    const sub = (file.type || "").split("/")[1] || "image";
    return sub === "jpeg" ? "JPEG" : sub.toUpperCase();
  }

  // ------------------------------------------------------------------ drawing

  /** A colour scale's stops as [r, g, b] numbers, parsed once. */
  function stops(scale) {
    return scale.map((hex) => [0, 1, 2].map((c) => parseInt(hex.slice(1 + 2 * c, 3 + 2 * c), 16)));
  }
  const VIRIDIS_RGB = stops(VIRIDIS);
  const RDBU_R_RGB = stops(RDBU_R);

  /** Write the colour of value, on a scale of stops between low and high, at out[at..]. */
  function colorInto(out, at, scale, value, low, high) {
    const t = Math.min(1, Math.max(0, (value - low) / (high - low))) * (scale.length - 1);
    const i = Math.min(scale.length - 2, Math.floor(t)), f = t - i;
    const a = scale[i], b = scale[i + 1];
    out[at] = (1 - f) * a[0] + f * b[0];
    out[at + 1] = (1 - f) * a[1] + f * b[1];
    out[at + 2] = (1 - f) * a[2] + f * b[2];
    out[at + 3] = 255;
  }

  /**
   * cnnlib.viz.feature_maps._map_style: a layer's colour scale and limits. Its own, not
   * the kit's mapStyle: it paints from parsed stops (colorInto) rather than a 256-colour
   * palette, and a layer's outputs have no NaN gaps to pass over.
   */
  function mapStyle(data) {
    let low = Infinity, high = -Infinity;
    for (const v of data) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    if (!(low <= high)) return { scale: VIRIDIS_RGB, low: 0, high: 1 };
    if (low < 0) {
      const m = Math.max(-low, Math.abs(high)) || 1;
      return { scale: RDBU_R_RGB, low: -m, high: m, signed: true };
    }
    return { scale: VIRIDIS_RGB, low, high: Math.max(high, low + 1e-12) };
  }

  /**
   * Paint one layer's output into a canvas: maps (C, H, W) as a mosaic of at most eight
   * columns with one-pixel gaps, flat outputs (F,) as one strip.
   */
  function paintMaps(canvas, { shape, data }) {
    const [C, H, W] = shape.length === 3 ? shape : [1, 1, shape[0]];
    const cols = shape.length === 3 ? Math.min(C, MAX_MAP_COLUMNS) : 1;
    const rows = Math.ceil(C / cols);
    const width = cols * W + (cols - 1), height = rows * H + (rows - 1);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, height);
    const style = mapStyle(data);
    for (let c = 0; c < C; c++) {
      const x0 = (c % cols) * (W + 1), y0 = Math.floor(c / cols) * (H + 1);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          colorInto(image.data, ((y0 + y) * width + x0 + x) * 4, style.scale,
            data[(c * H + y) * W + x], style.low, style.high);
        }
      }
    }
    context.putImageData(image, 0, 0);
    return { C, H, W, style };
  }

  /**
   * Add a stroke from a to b (points in input pixels) to the 28×28 drawing: every pixel
   * within the brush's reach of the segment gets brighter, never darker (a light garment on
   * a dark background, as Fashion-MNIST).
   */
  function stroke(pixels, a, b) {
    const reach = BRUSH + 1;
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - reach));
    const x1 = Math.min(SIZE - 1, Math.ceil(Math.max(a.x, b.x) + reach));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - reach));
    const y1 = Math.min(SIZE - 1, Math.ceil(Math.max(a.y, b.y) + reach));
    const dx = b.x - a.x, dy = b.y - a.y;
    const length2 = dx * dx + dy * dy;
    let changed = false;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5, py = y + 0.5;
        const t = length2 ? Math.min(1, Math.max(0, ((px - a.x) * dx + (py - a.y) * dy) /
          length2)) : 0;
        const d = Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
        const ink = Math.round(255 * Math.min(1, Math.max(0, BRUSH + 0.5 - d)));
        if (ink > pixels[y * SIZE + x]) {
          pixels[y * SIZE + x] = ink;
          changed = true;
        }
      }
    }
    return changed;
  }

  const STYLE = baseStyle("cnnx-fmap") + `
.cnnx-fmap .cnnx-controls{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;
  margin:0 0 .5rem;padding:0;border:0}
.cnnx-fmap .cnnx-control{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap;
  max-width:100%}
.cnnx-fmap select,.cnnx-fmap button,.cnnx-fmap input{font:inherit;min-height:24px;
  max-width:100%}
.cnnx-fmap select{min-width:0}
.cnnx-fmap .cnnx-top{display:flex;flex-wrap:wrap;gap:.75rem 1.5rem;align-items:flex-start}
.cnnx-fmap .cnnx-pad{display:flex;flex-direction:column;align-items:flex-start;gap:.35rem;
  margin:0}
.cnnx-fmap canvas.cnnx-draw{width:min(14rem,70vw);height:auto;aspect-ratio:1;
  image-rendering:pixelated;touch-action:none;cursor:crosshair;border:1px solid #555;
  background:#000}
.cnnx-fmap .cnnx-probs{border-collapse:collapse;min-width:min(18rem,100%)}
.cnnx-fmap .cnnx-probs caption{text-align:left;font-weight:bold;padding-bottom:.2rem}
.cnnx-fmap .cnnx-probs td,.cnnx-fmap .cnnx-probs th{padding:.05rem .4rem .05rem 0;
  font-weight:normal;text-align:left;white-space:nowrap}
.cnnx-fmap .cnnx-probs td.cnnx-value{text-align:right;font-variant-numeric:tabular-nums}
.cnnx-fmap .cnnx-probs .cnnx-truth th{font-weight:bold}
.cnnx-fmap .cnnx-bar{display:block;height:.8em;min-width:1px;background:${OTHER_COLOR}}
.cnnx-fmap .cnnx-barbox{width:8rem}
.cnnx-fmap .cnnx-maps{display:flex;flex-direction:column;gap:.5rem;margin-top:.75rem}
.cnnx-fmap .cnnx-map{margin:0;display:flex;flex-direction:column;gap:.15rem}
.cnnx-fmap .cnnx-map canvas{image-rendering:pixelated;max-width:100%;height:auto;
  display:block}
.cnnx-fmap .cnnx-kernels{margin:.75rem 0 0}
.cnnx-fmap .cnnx-kernels img{display:block;max-width:100%;height:auto}
.cnnx-fmap .cnnx-note{margin:.4rem 0;font-style:italic}
.cnnx-fmap .cnnx-error{color:#b00020}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-fmap-${++instances}`;
    const onPage = model instanceof CNNExplorers.LocalModel; // computing in this browser
    const root = element("div", { class: "cnnx-fmap" });
    root.append(element("style", {}, STYLE));

    // -- controls: the menu of test images, Clear, the upload, the stages checkbox
    const fieldset = element("fieldset", { class: "cnnx-controls",
      "aria-label": "Feature map explorer input" });
    const menuBox = element("div", { class: "cnnx-control" });
    const menu = element("select", { id: `${id}-example`, name: "example" });
    for (const entry of model.get("gallery") || []) {
      menu.append(element("option", { value: String(entry.index) }, entry.text));
    }
    // Shown while the input is a drawing or an upload; last, so Home is the first image.
    menu.append(element("option", { value: "-1", disabled: "" }, "your drawing or upload"));
    menuBox.append(element("label", { for: menu.id }, "test image"), menu);
    const clear = element("button", { type: "button", name: "clear" }, "Clear the drawing");
    const uploadBox = element("div", { class: "cnnx-control" });
    const upload = element("input", { type: "file", accept: "image/*", id: `${id}-upload`,
      name: "upload" });
    uploadBox.append(element("label", { for: upload.id }, "upload a picture"), upload);
    const stagesBox = element("div", { class: "cnnx-control" });
    const stages = element("input", { type: "checkbox", id: `${id}-stages`,
      name: "stages_only" });
    stagesBox.append(stages, element("label", { for: stages.id }, "stage outputs only"));
    fieldset.append(menuBox, uploadBox, stagesBox);
    keepSliderKeys(fieldset); // JupyterLab's command mode would take the menu's arrow keys

    // -- the drawing pad and the probabilities
    const top = element("div", { class: "cnnx-top" });
    const pad = element("figure", { class: "cnnx-pad" });
    const padCaption = element("figcaption", { id: `${id}-pad-caption` },
      "Draw a garment (light on dark) with a mouse, pen or finger:");
    const canvas = element("canvas", { class: "cnnx-draw", width: SIZE, height: SIZE,
      role: "img", "aria-describedby": padCaption.id });
    pad.append(padCaption, canvas, clear);
    const table = element("table", { class: "cnnx-probs" });
    table.append(element("caption", {}, "Class probabilities"));
    const body = element("tbody");
    table.append(body);
    const probRows = [];
    top.append(pad, table);

    const note = element("p", { class: "cnnx-note", hidden: "" });
    const maps = element("div", { class: "cnnx-maps" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, top, note, status, maps);
    if (model.get("kernels_png")) {
      // Python's picture of the learned kernels: they do not depend on the image.
      const kernels = element("figure", { class: "cnnx-kernels" });
      kernels.append(element("figcaption", {}, "Learned kernels (the same for every image)"),
        element("img", { src: `data:image/png;base64,${model.get("kernels_png")}`,
          alt: "The learned kernels of both convolutions, one small square per output " +
            "and input channel" }));
      root.append(kernels);
    }
    el.append(root);

    // -- the drawing, 28×28 bytes: what the canvas shows is what the network gets
    const ink = new Uint8ClampedArray(PIXELS);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const pixelImage = context.createImageData(SIZE, SIZE);
    function paintInk() {
      for (let i = 0; i < PIXELS; i++) {
        pixelImage.data.fill(ink[i], 4 * i, 4 * i + 3);
        pixelImage.data[4 * i + 3] = 255;
      }
      context.putImageData(pixelImage, 0, 0);
    }
    /** The ink of the model's input: its drawing, or the chosen test image. */
    function loadInk() {
      const drawing = model.get("drawing") || [];
      const entry = (model.get("gallery") || []).find((g) => g.index === model.get("example"));
      if (drawing.length === PIXELS) {
        for (let i = 0; i < PIXELS; i++) ink[i] = Math.round(drawing[i] * 255);
      } else if (entry) {
        for (let i = 0; i < PIXELS; i++) ink[i] = Math.round(galleryPixels(entry)[i] * 255);
      }
      paintInk();
    }

    function newInput(values) {
      for (const [name, value] of Object.entries(values)) model.set(name, value);
      model.set("request", (model.get("request") || 0) + 1);
      model.save_changes();
    }

    // One pass per animation frame while drawing: the latest ink wins.
    let frame = 0;
    function sendInk() {
      frame = 0;
      newInput({ example: -1, input_name: "your drawing", upload_steps: [],
        drawing: Array.from(ink, (v) => v / 255) });
    }
    function queueInk() {
      if (!frame) frame = requestAnimationFrame(sendInk);
    }

    let last = null; // the pointer's last point, in input pixels, while a button is down
    function pointAt(event) {
      const box = canvas.getBoundingClientRect();
      return { x: ((event.clientX - box.left) / box.width) * SIZE,
        y: ((event.clientY - box.top) / box.height) * SIZE };
    }
    function onDown(event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      canvas.setPointerCapture?.(event.pointerId);
      last = pointAt(event);
      if (stroke(ink, last, last)) {
        paintInk();
        queueInk();
      }
    }
    function onMove(event) {
      if (!last) return;
      event.preventDefault();
      const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      let changed = false;
      for (const e of points.length ? points : [event]) {
        const next = pointAt(e);
        changed = stroke(ink, last, next) || changed;
        last = next;
      }
      if (changed) {
        paintInk();
        queueInk();
      }
    }
    function onUp() {
      last = null;
    }
    canvas.addEventListener("pointerdown", onDown);
    canvas.addEventListener("pointermove", onMove);
    canvas.addEventListener("pointerup", onUp);
    canvas.addEventListener("pointercancel", onUp);

    clear.addEventListener("click", () => {
      ink.fill(0);
      paintInk();
      if (frame) cancelAnimationFrame(frame);
      sendInk();
    });
    menu.addEventListener("change", () => {
      newInput({ example: Number(menu.value), drawing: [], input_name: "", upload_steps: [] });
    });
    stages.addEventListener("change", () => {
      model.set("stages_only", stages.checked);
      model.save_changes();
    });
    let uploadError = "";
    upload.addEventListener("change", async () => {
      const file = upload.files && upload.files[0];
      if (!file) return; // the reader cancelled: nothing changes
      try {
        let decoded;
        try {
          decoded = await decode(file);
        } catch (err) {
          throw new Error(`its ${file.size} bytes are not in an image format this browser ` +
            "can decode; upload a PNG or JPEG picture");
        }
        const { pixels, steps } = convertUpload(decoded.data, decoded.width, decoded.height,
          kindOf(file));
        uploadError = "";
        newInput({ example: -1, input_name: `upload '${file.name}'`, upload_steps: steps,
          drawing: Array.from(pixels) });
      } catch (err) {
        uploadError = `'${file.name}': ${err.message}. The picture still shows ` +
          `${(model.get("status") || "").split(":")[0] || "the last input"}.`;
        draw();
      }
    });

    // -- drawing the answer
    const figures = new Map(); // layer name -> {figure, caption, canvas}
    function figureFor(layer) {
      if (!figures.has(layer.name)) {
        const figure = element("figure", { class: "cnnx-map", "data-layer": layer.name });
        const caption = element("figcaption");
        const mapCanvas = element("canvas", { role: "img" });
        figure.append(caption, mapCanvas);
        figures.set(layer.name, { figure, caption, canvas: mapCanvas });
      }
      return figures.get(layer.name);
    }

    function drawProbabilities() {
      const probabilities = model.get("probabilities") || [];
      const classes = model.get("classes") || [];
      const predicted = model.get("predicted");
      const label = model.get("label");
      while (probRows.length < probabilities.length) {
        const row = element("tr");
        const name = element("th", { scope: "row" });
        const barBox = element("td", { class: "cnnx-barbox", "aria-hidden": "true" });
        const bar = element("span", { class: "cnnx-bar" });
        barBox.append(bar);
        const value = element("td", { class: "cnnx-value" });
        row.append(name, barBox, value);
        body.append(row);
        probRows.push({ row, name, bar, value });
      }
      probabilities.forEach((p, i) => {
        const { row, name, bar, value } = probRows[i];
        name.textContent = classes[i] || String(i);
        value.textContent = pyFixed(p, 2);
        row.dataset.value = String(p);
        row.classList.toggle("cnnx-truth", i === label);
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        bar.style.background = i !== predicted ? OTHER_COLOR
          : label === null || label === undefined || label === predicted ? RIGHT_COLOR
            : WRONG_COLOR;
      });
    }

    function drawMaps() {
      const values = model.get("maps") || {};
      const stagesOnly = !!model.get("stages_only");
      const shown = [];
      for (const layer of model.get("layers") || []) {
        const map = values[layer.name];
        if (!map || (stagesOnly && !layer.stage)) continue;
        const { figure, caption, canvas: mapCanvas } = figureFor(layer);
        const { C, H, W, style } = paintMaps(mapCanvas, map);
        const shape = map.shape.join("×");
        caption.textContent = `${layer.index} ${layer.layer} · ${shape}`;
        // Each value at least 3 screen pixels wide, as wide as the page allows; a flat
        // output's one-pixel strip is drawn 14 px tall.
        const flat = map.shape.length !== 3;
        mapCanvas.style.width = `${mapCanvas.width * (flat ? 3 : 4)}px`;
        mapCanvas.style.height = flat ? "14px" : "auto";
        const kind = map.shape.length === 3 ? `${C} maps of ${H} by ${W}` : `${W} values`;
        mapCanvas.setAttribute("aria-label",
          `Output of layer ${layer.index}, ${layer.layer}: ${kind}, from ` +
          `${style.low.toPrecision(3)} to ${style.high.toPrecision(3)} ` +
          `(${style.signed ? "blue negative, red positive" : "dark low, yellow high"}).`);
        shown.push(figure);
      }
      maps.replaceChildren(...shown);
    }

    function draw() {
      const error = model.get("error");
      const engine = model.get("engine");
      menu.value = String(model.get("example"));
      stages.checked = !!model.get("stages_only");
      drawProbabilities();
      drawMaps();
      const answered = model.get("answered") === model.get("request");
      let words = "";
      if (onPage && !error && engine !== "browser") {
        words = `${LOADING}… The picture shows Python's answer for ` +
          `${(model.get("status") || "").split(":")[0]}.`;
      } else if (!error && !answered) {
        words = "Computing…";
      }
      note.textContent = words;
      note.hidden = !words;
      // Busy until the numbers shown belong to the input shown (the first answer of the
      // browser's LeNet on a page): what assistive technology and the benchmark wait for.
      root.setAttribute("aria-busy", words ? "true" : "false");
      canvas.setAttribute("aria-label", `The input, 28 by 28 pixels: ` +
        `${(model.get("drawing") || []).length ? model.get("input_name") || "your drawing"
          : `test image #${model.get("example")}`}.`);
      status.replaceChildren();
      if (error || uploadError) {
        const also = error && engine !== "browser" && onPage
          ? " The picture shows Python's answer: " : " The picture shows the last answer: ";
        status.append(element("span", { class: "cnnx-error" }, uploadError || error),
          document.createTextNode(uploadError ? "" : also + (model.get("status") || "")));
      } else {
        status.append(element("span", { class: "cnnx-summary" }, model.get("status") || ""));
      }
    }

    // One redraw per batch of changes; the ink follows the input controls.
    const schedule = batched(draw);
    function inputChanged() {
      if (!last) loadInk(); // while a stroke is drawn the ink is already ahead
      uploadError = "";
      schedule();
    }
    const inputs = ["example", "drawing"].map((name) => `change:${name}`);
    const events = ["input_name", "upload_steps", "stages_only", "request", "probabilities", "maps",
      "predicted", "label", "status", "engine", "answered", "error"]
      .map((name) => `change:${name}`);
    for (const event of inputs) model.on(event, inputChanged);
    for (const event of events) model.on(event, schedule);
    loadInk();
    draw();
    return () => {
      for (const event of inputs) model.off(event, inputChanged);
      for (const event of events) model.off(event, schedule);
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointermove", onMove);
      canvas.removeEventListener("pointerup", onUp);
      canvas.removeEventListener("pointercancel", onUp);
      if (frame) cancelAnimationFrame(frame);
    };
  }

  CNNExplorers.define("FeatureMapExplorer", { render, compute, convertUpload });
})();
