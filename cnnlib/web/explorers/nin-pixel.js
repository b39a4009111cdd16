/**
 * nin-pixel.js: the front-end of section 8.3's NiNPixelExplorer (a 1×1 convolution of the
 * trained NiN, taken apart at one pixel).
 *
 * The same file runs in JupyterLab (Python's NiNPixelExplorer computes every value with
 * cnnlib.explain.nin_maps and PyTorch, and syncs it) and on the website, where compute()
 * below runs the shipped NiN in the reader's browser (CNNNetworks.load, onnxruntime-web) on
 * the gallery image Python sent, and derives the same values: x, the input channels at the
 * pixel; W and b, the 1×1 kernel as a matrix; pre = W x + b; out = ReLU(pre). See
 * cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: example (the image's position), layer (a 1×1 convolution's name
 * in model.net, "0.2"), row, col. Menus: example_options, layer_options ([label, value]).
 * Page data (website only): network ("nin"), images (the gallery, encoded), layers (per
 * convolution: W encoded, b, kernel shape, the export's names of its input and output maps,
 * the conv/pool layers up to it). Derived: image, maps_in, maps_out (after the ReLU), W
 * (encoded arrays {shape, dtype, data}), x, b, pre, out (lists), region, header, summary.
 *
 * The network is loaded only when the explorer comes near the screen; until the first
 * answer, the picture Python drew for the page (if the page has one) stays, and the box says
 * so; a browser that cannot run the network says so and keeps that picture.
 */
(function () {
  "use strict";

  const { show, element, baseStyle, batched, statusLine, controlsFor, whenInView, mixStops,
    arrayOf, arrayOfAsync, madeArray } = CNNExplorers.kit;
  const MARK = "#e8282b"; // cnnlib.viz.nin_maps._MARK
  const POSITIVE = "#3d85c6", NEGATIVE = "#cc4125"; // cnnlib.viz.nin_maps
  const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
  const RDBU_R = ["#053061", "#4393c3", "#f7f7f7", "#d6604d", "#67001f"];
  const SVG = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ compute (website only)

  let release = null;
  let near = false; // whether the network is wanted yet (busy only from then on)
  /** Resolves once an explorer of this kind is near the screen (immediately without a DOM). */
  const needed = new Promise((resolve) => {
    release = () => {
      near = true;
      resolve();
    };
  });
  if (typeof IntersectionObserver === "undefined") release();

  const cache = { images: null, imagesOf: null, runs: new Map(), derived: new Map() };

  /** The gallery's pixels, decoded once per page. */
  function galleryOf(state) {
    if (cache.imagesOf !== state.images) {
      cache.imagesOf = state.images;
      cache.images = arrayOfAsync(state.images);
      cache.runs.clear();
      cache.derived.clear();
    }
    return cache.images;
  }

  /** The network's maps around every 1×1 convolution for image k: one run per image. */
  function mapsFor(state, k) {
    if (!cache.runs.has(k)) {
      const names = [...new Set(Object.values(state.layers).flatMap((spec) => spec.maps))];
      const run = Promise.all([galleryOf(state), CNNNetworks.load(state.network)])
        .then(([images, net]) => {
          const [, side, side2] = images.shape;
          const pixels = images.data.subarray(k * side * side2, (k + 1) * side * side2);
          return net.run(pixels, { maps: names });
        })
        .then((out) => ({ maps: out.maps }));
      run.catch(() => cache.runs.delete(k)); // a later change may try again
      cache.runs.set(k, run);
    }
    return cache.runs.get(k);
  }

  /** The per-image, per-layer arrays (kept, so an unchanged array is the same object). */
  function arraysFor(state, k, images, maps) {
    const key = `${k}/${state.layer}`;
    if (!cache.derived.has(key)) {
      const spec = state.layers[state.layer];
      const [inName, outName] = spec.maps;
      const mapIn = maps[inName], mapPre = maps[outName];
      const [, C, h, w] = mapIn.shape;
      const [, cOut] = mapPre.shape;
      const [, side, side2] = images.shape;
      cache.derived.set(key, {
        image: madeArray([side, side2], images.data.slice(k * side * side2, (k + 1) * side * side2)),
        maps_in: madeArray([C, h, w], Float32Array.from(mapIn.data)),
        maps_out: madeArray([cOut, h, w], Float32Array.from(mapPre.data, (v) => Math.max(v, 0))),
        W: weightsOf(spec),
      });
    }
    return cache.derived.get(key);
  }

  const weights = new WeakMap(); // a layer's page data -> its W, decoded once
  function weightsOf(spec) {
    if (!weights.has(spec)) {
      const W = arrayOf(spec.W);
      weights.set(spec, madeArray(W.shape, W.data));
    }
    return weights.get(spec);
  }

  /** cnnlib.widgets.nin_maps._check_example: the same words. */
  function checkExample(example, count) {
    if (typeof example !== "number" || !Number.isInteger(example) || example < 0 ||
        example >= count) {
      throw new Error(`example must be an image's position 0..${count - 1}, got ${show(example)}`);
    }
  }

  /**
   * The values Python's NiNPixelExplorer derives, computed in the browser by the shipped NiN.
   *
   * @param {object} state the model's values (example, layer, row, col and the page data).
   * @returns {Promise<object>} row and col pulled into the map, image, maps_in, maps_out, W,
   *   x, b, pre, out, region, header and summary.
   * @throws {Error} cnnlib's message for an unknown image or layer (at once); the Promise
   *   rejects with "this browser cannot run the network: ..." when the network cannot run.
   */
  function compute(state) {
    const layers = state.layers || {};
    checkExample(state.example, (state.example_options || []).length);
    if (!Object.prototype.hasOwnProperty.call(layers, state.layer)) {
      throw new Error(`layer must name a 1x1 convolution of model.net, one of ` +
        `${show(Object.keys(layers))}; got ${show(state.layer)}`);
    }
    if (typeof CNNNetworks === "undefined" || !CNNNetworks.load) {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    const k = state.example;
    return needed
      .then(() => Promise.all([galleryOf(state), mapsFor(state, k)]))
      .then(([images, { maps }]) => derive(state, arraysFor(state, k, images, maps)));
  }

  /** cnnlib.explain.nin_maps.pixel_dense and the explorer's texts, from the arrays. */
  function derive(state, arrays) {
    const spec = state.layers[state.layer];
    const [C, h, w] = arrays.maps_in.shape;
    const [cOut] = arrays.maps_out.shape;
    // A pixel past a smaller map moves to its last row or column, as a slider clamps.
    const row = Math.min(Math.max(state.row | 0, 0), h - 1);
    const col = Math.min(Math.max(state.col | 0, 0), w - 1);
    const x = Array.from({ length: C }, (_, c) => arrays.maps_in.data[(c * h + row) * w + col]);
    const W = arrays.W.data;
    const b = spec.b.slice();
    // W x + b, the dense layer at this pixel: float64 sums, rounded to float32 as torch keeps.
    const pre = Array.from({ length: cOut }, (_, o) => {
      let sum = b[o];
      for (let c = 0; c < C; c++) sum += W[o * C + c] * x[c];
      return Math.fround(sum);
    });
    const out = pre.map((v) => Math.max(v, 0));
    const box = CNNOps.inputRegion(spec.chain, row, col, arrays.image.shape);
    const positive = out.filter((v) => v > 0).length;
    const kernel = `(${spec.kernel.join(", ")})`;
    return {
      row, col, ...arrays, x, b, pre, out,
      region: [[box.top, box.bottom], [box.left, box.right]],
      header: `${spec.label}: pixel (row ${row}, col ${col}), marked in every map`,
      summary: `out = ReLU(W x + b) at pixel (${row}, ${col}) of net.${state.layer}: x is the ` +
        `${C} input channels there, shape (${C},); W is the 1×1 kernel ${kernel} reshaped ` +
        `to (${cOut}, ${C}); b has shape (${cOut},); out has shape (${cOut},). The same W ` +
        `and b serve all ${h}×${w} = ${h * w} pixels. ${positive} of the ${cOut} outputs ` +
        "are positive here.",
    };
  }

  // ------------------------------------------------------------------ drawing

  /**
   * A PNG data URL of maps (C, h, w) tiled ncols wide with one pixel between them, one colour
   * scale (cnnlib.viz.nin_maps._mosaic: viridis from min to max, RdBu_r around 0 when
   * negative), or of one grey image. Its own, not the kit's tile + pictureURL: the mosaic
   * is always ncols wide (tile's is at most as wide as there are maps), and its colour map
   * is five stops mixed.
   */
  function mosaicURL(array, ncols, gray = false) {
    const [C, h, w] = array.shape.length === 2 ? [1, ...array.shape] : array.shape;
    const rows = Math.ceil(C / ncols);
    const width = ncols * (w + 1) - 1, height = rows * (h + 1) - 1;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const picture = context.createImageData(width, height);
    let low = Infinity, high = -Infinity;
    for (const v of array.data) { low = Math.min(low, v); high = Math.max(high, v); }
    let stops = VIRIDIS;
    if (gray) { low = 0; high = 1; } else if (low < 0) {
      stops = RDBU_R;
      high = Math.max(-low, high) || 1;
      low = -high;
    } else if (high <= low) high = low + 1e-12;
    for (let c = 0; c < C; c++) {
      const top = Math.floor(c / ncols) * (h + 1), left = (c % ncols) * (w + 1);
      for (let r = 0; r < h; r++) {
        for (let q = 0; q < w; q++) {
          const t = (array.data[(c * h + r) * w + q] - low) / (high - low);
          const rgb = gray ? [0, 1, 2].map(() => Math.round(255 * Math.min(Math.max(t, 0), 1)))
            : mixStops(stops, t);
          const at = 4 * ((top + r) * width + left + q);
          picture.data.set([...rgb, 255], at);
        }
      }
    }
    context.putImageData(picture, 0, 0);
    return { url: canvas.toDataURL("image/png"), width, height };
  }

  const bitmaps = new WeakMap(); // a model value -> its bitmap: a pixel's move redraws none
  function cachedMosaic(value, ncols, gray = false, asMatrix = false) {
    const key = `${ncols} ${gray} ${asMatrix}`;
    const known = bitmaps.get(value);
    if (known && known.key === key) return known.bitmap;
    const array = arrayOf(value);
    const bitmap = mosaicURL(asMatrix ? { shape: [1, ...array.shape], data: array.data } : array,
      ncols, gray);
    bitmaps.set(value, { key, bitmap });
    return bitmap;
  }

  function columnsFor(count) {
    return Math.max(1, Math.ceil(Math.sqrt(count)));
  }

  /** An <svg role="img"> with a pixelated bitmap and SVG marks on top. */
  function bitmapSVG(svg, bitmap, marks, words) {
    svg.setAttribute("viewBox", `0 0 ${bitmap.width} ${bitmap.height}`);
    svg.setAttribute("aria-label", words);
    svg.innerHTML = `<title>${words}</title><image href="${bitmap.url}" width="${bitmap.width}" ` +
      `height="${bitmap.height}" preserveAspectRatio="none" style="image-rendering:pixelated"/>` +
      marks;
  }

  /** Bars of values along one axis (x above W's columns; out beside W's rows). */
  function barsSVG(svg, values, vertical, words, outline) {
    const n = values.length;
    const all = outline ? values.concat(outline) : values;
    const low = Math.min(0, ...all), high = Math.max(0, ...all);
    const span = high - low || 1;
    const length = 40; // the bars' axis, in viewBox units
    const at = (v) => ((v - low) / span) * length;
    let body = "";
    const bar = (i, v, attrs) => {
      const a = Math.min(at(0), at(v)), size = Math.abs(at(v) - at(0));
      return vertical
        ? `<rect x="${i + 0.1}" y="${length - a - size}" width="0.8" height="${size}" ${attrs}/>`
        : `<rect y="${i + 0.1}" x="${a}" height="0.8" width="${size}" ${attrs}/>`;
    };
    values.forEach((v, i) => {
      const extra = outline ? ` data-pre="${outline[i]}"` : "";
      body += bar(i, v, `fill="${v >= 0 ? POSITIVE : NEGATIVE}" data-index="${i}" ` +
        `data-value="${v}"${extra}`);
      if (outline) body += bar(i, outline[i], 'fill="none" stroke="#8c8c8c" class="cnnx-pre"');
    });
    const zero = at(0);
    body += vertical
      ? `<line x1="0" x2="${n}" y1="${length - zero}" y2="${length - zero}" stroke="#4d4d4d"/>`
      : `<line y1="0" y2="${n}" x1="${zero}" x2="${zero}" stroke="#4d4d4d"/>`;
    svg.setAttribute("viewBox", vertical ? `0 0 ${n} ${length}` : `0 0 ${length} ${n}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-label", words);
    svg.innerHTML = `<title>${words}</title>${body}`;
  }

  const STYLE = baseStyle("cnnx-nin") + `
.cnnx-nin .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-nin .cnnx-control label{flex:0 0 6.5em}
.cnnx-nin .cnnx-control input,.cnnx-nin .cnnx-control select{flex:1 1 auto;min-width:5rem;
  min-height:24px;margin:0;font:inherit;max-width:100%}
.cnnx-nin .cnnx-control output{flex:0 0 2ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-nin .cnnx-header{margin:.25rem 0;overflow-wrap:anywhere}
.cnnx-nin .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-start}
.cnnx-nin figure{margin:0;display:flex;flex-direction:column;gap:.2rem;min-width:0}
.cnnx-nin figcaption{font-size:max(12px,.9em)}
.cnnx-nin svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-nin .cnnx-image{flex:0 1 9rem}
.cnnx-nin .cnnx-maps{flex:1 1 12rem;max-width:18rem}
.cnnx-nin .cnnx-maps svg{cursor:crosshair}
.cnnx-nin .cnnx-dense{display:grid;grid-template-columns:minmax(0,12rem) minmax(4rem,8rem);
  grid-template-areas:"x ." "W out";gap:.3rem .5rem;margin-top:.75rem}
.cnnx-nin .cnnx-x{grid-area:x}.cnnx-nin .cnnx-W{grid-area:W}.cnnx-nin .cnnx-out{grid-area:out}
.cnnx-nin .cnnx-x svg{height:3rem}.cnnx-nin .cnnx-out svg,.cnnx-nin .cnnx-W svg{height:12rem}
.cnnx-nin .cnnx-pre{vector-effect:non-scaling-stroke;stroke-width:1px}
.cnnx-nin .cnnx-loading{padding:.5rem;border:1px solid #888;border-radius:4px;margin:.25rem 0}
.cnnx-nin .cnnx-loading img{display:block;max-width:100%;height:auto;margin-top:.4rem}
`;

  let instances = 0;

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-ninp-${++instances}`;
    const root = element("div", { class: "cnnx-nin cnnx-nin-pixel" });
    root.append(element("style", {}, STYLE));

    // On a page the model computes in the browser (cnn-host.js's LocalModel has settled()):
    // the explorer is aria-busy from a change until its answer is in. In JupyterLab, Python.
    const local = typeof model.settled === "function";
    let pending = 0;
    function markBusy() {
      const waiting = pending > 0 || (local && near && !model.get("maps_in") && !model.get("error"));
      root.setAttribute("aria-busy", String(waiting));
    }
    function save() {
      model.save_changes();
      if (!local) return;
      pending += 1;
      markBusy();
      const done = () => { pending -= 1; markBusy(); };
      model.settled().then(done, done);
    }
    const form = controlsFor(model, { id, save,
      label: "1×1 convolution at one pixel: settings" });
    const fieldset = form.fieldset;
    const controls = {};
    for (const [name, label, optionsName, read] of [
      ["example", "image", "example_options", Number],
      ["layer", "1×1 conv", "layer_options", String]]) {
      const options = (model.get(optionsName) || []).map(([text, value]) => [value, text]);
      controls[name] = form.menu(name, label, options, read);
    }
    for (const [name, label] of [["row", "pixel row"], ["col", "pixel column"]]) {
      controls[name] = form.slider({ name, label, min: 0, max: 0 });
    }

    const loading = element("div", { class: "cnnx-loading", hidden: "" });
    const loadingText = element("p", { style: "margin:0" });
    loading.append(loadingText);
    // The picture Python drew for the website's page (page.live_html's fallback): kept while
    // the network loads, and when it cannot run. A page without one (JupyterLab) has none.
    const host = el.closest ? el.closest(".cnn-explorer") : null;
    const picture = host ? host.querySelector(".cnnx-fallback img") : null;
    if (picture) loading.append(picture);

    const header = element("p", { class: "cnnx-header" });
    const panels = element("div", { class: "cnnx-panels" });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    function figure(kind, parent, captionBelow = false) {
      const node = element("figure", { class: `cnnx-${kind}` });
      const caption = element("figcaption");
      const svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("role", "img");
      // W's rows and the outputs' bars line up: their captions go below them.
      if (captionBelow) node.append(svg, caption);
      else node.append(caption, svg);
      parent.append(node);
      return { node, caption, svg };
    }
    const figures = {};
    for (const kind of ["image", "maps-in", "maps-out"]) figures[kind] = figure(kind, panels);
    figures["maps-in"].node.classList.add("cnnx-maps");
    figures["maps-out"].node.classList.add("cnnx-maps");
    const dense = element("div", { class: "cnnx-dense" });
    for (const kind of ["x", "W", "out"]) figures[kind] = figure(kind, dense, kind !== "x");
    const body = element("div");
    body.append(header, panels, dense);

    // A click on a map picks that pixel (the sliders do the same from the keyboard).
    function pick(event, svg) {
      const shape = model.get("maps_in") && model.get("maps_in").shape;
      if (!shape) return;
      const [C, h, w] = shape;
      const box = svg.getBoundingClientRect();
      const view = svg.viewBox.baseVal;
      const u = ((event.clientX - box.left) / box.width) * view.width;
      const v = ((event.clientY - box.top) / box.height) * view.height;
      const q = Math.floor(u) % (w + 1), r = Math.floor(v) % (h + 1);
      if (q >= w || r >= h || C === 0) return; // the gap between two maps
      model.set("row", r);
      model.set("col", q);
      save();
    }
    for (const kind of ["maps-in", "maps-out"]) {
      const svg = figures[kind].svg;
      svg.addEventListener("click", (event) => pick(event, svg));
    }

    root.append(fieldset, loading, body, message, status);
    el.append(root);

    function draw() {
      markBusy();
      const value = model.get("maps_in");
      const mapsIn = value && value.shape ? value : null; // its shape; the bitmap is cached
      // The pixel's range: the map on screen, or before the first answer the page data's.
      const layerSpec = (model.get("layers") || {})[model.get("layer")];
      const mapSize = mapsIn ? mapsIn.shape.slice(1) : layerSpec ? layerSpec.map : null;
      if (mapSize) {
        controls.row.input.max = mapSize[0] - 1;
        controls.col.input.max = mapSize[1] - 1;
      }
      for (const [name, { input, value }] of Object.entries(controls)) {
        input.value = String(model.get(name));
        if (value) value.textContent = model.get(name);
      }
      const error = model.get("error");
      status.replaceChildren();
      // Without a network there is nothing the controls could change.
      fieldset.disabled = !mapsIn && Boolean(error);
      if (!mapsIn) {
        // Nothing computed yet: the network is loading, or cannot run here.
        body.hidden = true;
        message.hidden = true;
        loading.hidden = false;
        loadingText.textContent = error
          ? `${error}. ${picture ? "The picture is Python's drawing of the first setting; " : ""}` +
            "run the notebook to use the explorer."
          : (near || !local ? "Loading the trained NiN to run in your browser"
            : "The trained NiN loads to run in your browser when this explorer is on screen") +
            (picture ? "; until it answers, the picture is Python's drawing of the first setting."
              : "…");
        if (error) status.append(element("span", { class: "cnnx-error" }, error));
        else if (near || !local) status.append(element("span", {}, "Loading the trained NiN…"));
        return;
      }
      loading.hidden = true;
      if (picture && picture.parentNode) picture.remove(); // the live picture replaces it
      if (error) {
        body.hidden = true;
        message.hidden = false;
        message.textContent = error;
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      body.hidden = false;
      message.hidden = true;
      const [C, h, w] = mapsIn.shape;
      const row = model.get("row"), col = model.get("col");
      const image = model.get("image"); // shapes only: the bitmaps are cached
      const [cOut] = model.get("maps_out").shape;
      const [[r0, r1], [c0, c1]] = model.get("region");
      header.textContent = model.get("header");

      const [side, side2] = image.shape;
      figures.image.caption.textContent = `input ${side}×${side2}`;
      bitmapSVG(figures.image.svg, cachedMosaic(model.get("image"), 1, true),
        `<rect x="${c0}" y="${r0}" width="${c1 - c0}" height="${r1 - r0}" fill="none" ` +
        `stroke="${MARK}" stroke-width="${Math.max(1, side / 80)}" class="cnnx-region"/>`,
        `The input image, ${side} by ${side2} pixels; a red box marks the rows ${r0} to ` +
        `${r1 - 1} and columns ${c0} to ${c1 - 1} that pixel (${row}, ${col}) of the map depends on.`);

      for (const [kind, count, caption, words] of [
        ["maps-in", C, `x: ${C} maps in, ${h}×${w}`,
          `The convolution's ${C} input maps, ${h} by ${w}, one colour scale`],
        ["maps-out", cOut, `ReLU(W x + b): ${cOut} maps out`,
          `Its ${cOut} output maps after the ReLU, one colour scale`]]) {
        const ncols = columnsFor(count);
        let marks = "";
        for (let c = 0; c < count; c++) {
          const x0 = (c % ncols) * (w + 1) + col, y0 = Math.floor(c / ncols) * (h + 1) + row;
          marks += `<rect x="${x0}" y="${y0}" width="1" height="1" fill="none" stroke="${MARK}" ` +
            'stroke-width="1.5" vector-effect="non-scaling-stroke"/>';
        }
        figures[kind].caption.textContent = caption;
        bitmapSVG(figures[kind].svg, cachedMosaic(model.get(kind.replace("-", "_")), ncols), marks,
          `${words}; pixel (${row}, ${col}) is outlined in red in every map. Click a map ` +
          "to pick another pixel.");
      }

      const x = model.get("x"), pre = model.get("pre"), out = model.get("out");
      figures.x.caption.textContent = `x (${C}): the input channels at (${row}, ${col})`;
      barsSVG(figures.x.svg, x, true,
        `x, the ${C} input values at pixel (${row}, ${col}): ` +
        x.map((v) => v.toFixed(2)).join(", "));
      figures.W.caption.textContent = `W (${cOut}×${C}) and b (${cOut})`;
      bitmapSVG(figures.W.svg, cachedMosaic(model.get("W"), 1, false, true), "",
        `The weight matrix W, ${cOut} rows by ${C} columns, blue negative, red positive; ` +
        `the biases b: ${model.get("b").map((v) => v.toFixed(2)).join(", ")}`);
      figures.W.svg.setAttribute("preserveAspectRatio", "none");
      figures.W.svg.dataset.b = JSON.stringify(model.get("b"));
      figures.out.caption.textContent = `ReLU(W x + b) (${cOut}); grey outline: before ReLU`;
      barsSVG(figures.out.svg, out, false,
        `ReLU(W x + b), the ${cOut} outputs at the pixel: ` +
        out.map((v) => v.toFixed(2)).join(", "), pre);
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    const schedule = batched(draw);
    // Near the screen: the network may load (compute waits for this on the website).
    const stopWatching = whenInView(root, () => {
      release();
      schedule(); // the box now says the network is loading
      markBusy();
    }, "400px");
    const events = ["example", "layer", "row", "col", "image", "maps_in", "maps_out", "W", "x",
      "b", "pre", "out", "region", "header", "summary", "error"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("NiNPixelExplorer", { render, compute });
})();
