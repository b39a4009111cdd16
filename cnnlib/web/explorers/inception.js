/**
 * inception.js: the front-end of section 8.4's Inception explorer.
 *
 * The same file runs in JupyterLab (Python's InceptionExplorer computes every value with
 * cnnlib.explain.inception, the four branches run one by one in PyTorch, and syncs them)
 * and on the website, where compute() below runs the shipped GoogLeNet in the reader's
 * browser (CNNNetworks.load(state.network), onnxruntime-web) on the pixels Python sent.
 * The network outputs each Inception block's result: its four branches, each ending in its
 * own ReLU, concatenated along the channels, so branch b's maps are channels
 * c1 + ... + c(b-1) up to c1 + ... + cb of it, exactly; the block's input is the output of
 * the layer before it. The FLOPs depend on the block's shape only: Python counts them
 * (cnnlib.models.cost) and sends them with the block. See cnn-host.js for the contract.
 *
 * Model values. Controls: example (image position), block (its name in model.net, "2.0"),
 * pick ("strongest" | "first"). Data: network, gallery ({menu, label, index, pixels}),
 * blocks ({name, label, menu, kernels, channels, flops, input, output}), picks, classes,
 * colors (viridis, 256 colours), branch_colors, and on a page picture / picture_alt
 * (Python's first picture). Derived: input_shape, shown, branch_maps, high,
 * channel_shares, flop_shares, title, summary, explained ({example, block}), error.
 *
 * Needs CNNNetworks (../cnn-networks.js) on a page; JupyterLab never calls compute.
 */
(function () {
  "use strict";

  const { element, show, pyFixed, fromBase64, baseStyle, batched, statusLine, controlsFor, lookup,
    floatsOf, viewGate } = CNNExplorers.kit;
  const SHOWN = 4; // cnnlib.widgets.inception.SHOWN

  // ------------------------------------------------------------------ compute (website only)

  /** Python's f"{share:.0%}". */
  function percent(share) {
    return `${pyFixed(share * 100, 0)}%`;
  }

  /** An image's pixels as the network takes them: float32 in [0, 1], row by row. */
  function decodePixels(pixels) {
    return floatsOf(fromBase64(pixels.base64), pixels.dtype);
  }

  const runs = new Map(); // "network/example" -> Promise of the network's outputs

  // The network (several MB) loads when the reader nears the explorer, not when the page
  // opens: compute() waits behind this gate, which render() closes until then.
  const { whenShown, watch: watchShown } = viewGate();

  function outputsFor(state, k) {
    const key = `${state.network}/${k}`;
    if (!runs.has(key)) {
      const wanted = [...new Set(state.blocks.flatMap((b) => [b.input, b.output]))];
      const pending = whenShown().then(() => CNNNetworks.load(state.network))
        .then((net) => net.run(decodePixels(state.gallery[k].pixels), { maps: wanted }));
      pending.catch(() => runs.delete(key)); // a later change may try again
      runs.set(key, pending);
    }
    return runs.get(key);
  }

  /**
   * The values Python's InceptionExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values.
   * @returns {Promise<object>} input_shape, shown, branch_maps, high, channel_shares,
   *   flop_shares, title, summary and explained.
   * @throws {Error} Python's message, at once, for an image, block or pick no menu offers;
   *   the Promise rejects with "this browser cannot run the network: ..." when it cannot.
   */
  function compute(state) {
    const gallery = state.gallery || [];
    const k = state.example;
    if (!Number.isInteger(k) || k < 0 || k >= gallery.length) {
      throw new Error(`example must be an image position in 0..${gallery.length - 1}, got ${k}`);
    }
    const blocks = state.blocks || [];
    const block = blocks.find((b) => b.name === state.block);
    if (!block) {
      throw new Error("block must name an Inception block of model.net, one of " +
        `${show(blocks.map((b) => b.name))}; got ${show(state.block)}`);
    }
    const picks = (state.picks || []).map(([, value]) => value);
    if (!picks.includes(state.pick)) {
      throw new Error(`pick must be one of ${show(picks)}, got ${show(state.pick)}`);
    }
    if (typeof CNNNetworks === "undefined") {
      throw new Error("this browser cannot run the network: cnn-networks.js is not loaded");
    }
    const { pick } = state;
    const image = gallery[k];
    return outputsFor(state, k).then((out) => {
      const [, cIn, h, w] = out.maps[block.input].shape;
      const { data } = out.maps[block.output];
      const size = h * w;
      let high = -Infinity;
      for (let i = 0; i < data.length; i++) high = Math.max(high, data[i]);
      const shown = [], maps = [];
      let offset = 0;
      for (const count of block.channels) {
        const channel = (c) => data.subarray((offset + c) * size, (offset + c + 1) * size);
        const n = Math.min(SHOWN, count);
        let chosen;
        if (pick === "first") {
          chosen = [...Array(n).keys()];
        } else {
          // The channels with the largest mean activation, strongest first; ties keep
          // channel order (torch.argsort(descending=True, stable=True)).
          const means = Array.from({ length: count }, (_, c) =>
            Math.fround(channel(c).reduce((a, v) => a + v, 0) / size));
          chosen = [...means.keys()].sort((a, b) => means[b] - means[a] || a - b).slice(0, n);
        }
        shown.push(chosen);
        maps.push(chosen.map((c) => {
          const values = channel(c);
          return Array.from({ length: h }, (_, i) => Array.from(values.subarray(i * w,
            (i + 1) * w)));
        }));
        offset += count;
      }
      const totalChannels = block.channels.reduce((a, b) => a + b, 0);
      const totalFlops = block.flops.reduce((a, b) => a + b, 0);
      const flopShares = block.flops.map((f) => f / totalFlops);
      const parts = block.kernels.map((kernels, b) => `b${b + 1} (${kernels}) ` +
        `${block.channels[b]} channels, ${percent(flopShares[b])} of the FLOPs`).join(", ");
      const name = image.label === null || image.label === undefined ? null
        : state.classes[image.label];
      const forWhat = name === null ? "" : ` for ${"aeiou".includes(name[0]) ? "an" : "a"} ${name}`;
      return {
        input_shape: [cIn, h, w],
        shown,
        branch_maps: maps,
        high,
        channel_shares: block.channels.map((c) => c / totalChannels),
        flop_shares: flopShares,
        title: `Inception ${block.label} (net.${block.name}): ${cIn} channels in, ` +
          `${totalChannels} out, ${h}×${w}`,
        summary: `Inception ${block.label}${forWhat}: ${cIn} channels of ${h}×${w} in; the ` +
          `four branches keep ${h}×${w} and are concatenated into ${totalChannels} ` +
          `channels: ${parts}. Maps on one colour scale from 0 to the block's largest value.`,
        explained: { example: k, block: block.name },
      };
    });
  }

  // ------------------------------------------------------------------ drawing

  /** One feature map as SVG cells on the block's colour scale (0 to high). */
  function mapPicture(values, high, colors) {
    const top = high > 0 ? high : 1e-12; // cnnlib.viz.inception's floor
    let cells = "";
    values.forEach((row, i) => row.forEach((v, j) => {
      cells += `<rect x="${j * 10}" y="${i * 10}" width="10" height="10" data-row="${i}" ` +
        `data-col="${j}" data-value="${v}" fill="${lookup(colors, v / top)}"/>`;
    }));
    return cells;
  }

  function paintImage(canvas, pixels, side) {
    canvas.width = canvas.height = side;
    const context = canvas.getContext("2d");
    if (!context) return;
    const picture = context.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const g = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
      picture.data.set([g, g, g, 255], 4 * i);
    }
    context.putImageData(picture, 0, 0);
  }

  const STYLE = baseStyle("cnnx-incep") + `
.cnnx-incep .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-incep .cnnx-control label{flex:0 0 5em}
.cnnx-incep .cnnx-control select{flex:1 1 auto;min-width:0;max-width:100%;min-height:24px;
  margin:0;font:inherit}
.cnnx-incep .cnnx-title{margin:.25rem 0;font-weight:600}
.cnnx-incep .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem .75rem;align-items:flex-start}
.cnnx-incep .cnnx-input{margin:0;flex:0 1 8rem}
.cnnx-incep canvas{display:block;width:100%;height:auto;image-rendering:pixelated;
  border:1px solid #555}
.cnnx-incep .cnnx-branches{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));
  gap:.5rem;flex:1 1 20rem}
.cnnx-incep .cnnx-branch{margin:0;padding-top:.2rem;border-top:4px solid #ccc}
.cnnx-incep .cnnx-branch h4{margin:0;font-size:1em;font-weight:600}
.cnnx-incep .cnnx-maps{display:grid;grid-template-columns:1fr 1fr;gap:.3rem;margin-top:.25rem}
.cnnx-incep .cnnx-maps figure{margin:0;text-align:center}
.cnnx-incep svg{display:block;width:100%;height:auto}
.cnnx-incep svg rect{stroke:none}
.cnnx-incep .cnnx-shares{margin-top:.5rem}
.cnnx-incep .cnnx-share{display:grid;grid-template-columns:5em 1fr;gap:.4rem;align-items:center;
  margin:.15rem 0}
.cnnx-incep .cnnx-stack{display:flex;height:1.6em}
.cnnx-incep .cnnx-stack span{display:flex;align-items:center;justify-content:center;
  overflow:hidden;border-right:1px solid #fff;white-space:nowrap}
.cnnx-incep .cnnx-python img{display:block;max-width:100%;height:auto}
`;

  let instances = 0;

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-incep-${++instances}`;
    const root = element("div", { class: "cnnx-incep" });
    root.append(element("style", {}, STYLE));
    const form = controlsFor(model, { id, label: "Inception block settings" });
    const fieldset = form.fieldset;
    const menus = {};
    const options = {
      example: (model.get("gallery") || []).map((image, k) => [image.menu, k]),
      block: (model.get("blocks") || []).map((b) => [b.menu, b.name]),
      pick: model.get("picks") || [],
    };
    for (const [name, label] of [["example", "image"], ["block", "block"],
      ["pick", "channels"]]) {
      const pairs = options[name].map(([text, value]) => [value, text]);
      menus[name] = form.menu(name, label, pairs, name === "example" ? Number : String).input;
    }

    const python = element("figure", { class: "cnnx-python", hidden: "" });
    const pythonImage = element("img", { alt: model.get("picture_alt") || "" });
    python.append(pythonImage);
    const view = element("div", { class: "cnnx-view" });
    const title = element("p", { class: "cnnx-title" });
    const panels = element("div", { class: "cnnx-panels" });
    const input = element("figure", { class: "cnnx-input" });
    const inputCaption = element("figcaption");
    const canvas = element("canvas", { role: "img" });
    input.append(inputCaption, canvas);
    const branches = element("div", { class: "cnnx-branches" });
    panels.append(input, branches);
    const shares = element("div", { class: "cnnx-shares" });
    view.append(title, panels, shares);
    const status = statusLine(`${id}-status`);
    root.append(fieldset, python, view, status);
    el.append(root);
    const stopWatching = watchShown(root);

    function draw() {
      for (const [name, select] of Object.entries(menus)) select.value = String(model.get(name));
      const error = model.get("error");
      const maps = model.get("branch_maps");
      const ready = Array.isArray(maps) && maps.length === 4;
      status.replaceChildren();
      const picture = model.get("picture");
      if (!ready || error) {
        // The network is loading, or this setting or browser cannot compute: Python's
        // picture of the first setting stays, and the status says which.
        view.hidden = true;
        if (picture) {
          pythonImage.src = `data:image/png;base64,${picture}`;
          python.hidden = false;
        }
        const note = picture ? " The picture is Python's, for the first setting." : "";
        const words = error ? `${error}${picture ? "." : ""}${note}`
          : `Loading the trained network into this browser…${note}`;
        status.append(element("span", { class: error ? "cnnx-error" : "cnnx-loading" }, words));
        return;
      }
      python.hidden = true;
      view.hidden = false;
      const explained = model.get("explained") || {};
      const k = explained.example !== undefined ? explained.example : model.get("example");
      const name = explained.block !== undefined ? explained.block : model.get("block");
      const block = model.get("blocks").find((b) => b.name === name);
      const image = model.get("gallery")[k];
      const pixels = decodePixels(image.pixels);
      const side = Math.round(Math.sqrt(pixels.length));
      const classes = model.get("classes");
      const colors = model.get("colors");
      const branchColors = model.get("branch_colors");
      const shown = model.get("shown");
      const high = model.get("high");
      const [, h, w] = model.get("input_shape");
      title.textContent = model.get("title");
      inputCaption.textContent = `input ${side}×${side}`;
      paintImage(canvas, pixels, side);
      canvas.setAttribute("aria-label", `Test image #${image.index}` +
        (image.label === null ? "" : `, a ${classes[image.label]}`) + `, ${side} by ${side}.`);
      branches.replaceChildren(...block.kernels.map((kernels, b) => {
        const column = element("section", { class: "cnnx-branch", "data-branch": b });
        column.style.borderTopColor = branchColors[b];
        column.append(element("h4", {}, kernels),
          element("div", {}, `b${b + 1}: ${block.channels[b]} channels`));
        const grid = element("div", { class: "cnnx-maps" });
        shown[b].forEach((channel, i) => {
          const figure = element("figure", { "data-channel": channel });
          const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
          const values = maps[b][i];
          const peak = Math.max(...values.flat());
          const words = `Branch ${b + 1}, channel ${channel}: a ${h} by ${w} map, largest ` +
            `value ${pyFixed(peak, 2)} of the block's ${pyFixed(high, 2)}.`;
          svg.setAttribute("viewBox", `0 0 ${w * 10} ${h * 10}`);
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", words);
          svg.innerHTML = `<title>${words}</title>${mapPicture(values, high, colors)}`;
          figure.append(svg, element("figcaption", {}, `ch ${channel}`));
          grid.append(figure);
        });
        column.append(grid);
        return column;
      }));
      const channelShares = model.get("channel_shares");
      const flopShares = model.get("flop_shares");
      const totalChannels = block.channels.reduce((a, b) => a + b, 0);
      const totalFlops = block.flops.reduce((a, b) => a + b, 0);
      shares.replaceChildren(element("div", {}, `each branch's share of the ${totalChannels} ` +
        `channels and of the ${pyFixed(totalFlops / 1e6, 2)} MFLOPs`),
      ...[["channels", channelShares], ["FLOPs", flopShares]].map(([label, values]) => {
        const row = element("div", { class: "cnnx-share", "data-share": label });
        const stack = element("div", { class: "cnnx-stack", role: "img", "aria-label":
          `${label}: ` + values.map((v, b) => `b${b + 1} ${percent(v)}`).join(", ") });
        values.forEach((v, b) => {
          const part = element("span", { "data-value": v, "aria-hidden": "true" },
            v >= 0.07 ? percent(v) : "");
          part.style.width = `${100 * v}%`;
          part.style.background = branchColors[b];
          stack.append(part);
        });
        row.append(element("span", {}, label), stack);
        return row;
      }));
      status.append(element("span", { class: "cnnx-summary" }, model.get("summary")));
    }

    const schedule = batched(draw);
    const events = ["example", "block", "pick", "input_shape", "shown", "branch_maps", "high",
      "channel_shares", "flop_shares", "title", "summary", "explained", "error"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, schedule);
    draw();
    return () => {
      for (const event of events) model.off(event, schedule);
      stopWatching();
    };
  }

  CNNExplorers.define("InceptionExplorer", { render, compute });
})();
