/**
 * grad-cam.js: the front-end of section 8.6's Grad-CAM explorer.
 *
 * The same file runs in JupyterLab (Python's GradCamExplorer computes every value with
 * cnnlib.explain.grad_cam, PyTorch's autograd, and syncs them) and on the website, where
 * compute() below runs the shipped ResNet-18 in the reader's browser
 * (CNNNetworks.load(state.network), onnxruntime-web) on the pixels Python sent and forms
 * the map there. See cnn-host.js for the contract and README.md beside this file.
 *
 * Grad-CAM weights channel k of a stage's maps A by the spatial mean of d score_c / d A_k.
 * No gradient runs here:
 * - at the last stage they are exact without one: ResNet-18's head is global average
 *   pooling then one linear layer, score_c = sum_k W[c][k] * mean_ij A[k][i][j] + b[c], so
 *   d score_c / d A[k][i][j] = W[c][k] / (h*w) at every position, and so is its mean:
 *   the weights are the class's row of the linear layer (state.head.weight, sent by
 *   Python) divided by h*w;
 * - at an earlier stage the gradient goes back through later residual blocks at this very
 *   input, which an inference-only network cannot do: Python's autograd computed those
 *   weights for every gallery image and every class the menu can reach
 *   (state.gradients[layer][image][class]); the feature maps, the weighted sum, the ReLU,
 *   the upsampling and the probabilities are still the browser's.
 *
 * Model values. Controls: example (image position), target (a rank of `targets`: 0, 1, 2
 * or -1 for the true class), layer. Data: network, images ({menu, label, index, pixels}),
 * side, layers, targets, classes, head, gradients, maps (layer -> the network's output
 * name), colors (the heat map's 256 colours), and on a page picture / picture_alt
 * (Python's first picture). Derived: class_idx, probabilities_shown, raw_cam, cam,
 * activations_shape, summary, explained ({example, layer} the values belong to), error.
 *
 * Needs CNNNetworks (../cnn-networks.js) on a page; JupyterLab never calls compute.
 */
(function () {
  "use strict";

  const { element, show, pyFixed, fromBase64, baseStyle, batched, statusLine, controlsFor, lookup,
    rgbOf, floatsOf, viewGate } = CNNExplorers.kit;
  const ALPHA = 0.55; // cnnlib.viz.explain.HEATMAP_ALPHA
  const TOP_K = 3; // cnnlib.viz.grad_cam.TOP_K
  const EXPLAINED = "#ff7f0e"; // matplotlib's tab:orange, the explained class's bar
  const OTHER = "#bfbfbf"; // "0.75", the other bars

  // ------------------------------------------------------------------ compute (website only)

  /** An image's pixels as the network takes them: float32 in [0, 1], row by row. */
  function decodePixels(pixels) {
    return floatsOf(fromBase64(pixels.base64), pixels.dtype);
  }

  /** Class positions by probability, most probable first; ties keep class order
   * (torch.argsort(descending=True, stable=True)). */
  function ranked(probabilities) {
    return [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  }

  /**
   * The Grad-CAM map of channel weights over feature maps: ReLU(sum_k w_k A_k).
   *
   * @param {Float32Array} A the maps, C*h*w values, channel by channel.
   * @param {number[]} weights C channel weights.
   * @param {number} h rows. @param {number} w columns.
   * @returns {number[][]} h rows of w values, each at least 0.
   */
  function weightedMaps(A, weights, h, w) {
    const out = [];
    for (let i = 0; i < h; i++) {
      const row = [];
      for (let j = 0; j < w; j++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * A[(k * h + i) * w + j];
        row.push(Math.max(0, Math.fround(sum)));
      }
      out.push(row);
    }
    return out;
  }

  /** Where output index `dst` samples an axis of `size` inputs stretched to `out`
   * (F.interpolate, bilinear, align_corners=False): [lower index, upper index, weight of
   * the upper]. */
  function source(dst, size, out) {
    const at = Math.max((size / out) * (dst + 0.5) - 0.5, 0);
    const low = Math.floor(at);
    const high = low < size - 1 ? low + 1 : low;
    return [low, high, at - low];
  }

  /**
   * The map stretched to side×side as F.interpolate(bilinear, align_corners=False) does,
   * then divided by its maximum (an all-zero map stays zero), as cnnlib.explain.grad_cam.
   *
   * @param {number[][]} raw the map, h×w. @param {number} side the image's side.
   * @returns {number[][]} side rows of side values in [0, 1].
   */
  function upsampled(raw, side) {
    const h = raw.length, w = raw[0].length;
    const rows = Array.from({ length: side }, (_, y) => source(y, h, side));
    const cols = Array.from({ length: side }, (_, x) => source(x, w, side));
    let peak = 0;
    const out = rows.map(([y0, y1, ly]) => cols.map(([x0, x1, lx]) => {
      const v = (1 - ly) * ((1 - lx) * raw[y0][x0] + lx * raw[y0][x1]) +
        ly * ((1 - lx) * raw[y1][x0] + lx * raw[y1][x1]);
      peak = Math.max(peak, v);
      return v;
    }));
    const scale = peak > 0 ? peak : 1;
    return out.map((row) => row.map((v) => v / scale));
  }

  const runs = new Map(); // "network/example" -> Promise of the network's outputs

  // The network (several MB) loads when the reader nears the explorer, not when the page
  // opens: compute() waits behind this gate, which render() closes until then.
  const { whenShown, watch: watchShown } = viewGate();

  /** The network's outputs for image k (run once per image and kept). */
  function outputsFor(state, k) {
    const key = `${state.network}/${k}`;
    if (!runs.has(key)) {
      const wanted = [...new Set(Object.values(state.maps))];
      const pending = whenShown().then(() => CNNNetworks.load(state.network))
        .then((net) => net.run(decodePixels(state.images[k].pixels), { maps: wanted }));
      pending.catch(() => runs.delete(key)); // a later change may try again
      runs.set(key, pending);
    }
    return runs.get(key);
  }

  /**
   * The values Python's GradCamExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values.
   * @returns {Promise<object>} class_idx, probabilities_shown, raw_cam, cam,
   *   activations_shape, summary and explained.
   * @throws {Error} Python's message, at once, for an image, class or stage no menu offers;
   *   the Promise rejects with "this browser cannot run the network: ..." when it cannot.
   */
  function compute(state) {
    const images = state.images || [];
    const k = state.example;
    if (!Number.isInteger(k) || k < 0 || k >= images.length) {
      throw new Error(`example must be an image position in 0..${images.length - 1}, got ${k}`);
    }
    const ranks = (state.targets || []).map(([, value]) => value);
    if (!ranks.includes(state.target)) {
      throw new Error(`target must be one of ${show(ranks)} (top-1, top-2, top-3, true ` +
        `class), got ${state.target}`);
    }
    const layers = state.layers || [];
    if (!layers.includes(state.layer)) {
      throw new Error(`layer must be one of ${show(layers)}, got ${show(state.layer)}`);
    }
    if (typeof CNNNetworks === "undefined") {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    const { layer } = state;
    const image = images[k];
    return outputsFor(state, k).then((out) => {
      const probabilities = Array.from(out.probabilities);
      const classIdx = state.target < 0 ? image.label : ranked(probabilities)[state.target];
      const { shape, data } = out.maps[state.maps[layer]];
      const [, C, h, w] = shape;
      let weights;
      if (state.head && state.head.layer === layer) {
        // Exact: d score_c / d A[k][i][j] = W[c][k] / (h*w) everywhere (see the top).
        weights = state.head.weight[classIdx].map((v) => v / (h * w));
      } else {
        const stored = ((state.gradients || {})[layer] || {})[String(k)] || {};
        weights = stored[String(classIdx)];
        if (!weights) {
          throw new Error(`no channel weights for class ${classIdx} of image ${k} at ` +
            `${layer}: Python computes them only for the classes the menu offers`);
        }
      }
      const raw = weightedMaps(data, weights, h, w);
      const names = state.classes;
      let summary = `test image #${image.index}, true class ${names[image.label]}; map for ` +
        `${names[classIdx]} (probability ${pyFixed(probabilities[classIdx], 2)}) ` +
        `at ${layer}, a ${h}×${w} grid of ${C} channels`;
      if (!raw.some((row) => row.some((v) => v > 0))) {
        summary += "; the weighted sum is negative everywhere, so the map is all zero";
      }
      return {
        class_idx: classIdx,
        probabilities_shown: probabilities,
        raw_cam: raw,
        cam: upsampled(raw, state.side),
        activations_shape: [C, h, w],
        summary,
        explained: { example: k, layer },
      };
    });
  }

  // ------------------------------------------------------------------ drawing

  /** Paint the image (gray) and, when cam is given, the heat map over it. */
  function paint(canvas, pixels, side, cam, colors) {
    canvas.width = canvas.height = side;
    const context = canvas.getContext("2d");
    if (!context) return; // no 2-D canvas: the words in aria-label and the status remain
    const picture = context.createImageData(side, side);
    const table = cam ? colors.map(rgbOf) : null;
    for (let i = 0; i < side * side; i++) {
      let color = [0, 1, 2].map(() => Math.round(255 * Math.min(1, Math.max(0, pixels[i]))));
      if (cam) {
        const heat = lookup(table, cam[Math.floor(i / side)][i % side]);
        color = color.map((g, c) => Math.round((1 - ALPHA) * g + ALPHA * heat[c]));
      }
      picture.data.set([...color, 255], 4 * i);
    }
    context.putImageData(picture, 0, 0);
  }

  /** cnnlib.viz.cell_grid.format_value's two decimals for a non-negative map value. */
  function cellText(v) {
    const text = pyFixed(v, 2).replace(/0+$/, "").replace(/\.$/, "");
    return text === "-0" ? "0" : text;
  }

  /** The map at the stage's own resolution: one cell per position, its value written. */
  function coarsePicture(raw, colors) {
    const h = raw.length, w = raw[0].length;
    const peak = Math.max(...raw.flat());
    const top = peak > 0 ? peak : 1;
    let cells = "";
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const v = raw[i][j];
        const light = v / top < 0.6; // inferno is dark at the low end
        cells += `<g data-row="${i}" data-col="${j}" data-value="${v}">` +
          `<rect x="${j * 10}" y="${i * 10}" width="10" height="10" ` +
          `fill="${lookup(colors, v / top)}"/><text x="${j * 10 + 5}" y="${i * 10 + 5}"` +
          `${light ? ' class="cnnx-light"' : ""}>${cellText(v)}</text></g>`;
      }
    }
    return { body: cells, h, w };
  }

  const STYLE = baseStyle("cnnx-gcam") + `
.cnnx-gcam .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-gcam .cnnx-control label{flex:0 0 4em}
.cnnx-gcam .cnnx-control select{flex:1 1 auto;min-width:0;max-width:100%;min-height:24px;
  margin:0;font:inherit}
.cnnx-gcam .cnnx-panels{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.5rem .75rem}
.cnnx-gcam .cnnx-panel{margin:0;display:flex;flex-direction:column;gap:.25rem;flex:1 1 9rem;
  max-width:12rem}
.cnnx-gcam .cnnx-panel.cnnx-coarse{flex:1 1 16rem;max-width:16rem}
.cnnx-gcam .cnnx-panel.cnnx-bars{flex:1 1 14rem;max-width:20rem}
.cnnx-gcam canvas{display:block;width:100%;height:auto;image-rendering:pixelated;
  border:1px solid #555}
.cnnx-gcam svg{display:block;width:100%;height:auto;overflow:visible}
.cnnx-gcam svg rect{stroke:#555;stroke-width:1px;vector-effect:non-scaling-stroke}
.cnnx-gcam svg text{font-size:3.8px;text-anchor:middle;dominant-baseline:central;fill:#222;
  font-variant-numeric:tabular-nums;pointer-events:none}
.cnnx-gcam svg text.cnnx-light{fill:#fff}
.cnnx-gcam .cnnx-explained{color:#b35806}
.cnnx-gcam ol.cnnx-probs{list-style:none;margin:0;padding:0;display:grid;gap:.2rem}
.cnnx-gcam ol.cnnx-probs li{display:grid;grid-template-columns:minmax(6em,auto) 1fr 2.6em;
  gap:.4rem;align-items:center}
.cnnx-gcam .cnnx-bar{height:.9em;background:#eee}
.cnnx-gcam .cnnx-bar span{display:block;height:100%}
.cnnx-gcam .cnnx-p{text-align:right;font-variant-numeric:tabular-nums}
.cnnx-gcam .cnnx-python img{display:block;max-width:100%;height:auto}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-gcam-${++instances}`;
    const root = element("div", { class: "cnnx-gcam" });
    root.append(element("style", {}, STYLE));
    const form = controlsFor(model, { id, label: "Grad-CAM settings" });
    const fieldset = form.fieldset;
    const menus = {};
    const classes = model.get("classes") || [];
    const options = {
      example: (model.get("images") || []).map((image, k) => [image.menu, k]),
      target: model.get("targets") || [],
      layer: (model.get("layers") || []).map((name) => [name, name]),
    };
    for (const [name, label] of [["example", "image"], ["target", "class"],
      ["layer", "stage"]]) {
      const pairs = options[name].map(([text, value]) => [value, text]);
      menus[name] = form.menu(name, label, pairs, name === "layer" ? String : Number).input;
    }

    // Python's picture: shown while the network loads, or when this browser cannot run it.
    const python = element("figure", { class: "cnnx-python", hidden: "" });
    const pythonImage = element("img", { alt: model.get("picture_alt") || "" });
    python.append(pythonImage);

    const panels = element("div", { class: "cnnx-panels" });
    function panel(kind, node) {
      const figure = element("figure", { class: `cnnx-panel cnnx-${kind}` });
      const caption = element("figcaption");
      figure.append(caption, node);
      panels.append(figure);
      return { figure, caption, node };
    }
    const imagePanel = panel("image", element("canvas", { role: "img" }));
    const overlayPanel = panel("overlay", element("canvas", { role: "img" }));
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "img");
    const coarsePanel = panel("coarse", svg);
    const barsPanel = panel("bars", element("ol", { class: "cnnx-probs" }));
    barsPanel.caption.textContent = "probability";

    const status = statusLine(`${id}-status`);
    root.append(fieldset, python, panels, status);
    el.append(root);
    const stopWatching = watchShown(root);

    function draw() {
      for (const [name, select] of Object.entries(menus)) select.value = String(model.get(name));
      const error = model.get("error");
      const raw = model.get("raw_cam");
      const explained = model.get("explained");
      const ready = Array.isArray(raw) && raw.length > 0;
      status.replaceChildren();
      const picture = model.get("picture");
      if (!ready || error) {
        // Nothing computed yet (the network is loading), or a setting or a browser that
        // cannot compute: Python's picture of the first setting stays, and the status says
        // which.
        panels.hidden = true;
        if (picture) {
          pythonImage.src = `data:image/png;base64,${picture}`;
          python.hidden = false;
        }
        const words = error
          ? `${error}${picture ? ". The picture is Python's, for the first setting." : ""}`
          : `Loading the trained network into this browser…${picture
            ? " The picture is Python's, for the first setting." : ""}`;
        status.append(element("span", { class: error ? "cnnx-error" : "cnnx-loading" }, words));
        return;
      }
      python.hidden = true;
      panels.hidden = false;
      const k = explained ? explained.example : model.get("example");
      const layer = explained ? explained.layer : model.get("layer");
      const images = model.get("images");
      const image = images[k];
      const pixels = decodePixels(image.pixels);
      const side = model.get("side");
      const colors = model.get("colors");
      const classIdx = model.get("class_idx");
      const cam = model.get("cam");
      const shape = model.get("activations_shape");
      imagePanel.caption.textContent = `true: ${classes[image.label]}`;
      paint(imagePanel.node, pixels, side, null, colors);
      imagePanel.node.setAttribute("aria-label",
        `Test image #${image.index}, a ${classes[image.label]}, ${side} by ${side} pixels.`);
      overlayPanel.caption.textContent = `for: ${classes[classIdx]}`;
      overlayPanel.caption.className = "cnnx-explained";
      paint(overlayPanel.node, pixels, side, cam, colors);
      const allZero = !raw.some((row) => row.some((v) => v > 0));
      overlayPanel.node.setAttribute("aria-label", allZero
        ? `The map for ${classes[classIdx]} is all zero: no position argues for it.`
        : `The image with the map for ${classes[classIdx]} over it, bright where the ` +
          `evidence for ${classes[classIdx]} is strongest.`);
      const coarse = coarsePicture(raw, colors);
      coarsePanel.caption.textContent = `${layer}: ${coarse.h}×${coarse.w}`;
      const words = `The map at ${layer}, ${coarse.h} by ${coarse.w} positions from ` +
        `${shape[0]} channels: ` + raw.map((row) => row.map(cellText).join(", ")).join("; ") +
        ".";
      svg.setAttribute("viewBox", `0 0 ${coarse.w * 10} ${coarse.h * 10}`);
      svg.setAttribute("aria-label", words);
      svg.innerHTML = `<title>${words}</title>${coarse.body}`;
      // Cells at least 32 px wide so their values stay readable on a phone.
      coarsePanel.figure.style.minWidth = `min(100%, ${coarse.w * 32}px)`;
      const probabilities = model.get("probabilities_shown");
      const rows = ranked(probabilities).slice(0, TOP_K);
      if (!rows.includes(image.label)) rows.push(image.label);
      barsPanel.node.replaceChildren(...rows.map((c) => {
        const p = probabilities[c];
        const item = element("li", { "data-class": c, "data-value": p });
        const bar = element("span", { class: "cnnx-bar", "aria-hidden": "true" });
        const fill = element("span");
        fill.style.width = `${(100 * p).toFixed(1)}%`;
        fill.style.background = c === classIdx ? EXPLAINED : OTHER;
        bar.append(fill);
        item.append(element("span", {}, c === image.label ? `${classes[c]} (true)`
          : classes[c]), bar, element("span", { class: "cnnx-p" }, pyFixed(p, 2)));
        if (c === classIdx) item.classList.add("cnnx-explained");
        return item;
      }));
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    const schedule = batched(draw);
    const events = ["example", "target", "layer", "class_idx", "probabilities_shown",
      "raw_cam", "cam", "activations_shape", "summary", "explained", "error"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("GradCamExplorer", { render, compute });
})();
