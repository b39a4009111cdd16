/**
 * kernel.js: the front-end of section 7.2's kernel explorer.
 *
 * The same file runs in JupyterLab (Python's KernelExplorer computes the values with
 * cnnlib.ops.corr2d_vectorized, that is PyTorch, converts an uploaded picture with Pillow and
 * syncs the results) and on the website (compute() below derives them in the browser with
 * CNNOps.corr2d, mirroring cnnlib.widgets.kernel_explorer message for message, and converts an
 * uploaded picture, decoded by the browser onto a canvas, with the steps of
 * cnnlib.widgets.feature_maps.image_from_bytes, Pillow's arithmetic included). See cnn-host.js for the contract and README.md beside this file.
 *
 * Model values. Controls: preset (a preset's name or "custom"), kernel_text (the box),
 * input_choice (a key of `inputs`), upload ({name, content: the file's bytes} until it is
 * converted, then {}). Data from Python: inputs (input name -> rows of values), sources (input
 * name -> how an upload was converted), presets (name -> {values, text}), upload_size, note.
 * Derived: shown_input (the input they belong to), kernel_values, output_values (rows),
 * titles, summary and error.
 *
 * Needs CNNOps (cnn-ops.js) on the page for the cross-correlation itself.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, pyGeneral, baseStyle, batched, statusLine, mixStops, controlsFor,
    grayscaleUpload } = CNNExplorers.kit;
  const CUSTOM = "custom"; // cnnlib.widgets.kernel_explorer.CUSTOM
  const MAX_KERNEL_SIZE = 7; // cnnlib.widgets.kernel_explorer.MAX_KERNEL_SIZE
  const UPLOAD_PREFIX = "upload: "; // cnnlib.widgets.kernel_explorer.UPLOAD_PREFIX
  const FLOAT32_MAX = 3.4028234663852886e38; // torch.finfo(torch.float32).max
  const ANNOTATE_MAX = 12; // cnnlib.viz.kernels.ANNOTATE_MAX
  const CELL = 10; // one matrix cell in SVG units

  // ------------------------------------------------------------------ numbers as Python writes them

  /** cnnlib.viz.images.format_number: "19" for whole numbers, "0.94" otherwise, never "-0". */
  function formatNumber(value, integral) {
    const v = value + 0; // -0 + 0 is 0
    if (integral) {
      const text = v.toFixed(0); // whole numbers: no rounding happens
      return text === "-0" ? "0" : text;
    }
    const text = pyFixed(v, 2);
    return text === "-0.00" ? "0.00" : text;
  }

  /** cnnlib.viz.images.is_integral. */
  function isIntegral(values) {
    return values.every((v) => v === Math.round(v) && Math.abs(v) < 1e5);
  }

  // ------------------------------------------------------------------ reading a typed kernel

  // Python's float() syntax: digits with single underscores between them, an optional
  // fraction and exponent, or inf/infinity/nan, each with an optional sign.
  const DIGITS = "\\d(?:_?\\d)*";
  const FLOAT_SYNTAX = new RegExp(
    `^[+-]?(?:(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?` +
      "|inf|infinity|nan)$", "i");

  /** A decimal digit of any script as its ASCII digit: Python's float() reads them all. */
  function asciiDigits(text) {
    return text.replace(/\p{Nd}/gu, (digit) => {
      // Unicode keeps each script's digits 0 to 9 in runs of ten consecutive code points.
      const point = digit.codePointAt(0);
      let start = point;
      while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
      return String((point - start) % 10);
    });
  }

  /** Python's float(text): the same number, or an Error where float() raises ValueError. */
  function pythonFloat(token) {
    const text = asciiDigits(token);
    if (!FLOAT_SYNTAX.test(text)) throw new Error("not a number");
    const bare = text.replace(/_/g, "").toLowerCase();
    const sign = bare.startsWith("-") ? -1 : 1;
    const unsigned = bare.replace(/^[+-]/, "");
    if (unsigned === "inf" || unsigned === "infinity") return sign * Infinity;
    if (unsigned === "nan") return NaN;
    return Number(bare);
  }

  /** cnnlib.widgets.kernel_explorer._parse_number: the same checks, the same words. */
  function parseNumber(token, row) {
    let value;
    try {
      if (token.includes("/")) { // fractions such as 1/9 for a box blur
        const at = token.indexOf("/");
        const denominator = pythonFloat(token.slice(at + 1));
        const numerator = pythonFloat(token.slice(0, at));
        if (denominator === 0) throw new Error("division by zero");
        value = numerator / denominator;
      } else {
        value = pythonFloat(token);
      }
    } catch (err) {
      throw new Error(`'${token}' in row ${row} is not a number`);
    }
    if (!Number.isFinite(value)) throw new Error(`'${token}' in row ${row} is not a finite number`);
    if (Math.abs(value) > FLOAT32_MAX) {
      throw new Error(
        `'${token}' in row ${row} is too large for float32 (at most about 3.4e38 in size)`);
    }
    return value;
  }

  /**
   * cnnlib.widgets.kernel_explorer.parse_kernel: rows split by ";" or new lines, numbers by
   * spaces or commas, fractions allowed, blank rows skipped.
   *
   * @param {string} text what the reader typed.
   * @param {number} [maxSize=7] the most rows and columns accepted.
   * @returns {number[][]} the kernel's rows, each value rounded to float32.
   * @throws {Error} Python's message: empty, not a number, too large, ragged rows.
   */
  function parseKernel(text, maxSize = MAX_KERNEL_SIZE) {
    const rows = String(text).split(/[;\n]/).map((row) => row.trim()).filter((row) => row);
    if (!rows.length) {
      throw new Error("the kernel box is empty: type numbers such as 1 -1, or 1 0 -1; 1 0 -1");
    }
    const values = rows.map((row, r) =>
      row.split(/[,\s]+/).filter((token) => token).map((token) => parseNumber(token, r + 1)));
    const height = values.length, width = Math.max(...values.map((row) => row.length));
    if (height > maxSize || width > maxSize) {
      throw new Error(`the kernel has ${height} rows and up to ${width} columns; ` +
        `the explorer takes at most ${maxSize}x${maxSize}`);
    }
    values.forEach((row, r) => {
      if (row.length !== values[0].length) {
        throw new Error(`row ${r + 1} has ${row.length} numbers but row 1 has ` +
          `${values[0].length}; every row needs the same count`);
      }
    });
    return values.map((row) => row.map(Math.fround)); // torch.tensor(..., float32)
  }

  // ------------------------------------------------------------------ an uploaded picture

  /**
   * cnnlib.widgets.feature_maps.image_from_bytes after decoding (the kit's grayscaleUpload,
   * shared with feature-maps.js), as rows: the kernel's input is a matrix.
   *
   * @param {Uint8ClampedArray|number[]} rgba width × height × 4 bytes, row-major.
   * @param {number} width
   * @param {number} height
   * @param {number} size the side of the result.
   * @param {string} [kind="picture"] the file's format, for the first step's words.
   * @returns {{image: number[][], steps: string[]}} float32 values in [0, 1], and one short
   *   sentence per step taken.
   */
  function grayscaleImage(rgba, width, height, size, kind = "picture") {
    const { pixels, steps } = grayscaleUpload(rgba, width, height, size, kind);
    const image = Array.from({ length: size }, (_, i) =>
      Array.from(pixels.subarray(i * size, (i + 1) * size)));
    return { image, steps };
  }

  /** The bytes of an upload as a Uint8Array, whatever view the model holds. */
  function bytesOf(content) {
    if (content instanceof ArrayBuffer) return new Uint8Array(content);
    if (ArrayBuffer.isView(content)) {
      return new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
    }
    throw new Error("the upload holds no file content");
  }

  /** The format a MIME type names, in Pillow's words ("PNG", "JPEG"), or "picture". */
  function kindOf(type) {
    const match = /^image\/([a-z0-9.+-]+)$/i.exec(type || "");
    return match ? match[1].toUpperCase().replace(/^SVG\+XML$/, "SVG") : "picture";
  }

  /**
   * Decode an uploaded file with the browser into RGBA pixels: an ImageBitmap (no URL, so
   * no request of any kind) drawn on a canvas, as the file's own colours (no colour
   * management: Pillow applies none either).
   *
   * @param {{content: ArrayBuffer|DataView|Uint8Array, type?: string}} upload
   * @returns {Promise<{rgba: Uint8ClampedArray, width: number, height: number}>} rejects
   *   for bytes the browser cannot read as a picture.
   */
  async function decodePicture(upload) {
    const blob = new Blob([bytesOf(upload.content)], { type: upload.type || "" });
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none" });
    try {
      const { width, height } = bitmap;
      if (!width || !height) throw new Error("the picture has no pixels");
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      return { rgba: context.getImageData(0, 0, width, height).data, width, height };
    } finally {
      bitmap.close();
    }
  }

  // ------------------------------------------------------------------ compute (website only)

  /** The derived values for a state whose upload, if any, has been taken already. */
  function derive(state) {
    const inputs = state.inputs || {};
    const presets = state.presets || {};
    const choice = state.input_choice;
    const values = {};
    if (state.preset !== CUSTOM && !Object.prototype.hasOwnProperty.call(presets, state.preset)) {
      throw new Error(`unknown preset ${show(state.preset)}; choose one of ` +
        show([...Object.keys(presets), CUSTOM]));
    }
    if (!Object.prototype.hasOwnProperty.call(inputs, choice)) {
      throw new Error(`unknown input ${show(choice)}; choose one of ${show(Object.keys(inputs))}`);
    }
    let K;
    if (state.preset === CUSTOM) {
      K = parseKernel(state.kernel_text);
    } else {
      // The box shows the preset rounded to 4 digits; the kernel is the exact preset.
      K = presets[state.preset].values;
      values.kernel_text = presets[state.preset].text;
    }
    const rowsOfX = inputs[choice];
    const H = rowsOfX.length, W = rowsOfX[0].length;
    const kh = K.length, kw = K[0].length;
    if (kh > H || kw > W) {
      throw new Error(`a ${kh}×${kw} kernel does not fit inside the ${H}×${W} input; ` +
        "choose a smaller kernel or a larger input");
    }
    if (typeof CNNOps === "undefined") {
      throw new Error("cnn-ops.js is not loaded: add its script tag before this explorer's");
    }
    const Y = CNNOps.corr2d({ shape: [H, W], data: Float32Array.from(rowsOfX.flat()) },
      { shape: [kh, kw], data: Float32Array.from(K.flat()) });
    const [outH, outW] = Y.shape;
    if (!Y.data.every(Number.isFinite)) {
      const largest = Math.max(...K.flat().map(Math.abs));
      throw new Error("the output overflows float32 (its sums exceed about 3.4e38) with kernel " +
        `values up to ${pyGeneral(largest, 3)}; use smaller numbers`);
    }
    let low = Infinity, high = -Infinity;
    for (const v of Y.data) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    let summary = `X is ${H}×${W}, K is ${kh}×${kw}, so Y is ${outH}×${outW}: ` +
      `each output adds up ${kh * kw} products. ` +
      `Y ranges from ${pyGeneral(low + 0, 3)} to ${pyGeneral(high + 0, 3)}.`; // never "-0"
    const sources = state.sources || {};
    if (Object.prototype.hasOwnProperty.call(sources, choice)) summary += ` ${sources[choice]}`;
    return {
      ...values,
      shown_input: choice,
      kernel_values: K,
      output_values: Array.from({ length: outH }, (_, i) =>
        Array.from(Y.data.subarray(i * outW, (i + 1) * outW))),
      titles: [`input X ${H}×${W}`, `⋆ kernel K ${kh}×${kw}`, `= output Y ${outH}×${outW}`],
      summary,
    };
  }

  // What became of each upload this page has seen: {failed} or the converted picture. An
  // upload stays in the model until a compute succeeds, so the next change must not read it
  // again (a picture the browser cannot read is reported once).
  const taken = new WeakMap();

  /** The state with a converted upload added to the inputs (and chosen). */
  function withUpload(state, result) {
    return {
      ...state,
      inputs: { ...(state.inputs || {}), [result.key]: result.image },
      sources: { ...(state.sources || {}), [result.key]: result.sentence },
      // Chosen, unless the reader chose another input since the upload.
      input_choice: state.input_choice === result.from ? result.key : state.input_choice,
      upload: {},
    };
  }

  function withUploadValues(next) {
    const values = derive(next);
    return { ...values, inputs: next.inputs, sources: next.sources,
      input_choice: next.input_choice, upload: {} };
  }

  /**
   * The values Python's KernelExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (preset, kernel_text, input_choice, upload,
   *   inputs, sources, presets, upload_size).
   * @returns {object|Promise<object>} kernel_text (a preset's text), shown_input, kernel_values,
   *   output_values, titles and summary; with an upload also inputs, sources, input_choice
   *   and upload ({}), once the browser has decoded the picture (a Promise).
   * @throws {Error} cnnlib's message, for an unknown preset or input, a box that is not a
   *   kernel, a kernel larger than the input or an output that overflows float32.
   */
  function compute(state) {
    const upload = state.upload || {};
    if (!upload.content) return derive(state);
    const seen = taken.get(upload);
    if (seen && seen.failed) return { ...derive({ ...state, upload: {} }), upload: {} };
    if (seen) return withUploadValues(withUpload(state, seen));
    const name = String(upload.name || "picture");
    const from = state.input_choice;
    return decodePicture(upload).then(({ rgba, width, height }) => {
      const { image, steps } = grayscaleImage(rgba, width, height, state.upload_size || 28,
        kindOf(upload.type));
      const result = { key: UPLOAD_PREFIX + name, image, from,
        sentence: `The upload was ${steps.join("; ")}.` };
      taken.set(upload, result);
      return withUploadValues(withUpload(state, result));
    }, () => {
      taken.set(upload, { failed: true });
      throw new Error(`'${name}': the browser could not read it as a picture; upload a PNG ` +
        "or JPEG picture");
    });
  }

  // ------------------------------------------------------------------ drawing

  // matplotlib's colormaps as their anchor colours (ColorBrewer's, linearly interpolated,
  // as matplotlib defines them): RdBu_r for signed values, Blues and gray for the others.
  const RDBU_R = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7",
    "#f4a582", "#d6604d", "#b2182b", "#67001f"];
  const BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
    "#08519c", "#08306b"];
  const GRAY = ["#000000", "#ffffff"];

  /** Colours as cnnlib.viz draws them: draw_matrix for small matrices, imshow for images. */
  function painter(values, annotated, kind) {
    const min = Math.min(...values), max = Math.max(...values);
    const signed = values.length > 0 && min < 0;
    if (annotated) {
      let lo, hi;
      if (signed) {
        const m = Math.max(...values.map(Math.abs)) || 1;
        [lo, hi] = [-m, m];
      } else {
        [lo, hi] = [0, Math.max(max, 1e-12)];
      }
      [lo, hi] = [lo * 1.25, hi * 1.25]; // headroom keeps the digits legible
      return (v) => mixStops(signed ? RDBU_R : BLUES, (v - lo) / (hi - lo));
    }
    if (kind === "output" && signed) {
      const m = Math.max(...values.map(Math.abs)) || 1;
      return (v) => mixStops(RDBU_R, (v + m) / (2 * m));
    }
    return (v) => mixStops(GRAY, max > min ? (v - min) / (max - min) : 0);
  }

  const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;

  /**
   * One matrix as SVG: cells with their numbers for a small one; a larger one (a 28×28
   * image) as one bitmap of its colours, a pixel per value (hundreds of SVG cells would take
   * longer to lay out than a redraw may). Every value is in the cells' or the picture's
   * data-value(s), for the tests.
   */
  function matrixPicture(rows, kind, name) {
    const h = rows.length, w = rows[0].length;
    const flat = rows.flat();
    const annotated = kind === "kernel" || Math.max(h, w) <= ANNOTATE_MAX;
    const paint = painter(flat, annotated, kind);
    const integral = isIntegral(flat);
    let body = "";
    if (annotated) {
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const v = rows[r][c];
          const rgb = paint(v);
          const x = c * CELL, y = r * CELL;
          const light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] <= 127.5;
          body += `<g data-row="${r}" data-col="${c}" data-value="${v}">` +
            `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${hex(rgb)}"/>` +
            `<text x="${x + CELL / 2}" y="${y + CELL / 2}"` +
            `${light ? ' class="cnnx-light"' : ""}>${formatNumber(v, integral)}</text></g>`;
        }
      }
    } else {
      const canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      const context = canvas.getContext("2d");
      const pixels = context.createImageData(w, h);
      flat.forEach((v, t) => {
        pixels.data.set([...paint(v), 255], 4 * t);
      });
      context.putImageData(pixels, 0, 0);
      body = `<image href="${canvas.toDataURL()}" x="0" y="0" width="${w * CELL}" ` +
        `height="${h * CELL}" preserveAspectRatio="none"/>`;
    }
    let words = `${name}, ${h} by ${w}`;
    if (annotated) {
      words += ": " + rows.map((row) => row.map((v) => formatNumber(v, integral)).join(", "))
        .join("; ") + ".";
    } else {
      const low = Math.min(...flat), high = Math.max(...flat);
      words += `, drawn as a picture: values from ${pyGeneral(low + 0, 3)} to ` +
        `${pyGeneral(high + 0, 3)}` + (kind === "output" && low < 0 ?
        ", red where positive, blue where negative, white at 0." : ", dark to light.");
    }
    return { body, size: [h, w], words, annotated };
  }

  const STYLE = baseStyle("cnnx-kernel") + `
.cnnx-kernel .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.4rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-kernel .cnnx-control{display:flex;flex-direction:column;gap:.15rem;align-items:normal}
.cnnx-kernel .cnnx-control select,.cnnx-kernel .cnnx-control textarea,
.cnnx-kernel .cnnx-control input{min-height:24px;margin:0;font:inherit;max-width:100%;
  box-sizing:border-box}
.cnnx-kernel .cnnx-control textarea{font-family:monospace;min-height:5.5em;resize:vertical}
.cnnx-kernel .cnnx-hint{font-size:max(12px,.9em);color:#555}
.cnnx-kernel .cnnx-panels{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.5rem .75rem}
.cnnx-kernel .cnnx-panel{display:flex;flex-direction:column;gap:.25rem;margin:0}
.cnnx-kernel .cnnx-panel svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-kernel svg rect{stroke:#fff;stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-kernel svg.cnnx-image image{image-rendering:pixelated}
.cnnx-kernel svg text{font-size:3.2px;text-anchor:middle;dominant-baseline:central;fill:#222;
  font-variant-numeric:tabular-nums;pointer-events:none}
.cnnx-kernel svg text.cnnx-light{fill:#fff}
.cnnx-kernel .cnnx-note{display:block;font-style:italic}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-kernel-${++instances}`;
    const root = element("div", { class: "cnnx-kernel" });
    root.append(element("style", {}, STYLE));
    const form = controlsFor(model, { id, label: "Kernel and input" });
    const fieldset = form.fieldset;
    /** A labelled control, with a hint below it that a screen reader reads with it. */
    function controlBox(name, label, control, hint) {
      const holder = form.box(name, label, control);
      if (hint) {
        const note = element("span", { class: "cnnx-hint", id: `${control.id}-hint` }, hint);
        control.setAttribute("aria-describedby", note.id);
        holder.append(note);
      }
      return control;
    }
    const presetMenu = controlBox("preset", "kernel", element("select"));
    for (const name of [...Object.keys(model.get("presets") || {}), CUSTOM]) {
      presetMenu.append(element("option", { value: name }, name));
    }
    const box = controlBox("kernel_text", "kernel values", element("textarea", {
      rows: "4", spellcheck: "false", autocomplete: "off",
      placeholder: "e.g. 1 0 -1; 1 0 -1; 1 0 -1",
    }), "Type your own numbers: rows on separate lines or split by ';', numbers by spaces " +
      `or commas, fractions such as 1/9 allowed, up to ${MAX_KERNEL_SIZE}×${MAX_KERNEL_SIZE}.`);
    const inputMenu = controlBox("input_choice", "input", element("select"));
    const size = model.get("upload_size") || 28;
    const file = controlBox("upload", "your own picture", element("input", {
      type: "file", accept: "image/*",
    }), `Made ${size}×${size} grayscale as the chapter's clothes are; it joins the input menu.`);
    // Every key typed in the box is text (Shift+Enter a new line, not "run the cell"), so
    // JupyterLab's notebook shortcuts never see it; Escape still leaves for the notebook.
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") event.stopPropagation();
    });

    presetMenu.addEventListener("change", () => {
      model.set("preset", presetMenu.value);
      const preset = (model.get("presets") || {})[presetMenu.value];
      if (preset) model.set("kernel_text", preset.text); // the box shows the preset's numbers
      model.save_changes();
    });
    box.addEventListener("input", () => {
      // Typing in the box means "my own kernel": the menu switches to custom.
      model.set("kernel_text", box.value);
      const preset = (model.get("presets") || {})[model.get("preset")];
      if (preset && box.value !== preset.text) model.set("preset", CUSTOM);
      model.save_changes();
    });
    inputMenu.addEventListener("change", () => {
      model.set("input_choice", inputMenu.value);
      model.save_changes();
    });
    file.addEventListener("change", async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      const content = new DataView(await chosen.arrayBuffer());
      file.value = ""; // the same file chosen again is a new upload
      // In JupyterLab the bytes go to Python (Pillow converts them); on a page compute does.
      model.set("upload", { name: chosen.name, type: chosen.type, content });
      model.save_changes();
    });

    const panels = element("div", { class: "cnnx-panels" });
    const figures = ["input", "kernel", "output"].map((kind) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-panel-${kind}` });
      const caption = element("figcaption", { class: "cnnx-caption" });
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "img");
      figure.append(caption, svg);
      panels.append(figure);
      return { kind, figure, caption, svg };
    });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, panels, message, status);
    el.append(root);

    function syncControls() {
      const names = Object.keys(model.get("inputs") || {});
      const options = [...inputMenu.options].map((o) => o.value);
      if (options.join("\n") !== names.join("\n")) {
        inputMenu.replaceChildren(...names.map((n) => element("option", { value: n }, n)));
      }
      inputMenu.value = model.get("input_choice");
      presetMenu.value = model.get("preset");
      // Never overwrite what the reader is typing; a preset's numbers arrive from the menu.
      const text = model.get("kernel_text");
      if (box.value !== text && document.activeElement !== box) box.value = text;
    }

    function draw() {
      syncControls();
      const error = model.get("error");
      const note = model.get("note");
      const output = model.get("output_values");
      status.replaceChildren();
      const known = (model.get("inputs") || {})[model.get("shown_input")];
      if (error || !output || !output.length || !known) {
        panels.hidden = true;
        message.hidden = false;
        message.textContent = error || "no settings yet";
        status.append(element("span", { class: "cnnx-error" }, error));
      } else {
        panels.hidden = false;
        message.hidden = true;
        // The input the derived values belong to (the menu may run ahead of Python's answer).
        const shown = model.get("shown_input");
        const rows = [model.get("inputs")[shown], model.get("kernel_values"), output];
        const names = [`Input X (${shown})`, "Kernel K", "Output Y"];
        const captions = model.get("titles") || [];
        figures.forEach((panel, i) => {
          const { kind, figure, caption, svg } = panel;
          caption.textContent = captions[i] || "";
          if (panel.rows === rows[i] && panel.name === names[i]) return; // drawn already
          panel.rows = rows[i];
          panel.name = names[i];
          const picture = matrixPicture(rows[i], kind, names[i]);
          const [h, w] = picture.size;
          svg.setAttribute("viewBox", `0 0 ${w * CELL} ${h * CELL}`);
          svg.setAttribute("class", picture.annotated ? "cnnx-cells" : "cnnx-image");
          svg.setAttribute("aria-label", picture.words);
          svg.innerHTML = `<title>${picture.words}</title>${picture.body}`;
          if (picture.annotated) delete svg.dataset.values;
          else svg.dataset.values = JSON.stringify(rows[i]); // what the bitmap shows
          // Written cells stay at least 36 px wide (readable on a phone), at most 48 px;
          // an image is 168 to 280 px wide.
          const least = picture.annotated ? `${w * 36}px` : "168px";
          const most = picture.annotated ? `${w * 48}px` : "280px";
          figure.style.flex = `${picture.annotated ? w : 12} 1 0px`;
          figure.style.minWidth = `min(100%, ${least})`;
          figure.style.maxWidth = `max(${most}, 9em)`;
          svg.style.maxWidth = most;
        });
        status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
      }
      if (note) status.append(element("span", { class: "cnnx-note" }, note));
    }

    // One redraw per batch of changes: a model fires one event per changed value.
    const schedule = batched(draw);
    const events = ["preset", "kernel_text", "input_choice", "inputs", "sources", "presets",
      "note", "shown_input", "kernel_values", "output_values", "titles", "summary", "error"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
    };
  }

  CNNExplorers.define("KernelExplorer", { render, compute, parseKernel, formatG: pyGeneral,
    grayscaleImage });
})();
