/**
 * shift.js: the front-end of section 7.1's shift explorer (translation equivariance).
 *
 * The same file runs in JupyterLab (Python's ShiftExplorer computes every map with
 * cnnlib.explain.equivariance.compare_shift, that is PyTorch, and syncs them) and on the
 * website (compute() below shifts the image, convolves it with CNNOps.conv2d, multiplies it
 * by the dense matrix and measures both layers against their moved maps, mirroring
 * compare_shift and cnnlib.widgets.dense_vs_conv message for message).
 * See cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: example (an image's position in the menu), dy, dx (the shift, rows
 * down and columns right), kernel (a 3×3 preset's name), dense_kind ("random" | "tied"), and
 * `controls` (the sliders' {name, label, min, max}; Python states them). Data from Python:
 * image_data (the images as base64 float32, little-endian, row-major), image_shape
 * ([N, H, W]), image_names (the menu's entries), kernels (name -> rows), seed (the random
 * dense layer's), palette (the 256 colours of the figures' diverging map). Derived: X,
 * X_shifted, conv, conv_shifted, dense, dense_shifted (rows), conv_difference,
 * dense_difference (rows, null where the two maps see different pixels), conv_error,
 * dense_error, scale, limits, summary, titles and error.
 *
 * The random dense layer is PyTorch's: nn.Linear's default initialisation (kaiming_uniform_
 * with a = √5) drawn from torch.manual_seed(seed)'s Mersenne Twister, bit for bit, so the
 * page multiplies by the same 676×784 weights as Python without shipping them.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the convolution.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, pyGeneral, fromBase64, baseStyle, batched, statusLine,
    controlsFor, rgbOf } = CNNExplorers.kit;
  const DENSE_KINDS = ["random", "tied"]; // cnnlib.widgets.dense_vs_conv.DENSE_KINDS
  const DENSE_NAMES = { random: "dense layer", tied: "dense, tied" };
  const DENSE_LABELS = { random: "random weights", tied: "tied: the conv's" };
  const OUTSIDE = "#d9d9d9"; // cnnlib.viz.equivariance: where the maps see different pixels

  // ------------------------------------------------------------------ Python's number format

  /** Python's f"{x:+d}". */
  function signed(n) {
    return n < 0 ? `${n}` : `+${n}`;
  }

  // ------------------------------------------------------------------ data from Python

  let decoded = { text: null, values: null }; // the last images decoded (one per page)

  /**
   * The images Python sent: base64 of float32 little-endian values, row-major.
   *
   * @param {string} text image_data.
   * @param {number[]} shape image_shape, [N, H, W].
   * @returns {Float32Array} N·H·W values.
   * @throws {Error} when the text is not base64 or holds the wrong number of values.
   */
  function decodeImages(text, shape) {
    if (decoded.text !== text) {
      const bytes = fromBase64(text);
      const n = bytes.length;
      const view = new DataView(bytes.buffer, 0, n);
      const values = new Float32Array(n >> 2);
      for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(4 * i, true);
      decoded = { text, values };
    }
    const needed = shape.reduce((a, b) => a * b, 1);
    if (decoded.values.length !== needed) {
      throw new Error(`image_data holds ${decoded.values.length} values but image_shape ` +
        `${show(shape)} needs ${needed}`);
    }
    return decoded.values;
  }

  // ------------------------------------------------------------------ PyTorch's random layer

  /** torch's CPU generator after torch.manual_seed(seed): MT19937, 32-bit outputs. */
  function mersenneTwister(seed) {
    const mt = new Uint32Array(624);
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
    let index = 624;
    return function next() {
      if (index >= 624) {
        for (let k = 0; k < 624; k++) {
          const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
          mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
        }
        index = 0;
      }
      let y = mt[index++];
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    };
  }

  const denseCache = new Map(); // "seed rows cols" or the tied kernel -> matrix

  /**
   * nn.Linear(cols, rows, bias=False).weight after torch.manual_seed(seed), as
   * cnnlib.explain.equivariance.random_dense makes it: kaiming_uniform_(a=√5), that is
   * uniform_(-bound, bound) with bound = √3 · gain / √fan_in, gain = √(2 / (1 + a²)); each
   * draw takes 24 bits of one output: x · (to − from) + from, in double, stored as float32.
   */
  function randomDense(seed, rows, cols) {
    const key = `random ${seed} ${rows} ${cols}`;
    if (!denseCache.has(key)) {
      const next = mersenneTwister(seed);
      const a = Math.sqrt(5);
      const gain = Math.sqrt(2 / (1 + a * a)); // Python's a**2 is a*a, correctly rounded
      const bound = Math.sqrt(3) * (gain / Math.sqrt(cols));
      const from = Math.fround(-bound), to = Math.fround(bound);
      const span = Math.fround(to - from);
      const weights = new Float32Array(rows * cols);
      for (let i = 0; i < weights.length; i++) {
        weights[i] = (next() & 0xffffff) * (1 / 16777216) * span + from;
      }
      denseCache.set(key, weights);
    }
    return denseCache.get(key);
  }

  /**
   * cnnlib.explain.equivariance.conv_as_dense: the (H'·W') × (H·W) matrix whose row i·W' + j
   * holds the kernel placed over output (i, j)'s window and zeros elsewhere.
   */
  function tiedDense(K, kh, kw, H, W) {
    const key = `tied ${H} ${W} ${Array.from(K).join(",")}`;
    if (!denseCache.has(key)) {
      const outH = H - kh + 1, outW = W - kw + 1;
      const M = new Float32Array(outH * outW * H * W);
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const row = (i * outW + j) * H * W;
          for (let u = 0; u < kh; u++) {
            for (let v = 0; v < kw; v++) M[row + (i + u) * W + j + v] = K[u * kw + v];
          }
        }
      }
      denseCache.set(key, M);
    }
    return denseCache.get(key);
  }

  /** The dense layer's output: M (rows × cols) times x, every weight used (float32 out). */
  function matVec(M, x, rows) {
    const cols = x.length;
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      const start = r * cols;
      for (let c = 0; c < cols; c++) sum += M[start + c] * x[c];
      y[r] = sum;
    }
    return y;
  }

  // ------------------------------------------------------------------ compute (website only)

  /** cnnlib.explain.equivariance.shift_image: moved down and right, zero-filled. */
  function shiftImage(X, H, W, dy, dx) {
    for (const [name, value, size] of [["dy", dy, H], ["dx", dx, W]]) {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new Error(`${name} must be a whole number of pixels, got ${show(value)}`);
      }
      if (Math.abs(value) >= size) {
        throw new Error(`|${name}| = ${Math.abs(value)} would move the whole ${size}-pixel ` +
          `image out of view; use a shift of at most ${size - 1}`);
      }
    }
    const out = new Float32Array(H * W);
    for (let r = Math.max(dy, 0); r < H + Math.min(dy, 0); r++) {
      for (let c = Math.max(dx, 0); c < W + Math.min(dx, 0); c++) {
        out[r * W + c] = X[(r - dy) * W + c - dx];
      }
    }
    return out;
  }

  /** Rows of a flat H×W map (JSON lists, as Python's tolist()). */
  function rows(values, H, W) {
    return Array.from({ length: H }, (_, r) => Array.from(values.subarray(r * W, r * W + W)));
  }

  /**
   * after minus before moved by (dy, dx) where both see the same pixels (null elsewhere), as
   * rows, and its largest magnitude (cnnlib.explain.equivariance.overlap and compare_shift).
   */
  function movedDifference(before, after, H, W, dy, dx) {
    const difference = Array.from({ length: H }, () => new Array(W).fill(null));
    let largest = 0;
    for (let r = Math.max(dy, 0); r < H + Math.min(dy, 0); r++) {
      for (let c = Math.max(dx, 0); c < W + Math.min(dx, 0); c++) {
        const d = Math.fround(after[r * W + c] - before[(r - dy) * W + c - dx]); // float32
        difference[r][c] = d;
        largest = Math.max(largest, Math.abs(d));
      }
    }
    return { difference, largest };
  }

  /** The largest magnitude in the arrays (cnnlib.viz.images.symmetric_limits: 1 if all 0). */
  function largestMagnitude(...arrays) {
    let m = 0;
    for (const values of arrays) for (const v of values) m = Math.max(m, Math.abs(v));
    return m;
  }

  /**
   * The values Python's ShiftExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (controls and the data from Python).
   * @returns {object} the six maps, both differences, conv_error, dense_error, scale,
   *   limits, summary and titles.
   * @throws {Error} cnnlib's message, for an image the menu does not offer, an unknown kernel
   *   or dense layer, or a shift that moves the whole image out of view.
   */
  function compute(state) {
    const [N, H, W] = state.image_shape;
    const example = state.example;
    if (!Number.isInteger(example) || example < 0 || example >= N) {
      throw new Error(`example must be an image of the menu, 0 to ${N - 1}; got ${show(example)}`);
    }
    const names = Object.keys(state.kernels || {});
    if (!names.includes(state.kernel)) {
      throw new Error(`unknown kernel ${show(state.kernel)}; choose one of ${show(names)}`);
    }
    if (!DENSE_KINDS.includes(state.dense_kind)) {
      throw new Error(`dense_kind must be 'random' or 'tied', got ${show(state.dense_kind)}`);
    }
    const images = decodeImages(state.image_data, state.image_shape);
    const X = images.subarray(example * H * W, (example + 1) * H * W);
    const { dy, dx } = state;
    const shifted = shiftImage(X, H, W, dy, dx);

    const rowsOfK = state.kernels[state.kernel];
    const [kh, kw] = [rowsOfK.length, rowsOfK[0].length];
    const outH = H - kh + 1, outW = W - kw + 1;
    // cnnlib.widgets.dense_vs_conv._check_overlap: a shift past the map's size compares nothing.
    for (const [name, value, size] of [["dy", dy, outH], ["dx", dx, outW]]) {
      if (Math.abs(value) >= size) {
        throw new Error(`|${name}| = ${Math.abs(value)} moves the ${outH}×${outW} maps past ` +
          `each other, with no pixel in common to compare; use a shift of at most ${size - 1}`);
      }
    }

    // The convolution: CNNOps.conv2d, as F.conv2d(X[None, None], K[None, None]).
    const K = CNNOps.tensor([1, 1, kh, kw], rowsOfK.flat());
    const [conv, convShifted] = [X, shifted].map(
      (image) => CNNOps.conv2d(CNNOps.tensor([1, H, W], image), K).data);

    // The dense layer: its whole (H'·W') × (H·W) matrix times the flattened image.
    const tied = state.dense_kind === "tied";
    const M = tied ? tiedDense(K.data, kh, kw, H, W) : randomDense(state.seed, outH * outW, H * W);
    const dense = matVec(M, X, outH * outW);
    const denseShifted = matVec(M, shifted, outH * outW);

    const convMoved = movedDifference(conv, convShifted, outH, outW, dy, dx);
    const denseMoved = movedDifference(dense, denseShifted, outH, outW, dy, dx);
    const scale = largestMagnitude(dense, denseShifted);
    const convLimit = largestMagnitude(conv, convShifted) || 1;
    const share = scale ? denseMoved.largest / scale : 0;
    const summary =
      `shift (${signed(dy)}, ${signed(dx)}), where both outputs see the same pixels: the ` +
      `convolution's largest difference from its moved map ${pyGeneral(convMoved.largest, 3)}\n` +
      `dense layer (${tied ? "tied to the convolution" : "random weights"}): largest ` +
      `difference ${pyGeneral(denseMoved.largest, 3)}, ${pyFixed(share * 100, 0)}% of its largest ` +
      "output";
    return {
      X: rows(X, H, W),
      X_shifted: rows(shifted, H, W),
      conv: rows(conv, outH, outW),
      conv_shifted: rows(convShifted, outH, outW),
      dense: rows(dense, outH, outW),
      dense_shifted: rows(denseShifted, outH, outW),
      conv_difference: convMoved.difference,
      dense_difference: denseMoved.difference,
      conv_error: convMoved.largest,
      dense_error: denseMoved.largest,
      scale,
      limits: [convLimit, scale || 1],
      summary,
      titles: ["input", "convolution", DENSE_NAMES[state.dense_kind]],
    };
  }

  // ------------------------------------------------------------------ drawing

  /**
   * Paint a map on its canvas, one canvas pixel per value (CSS scales it up without
   * smoothing); colour(value) gives [r, g, b] (null values are grey: no common pixels).
   * A canvas and not an SVG of rects: 784 cells per picture, eight pictures per redraw.
   */
  function paint(canvas, values, colour, words) {
    const H = values.length, W = values[0].length;
    if (canvas.width !== W || canvas.height !== H) {
      canvas.width = W;
      canvas.height = H;
    }
    const context = canvas.getContext("2d");
    const image = context.createImageData(W, H);
    let p = 0;
    for (const line of values) {
      for (const v of line) {
        const [r, g, b] = v === null ? OUTSIDE_RGB : colour(v);
        image.data[p++] = r;
        image.data[p++] = g;
        image.data[p++] = b;
        image.data[p++] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    canvas.setAttribute("aria-label", words);
    canvas.textContent = words; // what a browser without canvas shows
  }

  const OUTSIDE_RGB = rgbOf(OUTSIDE);

  /** matplotlib's colour index for t in [0, 1] (Colormap.__call__ with N = 256). */
  function colourIndex(t) {
    return Math.min(255, Math.max(0, Math.floor(t * 256)));
  }

  /** A value in [0, 1] on matplotlib's "gray" map (black 0, white 1). */
  function grey(v) {
    const level = colourIndex(v);
    return [level, level, level];
  }

  /** A value in [-m, m] on the diverging palette (0 mid-scale, white). */
  function diverging(palette, m) {
    const colours = palette.map(rgbOf);
    return (v) => colours[colourIndex((v + m) / (2 * m))];
  }

  /** "from -1.2 to 3.4", Python's 3 significant digits. */
  function span(values) {
    const flat = values.flat().filter((v) => v !== null);
    if (!flat.length) return "no common pixels";
    return `from ${pyGeneral(Math.min(...flat), 3)} to ${pyGeneral(Math.max(...flat), 3)}`;
  }

  const STYLE = baseStyle("cnnx-shift") + `
.cnnx-shift{font-size:max(12px,1em);line-height:1.35;color:#222;max-width:44rem}
.cnnx-shift .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-shift .cnnx-control{display:flex;align-items:center;gap:.5rem;margin:0;padding:0;border:0}
.cnnx-shift .cnnx-control>label,.cnnx-shift .cnnx-control>legend{flex:0 0 6.5em;padding:0}
.cnnx-shift .cnnx-control input[type=range],.cnnx-shift .cnnx-control select{flex:1 1 auto;
  min-width:5rem;min-height:24px;margin:0;font:inherit}
.cnnx-shift .cnnx-control output{flex:0 0 3ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-shift .cnnx-radios{display:flex;flex-wrap:wrap;gap:.25rem .75rem}
.cnnx-shift .cnnx-radios label{display:inline-flex;align-items:center;gap:.25rem;min-height:24px}
.cnnx-shift .cnnx-grid{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));
  gap:.5rem .75rem;max-width:40rem}
.cnnx-shift figure{margin:0;min-width:0}
.cnnx-shift figcaption{overflow-wrap:anywhere}
.cnnx-shift canvas{display:block;width:100%;height:auto;image-rendering:pixelated}
.cnnx-shift .cnnx-moved{align-self:center;text-align:center;white-space:pre-line}
.cnnx-shift .cnnx-status{margin-top:.5rem;min-height:1.35em;overflow-wrap:anywhere;
  white-space:pre-line}
`;

  // The nine cells of the picture: [row, kind] of each map, null for the "moved" note.
  const PANELS = [
    ["input", "X"], ["input", "X_shifted"], null,
    ["convolution", "conv"], ["convolution", "conv_shifted"], ["convolution", "conv_difference"],
    ["dense", "dense"], ["dense", "dense_shifted"], ["dense", "dense_difference"],
  ];

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-shift-${++instances}`;
    const root = element("div", { class: "cnnx-shift" });
    root.append(element("style", {}, STYLE));
    const controls = controlsFor(model, { id, label: "Shift settings" });
    const fieldset = controls.fieldset;
    const inputs = {};
    // In Python's order: image, the two shifts, kernel, dense layer.
    inputs.example = controls.menu("example", "image",
      (model.get("image_names") || []).map((text, i) => [i, text]), Number);
    for (const spec of model.get("controls") || []) inputs[spec.name] = controls.slider(spec);
    inputs.kernel = controls.menu("kernel", "kernel",
      Object.keys(model.get("kernels") || {}).map((k) => [k, k]));
    // The dense layer: two radio buttons (ipywidgets' ToggleButtons), one labelled group.
    const group = element("fieldset", { class: "cnnx-control" });
    group.append(element("legend", {}, "dense"));
    const radios = element("div", { class: "cnnx-radios" });
    const radioInputs = DENSE_KINDS.map((kind) => {
      const radio = element("input", {
        type: "radio", name: `${id}-dense_kind`, value: kind, id: `${id}-dense-${kind}`,
        "data-control": "dense_kind",
      });
      const label = element("label", { for: radio.id });
      label.append(radio, DENSE_LABELS[kind]);
      radios.append(label);
      radio.addEventListener("change", () => {
        if (!radio.checked) return;
        model.set("dense_kind", kind);
        model.save_changes();
      });
      return radio;
    });
    group.append(radios);
    fieldset.append(group);

    const grid = element("div", { class: "cnnx-grid" });
    const panels = PANELS.map((panel) => {
      if (!panel) {
        const note = element("p", { class: "cnnx-moved" });
        grid.append(note);
        return { note };
      }
      const figure = element("figure", { class: "cnnx-panel", "data-map": panel[1] });
      const caption = element("figcaption");
      const canvas = element("canvas", { role: "img" });
      figure.append(caption, canvas);
      grid.append(figure);
      return { figure, caption, canvas, row: panel[0], name: panel[1] };
    });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, grid, message, status);
    el.append(root);

    function draw() {
      for (const [name, { input, value }] of Object.entries(inputs)) {
        input.value = String(model.get(name));
        if (value) value.textContent = model.get(name);
      }
      for (const radio of radioInputs) radio.checked = radio.value === model.get("dense_kind");
      const error = model.get("error");
      status.replaceChildren();
      const maps = model.get("conv");
      if (error || !maps || !maps.length) {
        // A bad setting: say why, here and in the status line; the controls stay usable.
        grid.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      grid.hidden = false;
      message.hidden = true;
      const dy = model.get("dy"), dx = model.get("dx");
      const shift = `(${signed(dy)}, ${signed(dx)})`;
      const [, convName, denseName] = model.get("titles");
      const names = { input: "input", convolution: convName, dense: denseName };
      const palette = model.get("palette");
      const [convLimit, denseLimit] = model.get("limits");
      const colours = {
        input: grey,
        convolution: diverging(palette, convLimit),
        dense: diverging(palette, denseLimit),
      };
      for (const panel of panels) {
        if (panel.note) {
          panel.note.textContent = `moved\n${signed(dy)} rows\n${signed(dx)} columns`;
          continue;
        }
        const values = model.get(panel.name);
        const kind = panel.name.endsWith("difference") ? "difference"
          : panel.name.endsWith("shifted") ? "shifted" : "original";
        const title = kind === "difference" ? "difference"
          : kind === "shifted" ? `shifted ${shift}` : names[panel.row];
        const who = panel.row === "input" ? "The image" : `The ${names[panel.row]}'s output`;
        const words = kind === "difference"
          ? `${who} for the shifted image minus its output for the original moved by ` +
            `${shift}, where both see the same pixels (grey elsewhere), ` +
            `${values.length} by ${values[0].length}: values ${span(values)}.`
          : `${who}${kind === "shifted" ? `, shifted by ${shift}` : ""}, ${values.length} by ` +
            `${values[0].length}: values ${span(values)}` +
            (panel.row === "input" ? ", black 0 to white 1." : ", blue negative, red positive.");
        panel.caption.textContent = title;
        paint(panel.canvas, values, colours[panel.row], words);
      }
      const [first, second] = model.get("summary").split("\n");
      status.append(
        element("span", { class: "cnnx-summary", "data-value": model.get("conv_error") }, first),
        "\n",
        element("span", { class: "cnnx-summary", "data-value": model.get("dense_error"),
          "data-scale": model.get("scale") }, second),
      );
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["example", "dy", "dx", "kernel", "dense_kind", "controls", "image_names",
      "kernels", "palette", "X", "X_shifted", "conv", "conv_shifted", "dense", "dense_shifted",
      "conv_difference", "dense_difference", "conv_error", "dense_error", "scale", "limits",
      "summary", "titles", "error"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("ShiftExplorer", { render, compute });
})();
