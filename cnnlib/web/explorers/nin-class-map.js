/**
 * nin-class-map.js: the front-end of section 8.3's NiNClassMapExplorer (the class maps of
 * the trained NiN before global average pooling, their means and the probabilities).
 *
 * The same file runs in JupyterLab (Python's NiNClassMapExplorer computes every value with
 * cnnlib.explain.nin_maps.class_maps and PyTorch, and syncs it) and on the website, where
 * compute() below runs the shipped NiN in the reader's browser (CNNNetworks.load,
 * onnxruntime-web) on the gallery image Python sent, and derives the same values. See
 * cnn-host.js for the contract and README.md beside this file for the rules.
 *
 * Model values. Controls: example (the image's position), size (the input side). Menus:
 * example_options, size_options ([label, value]); class_names. Page data (website only):
 * network ("nin"), images (side -> the gallery at that side, encoded), labels, trained_size,
 * maps_name (the export's name of the maps that reach global average pooling). Derived:
 * image, maps (encoded arrays {shape, dtype, data}), averages, logits, probs (lists),
 * predicted, label (-1 for none), note, summary.
 *
 * The network is loaded only when the explorer comes near the screen; until the first
 * answer, the picture Python drew for the page (if the page has one) stays, and the box says
 * so; a browser that cannot run the network says so and keeps that picture.
 */
(function () {
  "use strict";

  const { show, element, pyFixed, baseStyle, batched, statusLine, controlsFor, whenInView,
    mixStops, arrayOf, arrayOfAsync, madeArray, pictureURL } = CNNExplorers.kit;
  const RIGHT = "#1f77b4", WRONG = "#d62728", OTHER = "#bfbfbf"; // tab:blue, tab:red, 0.75
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

  const cache = { imagesOf: null, images: new Map(), runs: new Map() };
  /** The sides this page's network runs at, once it is loaded (null before, and in Lab). */
  let runnable = null;

  /** The gallery at one side, decoded once per page. */
  function galleryOf(state, side) {
    if (cache.imagesOf !== state.images) {
      cache.imagesOf = state.images;
      cache.images.clear();
      cache.runs.clear();
    }
    if (!cache.images.has(side)) cache.images.set(side, arrayOfAsync(state.images[String(side)]));
    return cache.images.get(side);
  }

  /**
   * The maps that reach global average pooling, and the logits, for image k at side.
   *
   * The exported network takes images of its trained side; at another side it runs only
   * where the export accepts any side (a network whose meta says anySide).
   */
  function runFor(state, k, side) {
    const key = `${k}/${side}`;
    if (!cache.runs.has(key)) {
      const run = Promise.all([galleryOf(state, side), CNNNetworks.load(state.network)])
        .then(([images, net]) => {
          const [, h, w] = images.shape;
          const pixels = images.data.slice(k * h * w, (k + 1) * h * w);
          const trained = net.inputShape[net.inputShape.length - 1];
          runnable = (state.size_options || []).map(([, s]) => s)
            .filter((s) => s === trained || Boolean(net.meta.anySide));
          const options = { maps: [state.maps_name] };
          if (side !== trained) {
            if (!net.meta.anySide) {
              throw new Error(`this page's copy of the network takes ${trained}-pixel images ` +
                `only, so it cannot show ${side} px here; run the notebook to see that size`);
            }
            options.side = side;
          }
          return net.run(pixels, options).then((out) => ({
            image: madeArray([h, w], pixels),
            maps: out.maps[state.maps_name],
            logits: Array.from(out.logits),
          }));
        });
      run.catch(() => cache.runs.delete(key)); // a later change may try again
      cache.runs.set(key, run);
    }
    return cache.runs.get(key);
  }

  /** cnnlib.widgets.nin_maps._check_example: the same words. */
  function checkExample(example, count) {
    if (typeof example !== "number" || !Number.isInteger(example) || example < 0 ||
        example >= count) {
      throw new Error(`example must be an image's position 0..${count - 1}, got ${show(example)}`);
    }
  }

  /**
   * The values Python's NiNClassMapExplorer derives, computed in the browser by the shipped
   * NiN.
   *
   * @param {object} state the model's values (example, size and the page data).
   * @returns {Promise<object>} image, maps, averages, logits, probs, predicted, label, note,
   *   summary.
   * @throws {Error} cnnlib's message for an unknown image or size (at once); the Promise
   *   rejects with "this browser cannot run the network: ..." when the network cannot run.
   */
  function compute(state) {
    checkExample(state.example, (state.example_options || []).length);
    const sizes = (state.size_options || []).map(([, side]) => side);
    if (!sizes.includes(state.size)) {
      throw new Error(`size must be one of ${show(sizes)}, got ${show(state.size)}`);
    }
    if (typeof CNNNetworks === "undefined" || !CNNNetworks.load) {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    const k = state.example, side = state.size;
    return needed.then(() => runFor(state, k, side)).then((run) => derive(state, run));
  }

  /** Softmax of numbers, in float64, each rounded to float32. */
  function softmax(values) {
    const top = Math.max(...values);
    const exps = values.map((v) => Math.exp(v - top));
    const sum = exps.reduce((a, b) => a + b, 0);
    return exps.map((v) => Math.fround(v / sum));
  }

  /** cnnlib.explain.nin_maps.class_maps and the explorer's texts, from the network's maps. */
  function derive(state, run) {
    const [, K, h, w] = run.maps.shape;
    const data = run.maps.data;
    const averages = Array.from({ length: K }, (_, c) => {
      let sum = 0;
      for (let i = 0; i < h * w; i++) sum += data[c * h * w + i];
      return Math.fround(sum / (h * w));
    });
    const probs = softmax(averages);
    let predicted = 0;
    probs.forEach((p, c) => { if (p > probs[predicted]) predicted = c; });
    const labels = state.labels;
    const label = Array.isArray(labels) ? labels[state.example] : -1;
    const names = state.class_names || [];
    const side = state.size;
    const sizeNote = side === state.trained_size
      ? `At ${side} px, the size the network was trained on, each class map is ${h}×${w}: ` +
        `averaging takes the mean of ${h * w} numbers per class.`
      : `At ${side} px the network was never trained: it still runs, because every layer ` +
        "before the averaging is a convolution or a pooling, and the maps grow to " +
        `${h}×${w}; its scores may be worse.`;
    const verdict = label < 0 ? ""
      : `, true ${names[label]}: ${predicted === label ? "right" : "wrong"}`;
    const shown = K === names.length ? names[predicted] : String(predicted);
    return {
      image: run.image,
      maps: madeArray([K, h, w], Float32Array.from(data)),
      averages,
      logits: run.logits, // the network's own output: the test holds the means to it
      probs,
      predicted,
      label,
      note: side === state.trained_size ? "" : "(not the trained size)",
      summary: `${sizeNote} The ${K} means are the scores (logits); softmax turns them into ` +
        `probabilities: predicted ${shown} (${pyFixed(probs[predicted], 2)})${verdict}.`,
    };
  }

  // ------------------------------------------------------------------ drawing

  const bitmaps = new WeakMap(); // a model value -> its PNG: a new image only when it changes
  function cachedGray(value) {
    if (!bitmaps.has(value)) bitmaps.set(value, grayURL(arrayOf(value)));
    return bitmaps.get(value);
  }

  /** A PNG data URL of a grey image (h, w) in [0, 1]. */
  function grayURL(image) {
    const [h, w] = image.shape;
    return pictureURL(h, w, (i) => {
      const g = Math.round(255 * Math.min(Math.max(image.data[i], 0), 1));
      return [g, g, g];
    });
  }

  const STYLE = baseStyle("cnnx-ninc") + `
.cnnx-ninc .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-ninc .cnnx-control label{flex:0 0 5em}
.cnnx-ninc .cnnx-control select{flex:1 1 auto;min-width:5rem;min-height:24px;margin:0;
  font:inherit;max-width:100%}
.cnnx-ninc .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-start}
.cnnx-ninc figure{margin:0}
.cnnx-ninc figcaption{font-size:max(12px,.9em)}
.cnnx-ninc svg{display:block;width:100%;height:auto}
.cnnx-ninc .cnnx-image{flex:0 1 9rem}
.cnnx-ninc .cnnx-maps{flex:1 1 18rem;display:grid;
  grid-template-columns:repeat(auto-fill,minmax(5.5rem,1fr));gap:.4rem .6rem}
.cnnx-ninc .cnnx-map{text-align:center}
.cnnx-ninc .cnnx-map.cnnx-true figcaption .cnnx-name{font-weight:bold}
.cnnx-ninc .cnnx-map svg{max-width:5rem;margin:0 auto}
.cnnx-ninc .cnnx-probs{margin-top:.75rem;display:grid;grid-template-columns:auto 1fr 3.2em;
  gap:.1rem .5rem;align-items:center;max-width:36rem}
.cnnx-ninc .cnnx-probs .cnnx-true{font-weight:bold}
.cnnx-ninc .cnnx-bar{height:.9em;min-width:1px}
.cnnx-ninc .cnnx-probs output{text-align:right;font-variant-numeric:tabular-nums}
.cnnx-ninc .cnnx-loading{padding:.5rem;border:1px solid #888;border-radius:4px;margin:.25rem 0}
.cnnx-ninc .cnnx-loading img{display:block;max-width:100%;height:auto;margin-top:.4rem}
`;

  let instances = 0;

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-ninc-${++instances}`;
    const root = element("div", { class: "cnnx-ninc" });
    root.append(element("style", {}, STYLE));

    // On a page the model computes in the browser (cnn-host.js's LocalModel has settled()):
    // the explorer is aria-busy from a change until its answer is in. In JupyterLab, Python.
    const local = typeof model.settled === "function";
    let pending = 0;
    function markBusy() {
      const waiting = pending > 0 || (local && near && !model.get("maps") && !model.get("error"));
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
    const form = controlsFor(model, { id, save, label: "Class maps: settings" });
    const fieldset = form.fieldset;
    const controls = {};
    for (const [name, label, optionsName] of [["example", "image", "example_options"],
      ["size", "input", "size_options"]]) {
      const options = (model.get(optionsName) || []).map(([text, value]) => [value, text]);
      controls[name] = form.menu(name, label, options, Number).input;
    }

    const loading = element("div", { class: "cnnx-loading", hidden: "" });
    const loadingText = element("p", { style: "margin:0" });
    loading.append(loadingText);
    // The picture Python drew for the website's page (page.live_html's fallback): kept while
    // the network loads, and when it cannot run. A page without one (JupyterLab) has none.
    const host = el.closest ? el.closest(".cnn-explorer") : null;
    const picture = host ? host.querySelector(".cnnx-fallback img") : null;
    if (picture) loading.append(picture);

    const heading = element("p", { class: "cnnx-header" });
    const panels = element("div", { class: "cnnx-panels" });
    const imageFigure = element("figure", { class: "cnnx-image" });
    const imageCaption = element("figcaption");
    const imageSVG = document.createElementNS(SVG, "svg");
    imageSVG.setAttribute("role", "img");
    imageFigure.append(imageCaption, imageSVG);
    const mapsBox = element("div", { class: "cnnx-maps", role: "group",
      "aria-label": "The class maps and their means" });
    panels.append(imageFigure, mapsBox);
    const probsTitle = element("p", { style: "margin:.75rem 0 0" },
      "softmax(means): the probabilities");
    const probs = element("div", { class: "cnnx-probs", role: "group",
      "aria-label": "softmax(means): the probabilities" });
    const body = element("div");
    body.append(heading, panels, probsTitle, probs);
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = statusLine(`${id}-status`);
    root.append(fieldset, loading, body, message, status);
    el.append(root);

    function draw() {
      markBusy();
      // A size this page's network cannot run is offered, greyed, as the notebook's only.
      for (const option of controls.size.options) {
        const off = runnable !== null && !runnable.includes(Number(option.value));
        option.disabled = off;
        option.textContent = option.dataset.label + (off ? " (in the notebook only)" : "");
      }
      for (const [name, select] of Object.entries(controls)) select.value = String(model.get(name));
      const error = model.get("error");
      const maps = arrayOf(model.get("maps"));
      status.replaceChildren();
      // Without a network there is nothing the controls could change.
      fieldset.disabled = !maps && Boolean(error);
      if (!maps) {
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
      if (picture && picture.parentNode) picture.remove();
      if (error) {
        body.hidden = true;
        message.hidden = false;
        message.textContent = error;
        status.append(element("span", { class: "cnnx-error" }, error));
        return;
      }
      body.hidden = false;
      message.hidden = true;
      const image = arrayOf(model.get("image"));
      const names = model.get("class_names") || [];
      const averages = model.get("averages"), probabilities = model.get("probs");
      const predicted = model.get("predicted"), label = model.get("label");
      const [K, h, w] = maps.shape;
      const [side, side2] = image.shape;
      heading.textContent = `the class block's ${K} maps (${h}×${w} each, one colour scale) ` +
        "and their means";
      const note = model.get("note");
      imageCaption.textContent = `input ${side}×${side2}${note ? ` ${note}` : ""}`;
      imageSVG.setAttribute("viewBox", `0 0 ${side2} ${side}`);
      const imageWords = `The input image, ${side} by ${side2} pixels` + (note ? ` ${note}` : "");
      imageSVG.setAttribute("aria-label", imageWords);
      imageSVG.innerHTML = `<title>${imageWords}</title><image href="${cachedGray(model.get("image"))}" ` +
        `width="${side2}" height="${side}" style="image-rendering:pixelated"/>`;

      // One colour scale for every map (cnnlib.viz.nin_maps.class_maps_figure).
      let low = Infinity, high = -Infinity;
      for (const v of maps.data) { low = Math.min(low, v); high = Math.max(high, v); }
      let stops = VIRIDIS;
      if (low < 0) {
        stops = RDBU_R;
        high = Math.max(-low, high) || 1;
        low = -high;
      } else {
        low = 0;
        high = Math.max(high, 1e-12);
      }
      mapsBox.replaceChildren();
      for (let c = 0; c < K; c++) {
        const name = names[c] !== undefined && K === names.length ? names[c] : String(c);
        const figure = element("figure", { class: `cnnx-map${c === label ? " cnnx-true" : ""}`,
          "data-class": c });
        const caption = element("figcaption");
        caption.append(element("span", { class: "cnnx-name" }, name), element("br"),
          element("span", { class: "cnnx-mean", "data-value": averages[c] },
            `mean ${pyFixed(averages[c], 2)}`));
        const svg = document.createElementNS(SVG, "svg");
        svg.setAttribute("role", "img");
        svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
        let cells = "";
        const values = [];
        for (let r = 0; r < h; r++) {
          for (let q = 0; q < w; q++) {
            const v = maps.data[(c * h + r) * w + q];
            values.push(pyFixed(v, 2));
            cells += `<rect x="${q}" y="${r}" width="1.02" height="1.02" data-value="${v}" ` +
              `fill="rgb(${mixStops(stops, (v - low) / (high - low)).join(",")})"/>`;
          }
        }
        const words = `Class map of ${name}, ${h} by ${w}: ${values.join(", ")}; ` +
          `mean ${pyFixed(averages[c], 2)}`;
        svg.setAttribute("aria-label", words);
        svg.innerHTML = `<title>${words}</title>${cells}`;
        figure.append(caption, svg);
        mapsBox.append(figure);
      }

      probs.replaceChildren();
      for (let c = 0; c < K; c++) {
        const name = K === names.length ? names[c] : String(c);
        const color = c !== predicted ? OTHER : label >= 0 && label !== predicted ? WRONG : RIGHT;
        const p = probabilities[c];
        const barBox = element("div", { "aria-hidden": "true" });
        barBox.append(element("div", { class: "cnnx-bar",
          style: `width:${(100 * p).toFixed(2)}%;background:${color}` }));
        probs.append(element("span", { class: c === label ? "cnnx-true" : "" }, name), barBox,
          element("output", { "data-class": c, "data-value": p,
            "aria-label": `${name}: ${pyFixed(p, 2)}` }, pyFixed(p, 2)));
      }
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    const schedule = batched(draw);
    // Near the screen: the network may load (compute waits for this on the website).
    const stopWatching = whenInView(root, () => {
      release();
      schedule(); // the box now says the network is loading
      markBusy();
    }, "400px");
    const events = ["example", "size", "image", "maps", "averages", "logits", "probs",
      "predicted", "label", "note", "summary", "error"].map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("NiNClassMapExplorer", { render, compute });
})();
