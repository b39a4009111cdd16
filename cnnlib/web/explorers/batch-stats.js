/**
 * batch-stats.js: the front-end of section 8.5's BatchStatsExplorer.
 *
 * Many batches of one size go through a trained BN-LeNet in training mode (each batch-norm
 * layer normalises with the batch's own mean and variance) or evaluation mode (with the
 * running statistics); for one channel of one batch-norm layer the explorer shows each
 * batch's input mean and variance against the running ones, how the batch means spread as
 * the batch grows, and the layer's output in both modes.
 *
 * In JupyterLab Python's BatchStatsExplorer computes every number with PyTorch and syncs
 * it. On the website compute() below runs the same forward pass in the browser, on the
 * weights, images and batches (Python's seeded image indices) that Python sends in the page
 * state. Why a forward pass in plain JavaScript and not the shipped ONNX export
 * (CNNNetworks.load("bn_lenet")): the export is the network in evaluation mode, its batch
 * norm a fixed affine map of the running statistics, so training mode (statistics of the
 * batch itself) cannot be computed with it; and what this explorer shows is exactly what
 * happens inside the batch-norm layers (each batch's mean and variance before normalising),
 * which an export would have to be taken apart to reveal. BN-LeNet up to its last batch
 * norm is two 5×5 convolutions, two dense layers, average pooling and sigmoids: about
 * 0.1 MB of weights and a few direct loops, the same formulas in both modes.
 *
 * Model values. Controls: batch_size (one of `sizes`), mode ("train" | "eval"), layer
 * (position among the batch-norm layers), channel. Data: sizes, layer_options ([title,
 * channels] per layer), titles, num_batches, network (the layers up to the last batch
 * norm, weights as base64 float32), images ({shape, dtype, data}: uint8 k/255 or float32),
 * batches (size -> the batches' image indices, row after row), out_bins. Derived: channel
 * (pulled into the layer), batch_mean, batch_var, running, spreads, sigma, hists,
 * out_range, heading, summary and error.
 */
(function () {
  "use strict";

  const { element, keepSliderKeys, show } = CNNExplorers.kit;
  // Math's functions as local names: inner loops then need no lookup of a global (which
  // is slow in some hosts, such as Node's vm contexts the tests run this in).
  const { exp, fround, trunc, min, max, sqrt } = Math;
  const MODES = ["train", "eval"]; // cnnlib.widgets.bn_stats.MODES
  const COLOURS = { train: "#1f77b4", eval: "#d62728" }; // cnnlib.viz.bn_stats

  // ------------------------------------------------------------------ numbers as Python writes

  /**
   * Python's f"{value:.{p}g}" for a finite number: p significant digits, trailing zeros
   * dropped, exponent form below 1e-4 or from 10^p on ("1.23e-05").
   *
   * @param {number} value
   * @param {number} p
   * @returns {string}
   */
  function pyG(value, p) {
    if (value === 0) return Object.is(value, -0) ? "-0" : "0";
    const [mantissa, exp] = value.toExponential(p - 1).split("e");
    const e = Number(exp);
    const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "")
      : text);
    if (e < -4 || e >= p) {
      return `${strip(mantissa)}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    }
    return strip(value.toFixed(Math.max(p - 1 - e, 0)));
  }

  // ------------------------------------------------------------------ data from Python

  const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  /** The bytes of a base64 text (no atob: Node's vm context and old pages lack it). */
  function bytesOf(text) {
    const lookup = new Int16Array(128).fill(-1);
    for (let i = 0; i < BASE64.length; i++) lookup[BASE64.charCodeAt(i)] = i;
    const clean = text.replace(/=+$/, "");
    const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
    let bits = 0;
    let value = 0;
    let k = 0;
    for (let i = 0; i < clean.length; i++) {
      const v = lookup[clean.charCodeAt(i)];
      if (v < 0) throw new Error(`BatchStatsExplorer: the page's data is not base64 (at ${i})`);
      value = (value << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[k++] = (value >> bits) & 255;
      }
    }
    return out;
  }

  /** A {shape, dtype, data} array as a Float32Array (uint8 values k become k/255). */
  function decode(array) {
    const bytes = bytesOf(array.data);
    if (array.dtype === "uint8") {
      const values = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) values[i] = bytes[i] / 255; // rounded as float32
      return values;
    }
    // float32, little endian (as Python wrote it); copied, since the bytes may be unaligned
    const view = new DataView(bytes.buffer);
    const values = new Float32Array(bytes.length / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(4 * i, true);
    return values;
  }

  // ------------------------------------------------------------------ the forward pass

  /** Y[o, i, j] = b[o] + Σ X[c, i+u, j+v] W[o, c, u, v]: stride 1, no padding. */
  function conv(x, [C, H, W], weight, bias, [O, , k]) {
    const oh = H - k + 1;
    const ow = W - k + 1;
    const y = new Float32Array(O * oh * ow);
    let p = 0;
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let sum = bias[o];
          let q = o * C * k * k;
          for (let c = 0; c < C; c++) {
            for (let u = 0; u < k; u++) {
              const row = (c * H + i + u) * W + j;
              for (let v = 0; v < k; v++) sum += x[row + v] * weight[q++];
            }
          }
          y[p++] = sum;
        }
      }
    }
    return [y, [O, oh, ow]];
  }

  /** 2×2 average pooling, stride 2 (nn.AvgPool2d(2)). */
  function avgpool(x, [C, H, W]) {
    const oh = Math.floor(H / 2);
    const ow = Math.floor(W / 2);
    const y = new Float32Array(C * oh * ow);
    let p = 0;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const a = (c * H + 2 * i) * W + 2 * j;
          y[p++] = (x[a] + x[a + 1] + x[a + W] + x[a + W + 1]) / 4;
        }
      }
    }
    return [y, [C, oh, ow]];
  }

  /** y = W x + b (nn.Linear). */
  function linear(x, weight, bias, [O, I]) {
    const y = new Float32Array(O);
    for (let o = 0; o < O; o++) {
      let sum = bias[o];
      for (let i = 0; i < I; i++) sum += weight[o * I + i] * x[i];
      y[o] = sum;
    }
    return y;
  }

  /** Run one layer that is not a batch norm on every array of xs. */
  function apply(layer, xs, dims) {
    if (layer.type === "conv") {
      const out = xs.map((x) => conv(x, dims, layer.weight, layer.bias, layer.shape));
      return [out.map((o) => o[0]), out[0][1]];
    }
    if (layer.type === "avgpool") {
      const out = xs.map((x) => avgpool(x, dims));
      return [out.map((o) => o[0]), out[0][1]];
    }
    if (layer.type === "flatten") return [xs, [dims.reduce((a, b) => a * b, 1)]];
    if (layer.type === "linear") {
      return [xs.map((x) => linear(x, layer.weight, layer.bias, layer.shape)), [layer.shape[0]]];
    }
    // sigmoid
    return [xs.map((x) => {
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + exp(-x[i]));
      return y;
    }), dims];
  }

  /**
   * Image r's values where the first batch norm begins: the layers in front of it see one
   * image at a time, the same in both modes, so each image's are computed once (about a
   * third of the work: the first convolution).
   */
  function front(ctx, r) {
    let done = ctx.front[r];
    if (!done) {
      const size = ctx.shape[1] * ctx.shape[2] * ctx.shape[3];
      let xs = [ctx.images.subarray(r * size, (r + 1) * size)];
      let dims = ctx.shape.slice(1);
      for (const layer of ctx.net.slice(0, ctx.firstNorm)) [xs, dims] = apply(layer, xs, dims);
      done = ctx.front[r] = { x: xs[0], dims };
    }
    return done;
  }

  /**
   * One batch (image positions `rows`) through the network up to its last batch norm, in
   * either mode. onNorm(k, xs, C, S) sees the k-th batch-norm layer's input (xs: one array
   * per image, C channels of S values) and returns its {mean, var}; onOutput(k, ys, C, S)
   * sees its output.
   */
  function forward(ctx, rows, train, onNorm, onOutput) {
    let xs = rows.map((r) => front(ctx, r).x);
    let dims = front(ctx, rows[0]).dims;
    let k = 0;
    for (const layer of ctx.net.slice(ctx.firstNorm)) {
      if (layer.type !== "bn") {
        [xs, dims] = apply(layer, xs, dims);
        continue;
      }
      const C = dims[0];
      const S = dims.length > 1 ? dims[1] * dims[2] : 1;
      const stats = onNorm(k, xs, C, S);
      const mean = train ? stats.mean : layer.running_mean;
      const variance = train ? stats.var : layer.running_var;
      xs = xs.map((x) => {
        const y = new Float32Array(x.length);
        for (let c = 0; c < C; c++) {
          const scale = layer.weight[c] / sqrt(variance[c] + layer.eps);
          for (let s = c * S; s < (c + 1) * S; s++) y[s] = (x[s] - mean[c]) * scale + layer.bias[c];
        }
        return y;
      });
      onOutput(k, xs, C, S);
      k++;
    }
  }

  /**
   * The bin of each of ys's values in the k-th batch-norm layer's output histogram, as
   * Python's channel_histograms counts it: float32 arithmetic, clamped, truncated.
   */
  function binsOf(ctx, k, y, C, S, bins) {
    const layer = ctx.norms[k];
    const f = fround;
    const out = new Uint8Array(C * S);
    for (let c = 0; c < C; c++) {
      const lo = f(layer.low[c]);
      const scale = f(bins / (layer.high[c] - layer.low[c]));
      for (let s = c * S; s < (c + 1) * S; s++) {
        out[s] = trunc(min(max(f(f(y[s] - lo) * scale), 0), bins - 1));
      }
    }
    return out;
  }

  /** Per channel, the mean and the (biased, as batch norm divides) variance of a batch. */
  function batchMoments(xs, C, S) {
    const mean = new Float64Array(C);
    const variance = new Float64Array(C);
    const n = xs.length * S;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (const x of xs) for (let s = c * S; s < (c + 1) * S; s++) sum += x[s];
      const m = sum / n;
      let sq = 0;
      for (const x of xs) {
        for (let s = c * S; s < (c + 1) * S; s++) sq += (x[s] - m) * (x[s] - m);
      }
      mean[c] = m;
      variance[c] = sq / n;
    }
    return { mean, var: variance };
  }

  /** The sample standard deviation (n − 1, torch.std's default) of values. */
  function std(values) {
    const n = values.length;
    let m = 0;
    for (const v of values) m += v;
    m /= n;
    let sq = 0;
    for (const v of values) sq += (v - m) * (v - m);
    return Math.sqrt(sq / (n - 1));
  }

  const prepared = new WeakMap(); // the page's network object -> decoded data and sweeps

  /** Decode what Python sent, once per page. */
  function prepare(state) {
    if (prepared.has(state.network)) return prepared.get(state.network);
    const net = state.network.map((layer) => {
      const out = { type: layer.type };
      for (const key of ["weight", "bias", "running_mean", "running_var"]) {
        if (layer[key]) out[key] = decode(layer[key]);
      }
      if (layer.weight) out.shape = layer.weight.shape;
      if (layer.type === "bn") {
        out.eps = layer.eps;
        // Python's output histogram range, beta -+ 4.5 |gamma| -+ 1e-6, in float64 as there
        out.low = Array.from(out.bias, (b, c) => b - 4.5 * Math.abs(out.weight[c]) - 1e-6);
        out.high = Array.from(out.bias, (b, c) => b + 4.5 * Math.abs(out.weight[c]) + 1e-6);
      }
      return out;
    });
    const ctx = { net, norms: net.filter((l) => l.type === "bn"),
      firstNorm: net.findIndex((l) => l.type === "bn"), images: decode(state.images),
      shape: state.images.shape, front: [], sweeps: new Map(), single: null };
    prepared.set(state.network, ctx);
    return ctx;
  }

  /**
   * Every image alone through the network in evaluation mode, where an image's values do
   * not depend on its companions: per batch-norm layer its input's per-channel sums and
   * sums of squares, and the bins of its output. Evaluation-mode batches are then sums of
   * these, and cnnlib.explain.bn_stats.image_mean_spread (the std across images of each
   * image's channel mean, in evaluation mode) comes from the same pass.
   */
  function singles(ctx, bins) {
    if (ctx.single) return ctx.single;
    const N = ctx.shape[0];
    const per = ctx.norms.map(() => ({ sums: [], squares: [], bins: [], S: 0 }));
    for (let r = 0; r < N; r++) {
      forward(ctx, [r], false, (k, xs, C, S) => {
        const sums = new Float64Array(C);
        const squares = new Float64Array(C);
        const x = xs[0];
        for (let c = 0; c < C; c++) {
          for (let s = c * S; s < (c + 1) * S; s++) {
            sums[c] += x[s];
            squares[c] += x[s] * x[s];
          }
        }
        per[k].sums.push(sums);
        per[k].squares.push(squares);
        per[k].S = S;
        return null; // evaluation mode: the running statistics normalise
      }, (k, ys, C, S) => per[k].bins.push(binsOf(ctx, k, ys[0], C, S, bins)));
    }
    for (const p of per) {
      const C = p.sums[0].length;
      p.imageStd = Array.from({ length: C }, (_, c) => std(p.sums.map((m) => m[c] / p.S)));
    }
    ctx.single = per;
    return per;
  }

  /**
   * cnnlib.explain.bn_stats.batch_sweep for one size and mode: per batch-norm layer each
   * batch's input mean and variance (one Float64Array of C per batch) and the output's
   * histogram per channel (C × bins counts).
   */
  function sweep(ctx, state, B, train) {
    const key = `${B}/${train}`;
    if (ctx.sweeps.has(key)) return ctx.sweeps.get(key);
    const bins = state.out_bins;
    const rows = state.batches[String(B)];
    const nb = rows.length / B;
    const result = ctx.norms.map((layer) => ({ mean: [], var: [],
      hist: new Int32Array(layer.bias.length * bins) }));
    if (!train) {
      // Sums of each image's own values (see singles): no batch needs to run again.
      const per = singles(ctx, bins);
      per.forEach((p, k) => {
        const C = p.sums[0].length;
        const hist = result[k].hist;
        for (let n = 0; n < nb; n++) {
          const batch = rows.slice(n * B, (n + 1) * B);
          const mean = new Float64Array(C);
          const variance = new Float64Array(C);
          for (let c = 0; c < C; c++) {
            let sum = 0;
            let square = 0;
            for (const r of batch) {
              sum += p.sums[r][c];
              square += p.squares[r][c];
            }
            mean[c] = sum / (B * p.S);
            variance[c] = Math.max(square / (B * p.S) - mean[c] * mean[c], 0);
          }
          result[k].mean.push(mean);
          result[k].var.push(variance);
          for (const r of batch) {
            const b = p.bins[r];
            for (let c = 0; c < C; c++) {
              for (let s = c * p.S; s < (c + 1) * p.S; s++) hist[c * bins + b[s]]++;
            }
          }
        }
      });
    } else {
      for (let n = 0; n < nb; n++) {
        forward(ctx, rows.slice(n * B, (n + 1) * B), true, (k, xs, C, S) => {
          const m = batchMoments(xs, C, S);
          result[k].mean.push(m.mean);
          result[k].var.push(m.var);
          return m;
        }, (k, ys, C, S) => {
          const hist = result[k].hist;
          for (const y of ys) {
            const b = binsOf(ctx, k, y, C, S, bins);
            for (let c = 0; c < C; c++) {
              for (let s = c * S; s < (c + 1) * S; s++) hist[c * bins + b[s]]++;
            }
          }
        });
      }
    }
    ctx.sweeps.set(key, result);
    return result;
  }

  // ------------------------------------------------------------------ compute (website only)

  /**
   * The values Python's BatchStatsExplorer derives, computed in the browser.
   *
   * @param {object} state the model's values (controls and the data from Python).
   * @returns {object} channel (pulled into the layer), batch_mean, batch_var, running,
   *   spreads, sigma, hists, out_range, heading and summary.
   * @throws {Error} Python's words for a batch size, mode or layer it does not offer.
   */
  function compute(state) {
    const sizes = state.sizes;
    const B = state.batch_size;
    if (!sizes.includes(B)) {
      throw new Error(`batch_size must be one of ${show(sizes)}, got ${B}`);
    }
    if (!MODES.includes(state.mode)) {
      throw new Error(`mode must be 'train' or 'eval', got ${show(state.mode)}`);
    }
    const count = state.layer_options.length;
    if (!(Number.isInteger(state.layer) && state.layer >= 0 && state.layer < count)) {
      throw new Error(`layer must be 0..${count - 1} (the model's ${count} batch-norm ` +
        `layers), got ${state.layer}`);
    }
    const k = state.layer;
    const channels = state.layer_options[k][1];
    const c = Math.min(Math.max(state.channel, 0), channels - 1);
    const train = state.mode === "train";
    const ctx = prepare(state);
    const layer = ctx.norms[k];
    const here = sweep(ctx, state, B, train)[k];
    const spreads = {};
    for (const size of sizes) {
      spreads[String(size)] = std(sweep(ctx, state, size, train)[k].mean.map((m) => m[c]));
    }
    const sigma = singles(ctx, state.out_bins)[k].imageStd[c];
    const bins = state.out_bins;
    const hists = {};
    for (const mode of MODES) {
      const hist = sweep(ctx, state, B, mode === "train")[k].hist;
      hists[mode] = Array.from(hist.subarray(c * bins, (c + 1) * bins));
    }
    const running = { mean: layer.running_mean[c], var: layer.running_var[c] };
    const largest = sizes[sizes.length - 1];
    const atLargest = B === largest ? "" :
      `, at B = ${largest} it is ${pyG(spreads[String(largest)], 3)}`;
    const spread = `across ${state.num_batches} batches of ${B} this channel's input means ` +
      `spread by ${pyG(spreads[String(B)], 3)} (std; σ₁/√B predicts ` +
      `${pyG(sigma / Math.sqrt(B), 3)}${atLargest})`;
    const stored = `the running mean ${pyG(running.mean, 3)} and variance ` +
      `${pyG(running.var, 3)} stored during training`;
    const summary = train ?
      `Training mode: every batch is normalised with its own mean and variance; ${spread}. ` +
        `Evaluation mode would use ${stored} instead.` :
      `Evaluation mode: every batch is normalised with ${stored}, the same for every batch, ` +
        "so an image's output does not depend on its companions. The batch statistics go " +
        `unused; ${spread}.`;
    return {
      channel: c,
      batch_mean: here.mean.map((m) => m[c]),
      batch_var: here.var.map((v) => v[c]),
      running,
      spreads,
      sigma,
      hists,
      out_range: [layer.low[c], layer.high[c]],
      heading: `${state.titles[k]}, channel ${c}, B = ${B}, ` +
        `${train ? "training" : "evaluation"} mode`,
      summary,
    };
  }

  // ------------------------------------------------------------------ drawing

  const SVG = "http://www.w3.org/2000/svg";
  const W = 220;
  const H = 150;
  const PAD = { left: 40, right: 8, top: 8, bottom: 28 };

  function svgNode(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Axes from x0..x1, y0..y1 (log10 when asked), with the y ends written. */
  function axes(svg, [x0, x1], [y0, y1], logY = false) {
    const ty = (v) => (logY ? Math.log10(v) : v);
    const sx = (v) => PAD.left + ((v - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
    const sy = (v) => H - PAD.bottom -
      ((ty(v) - ty(y0)) / (ty(y1) - ty(y0) || 1)) * (H - PAD.top - PAD.bottom);
    svg.append(svgNode("line", { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom,
      y2: H - PAD.bottom, class: "cnnx-axis" }));
    svg.append(svgNode("line", { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom,
      class: "cnnx-axis" }));
    for (const v of [y0, y1]) {
      svg.append(svgNode("text", { x: PAD.left - 3, y: sy(v), class: "cnnx-ytick" },
        pyG(v, 2)));
    }
    return { sx, sy };
  }

  function labelled(svg, label) {
    svg.replaceChildren();
    svg.setAttribute("aria-label", label);
    svg.append(svgNode("title", {}, label));
  }

  /** Each batch's value as a dot, the running value as a line. */
  function drawBatches(svg, values, running, what, train) {
    labelled(svg, `Each of the ${values.length} batches' input ${what} (dots) and the ` +
      `running ${what} stored in training (line).`);
    const all = [...values, running];
    let lo = Math.min(...all);
    let hi = Math.max(...all);
    const margin = 0.08 * (hi - lo || Math.abs(hi) || 1);
    lo -= margin;
    hi += margin;
    const { sx, sy } = axes(svg, [0.5, values.length + 0.5], [lo, hi]);
    values.forEach((v, n) => {
      svg.append(svgNode("circle", { cx: sx(n + 1), cy: sy(v), r: 2.2, class: "cnnx-batch",
        "data-value": v, "fill-opacity": train ? 1 : 0.35 }));
    });
    svg.append(svgNode("line", { x1: sx(0.5), x2: sx(values.length + 0.5), y1: sy(running),
      y2: sy(running), class: `cnnx-running${train ? " cnnx-dashed" : ""}`,
      "data-value": running }));
    svg.append(svgNode("text", { x: (PAD.left + W) / 2, y: H - 8 },
      `batch (of ${values.length})`));
  }

  /** The spread of the batch means per batch size, and σ₁/√B, on log scales. */
  function drawSpread(svg, spreads, sigma, B, sizes, mode) {
    labelled(svg, "How far the batch means spread (std across batches) at each batch size, " +
      "measured and as σ₁/√B predicts, on log scales.");
    const predicted = sizes.map((b) => sigma / Math.sqrt(b));
    const measured = sizes.map((b) => spreads[String(b)]);
    const positive = [...predicted, ...measured].filter((v) => v > 0);
    const lo = Math.min(...positive) / 1.3;
    const hi = Math.max(...positive) * 1.3;
    const lx = sizes.map((b) => Math.log2(b));
    const { sx, sy } = axes(svg, [lx[0] - 0.3, lx[lx.length - 1] + 0.3], [lo, hi], true);
    const path = (values) => values.map((v, n) => `${n ? "L" : "M"}${sx(lx[n])},${sy(v)}`)
      .join("");
    svg.append(svgNode("path", { d: path(predicted), class: "cnnx-predicted" }));
    svg.append(svgNode("path", { d: path(measured), class: "cnnx-measured",
      stroke: COLOURS[mode] }));
    sizes.forEach((b, n) => {
      svg.append(svgNode("circle", { cx: sx(lx[n]), cy: sy(measured[n]), r: b === B ? 4 : 2.2,
        class: `cnnx-size${b === B ? " cnnx-chosen" : ""}`, fill: COLOURS[mode],
        "data-size": b, "data-value": measured[n] }));
      if (n === 0 || n === sizes.length - 1 || b === B) {
        svg.append(svgNode("text", { x: sx(lx[n]), y: H - PAD.bottom + 13 }, String(b)));
      }
    });
    svg.append(svgNode("text", { x: (PAD.left + W) / 2, y: H - 2 }, "batch size B"));
  }

  /** The output's histograms in both modes, as fractions of all values. */
  function drawOutput(svg, hists, [x0, x1], mode) {
    labelled(svg, "Histograms of the layer's output over all batches, in training mode " +
      "and in evaluation mode, as fractions of all values.");
    const fractions = {};
    let peak = 0;
    for (const m of MODES) {
      const total = Math.max(hists[m].reduce((a, b) => a + b, 0), 1);
      fractions[m] = hists[m].map((v) => v / total);
      peak = Math.max(peak, ...fractions[m]);
    }
    const { sx, sy } = axes(svg, [x0, x1], [0, Math.max(peak, 1e-3) * 1.15]);
    for (const m of MODES) {
      const f = fractions[m];
      const step = (x1 - x0) / f.length;
      let d = `M${sx(x0)},${sy(0)}`;
      f.forEach((v, n) => {
        d += `V${sy(v)}H${sx(x0 + (n + 1) * step)}`;
      });
      svg.append(svgNode("path", { d: `${d}V${sy(0)}`, stroke: COLOURS[m], "data-mode": m,
        "data-counts": JSON.stringify(hists[m]),
        class: `cnnx-hist${m === mode ? "" : " cnnx-dashed"}` }));
    }
    for (const v of [x0, x1]) {
      svg.append(svgNode("text", { x: sx(v), y: H - PAD.bottom + 13 }, pyG(v, 2)));
    }
    svg.append(svgNode("text", { x: (PAD.left + W) / 2, y: H - 2 }, "output value"));
  }

  const STYLE = `
.cnnx-bst{font-size:max(12px,1em);line-height:1.35;color:#222;max-width:60rem}
.cnnx-bst .cnnx-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));
  gap:.25rem 1.25rem;margin:0 0 .5rem;padding:0;border:0}
.cnnx-bst .cnnx-control{display:flex;align-items:center;gap:.5rem}
.cnnx-bst .cnnx-control label{flex:0 0 5.5em}
.cnnx-bst .cnnx-control input,.cnnx-bst .cnnx-control select{flex:1 1 auto;min-width:5rem;
  min-height:24px;margin:0;font:inherit}
.cnnx-bst .cnnx-control output{flex:0 0 3ch;text-align:right;font-variant-numeric:tabular-nums}
.cnnx-bst .cnnx-heading{margin:.25rem 0;font-weight:600}
.cnnx-bst .cnnx-legend{display:flex;gap:1rem;flex-wrap:wrap;margin:.25rem 0}
.cnnx-bst .cnnx-legend span::before{content:"";display:inline-block;width:1.5em;
  margin-right:.3em;vertical-align:middle;border-top:2px solid var(--c)}
.cnnx-bst .cnnx-legend .cnnx-dash::before{border-top-style:dashed}
.cnnx-bst .cnnx-panels{display:flex;flex-wrap:wrap;gap:.5rem .75rem}
.cnnx-bst .cnnx-panel{flex:1 1 220px;min-width:220px;max-width:300px;margin:0}
.cnnx-bst .cnnx-panel svg{display:block;width:100%;height:auto}
.cnnx-bst svg text{font-size:11px;text-anchor:middle;fill:#222}
.cnnx-bst svg text.cnnx-ytick{text-anchor:end;dominant-baseline:central}
.cnnx-bst svg .cnnx-axis{stroke:#555;stroke-width:1}
.cnnx-bst svg .cnnx-batch{fill:${COLOURS.train}}
.cnnx-bst svg .cnnx-running{stroke:${COLOURS.eval};stroke-width:2}
.cnnx-bst svg .cnnx-dashed{stroke-dasharray:4 3;stroke-width:1.2}
.cnnx-bst svg .cnnx-predicted{fill:none;stroke:grey;stroke-dasharray:4 3}
.cnnx-bst svg .cnnx-measured{fill:none;stroke-width:1.5}
.cnnx-bst svg .cnnx-chosen{stroke:#000;stroke-width:1.5}
.cnnx-bst svg .cnnx-hist{fill:none;stroke-width:2}
.cnnx-bst .cnnx-message{padding:1rem;border:1px solid #b00020;color:#b00020;border-radius:4px}
.cnnx-bst .cnnx-status{margin-top:.5rem;min-height:1.35em;overflow-wrap:anywhere}
.cnnx-bst [hidden]{display:none !important}
`;

  let instances = 0; // unique ids when one page shows the explorer twice

  /**
   * Draw the explorer into el and keep it in step with model.
   *
   * @param {{model: object, el: HTMLElement}} props anywidget's render arguments.
   * @returns {Function} cleanup: removes the listeners.
   */
  function render({ model, el }) {
    const id = `cnnx-bst-${++instances}`;
    const root = element("div", { class: "cnnx-bst" });
    root.append(element("style", {}, STYLE));
    const fieldset = element("fieldset", { class: "cnnx-controls",
      "aria-label": "Batch statistics settings" });
    function box(name, label, control) {
      control.id = `${id}-${name}`;
      control.name = name;
      const div = element("div", { class: "cnnx-control" });
      div.append(element("label", { for: control.id }, label), control);
      fieldset.append(div);
      return div;
    }
    function send(name, value) {
      model.set(name, value);
      model.save_changes();
    }
    const menus = {};
    const options = {
      batch_size: model.get("sizes").map((b) => [String(b), String(b)]),
      mode: MODES.map((m) => [m, m]),
      layer: model.get("layer_options").map(([title], k) => [String(k), title]),
    };
    const words = { batch_size: "batch size", mode: "mode", layer: "layer" };
    for (const name of ["batch_size", "mode", "layer"]) {
      const select = element("select");
      for (const [value, text] of options[name]) {
        select.append(element("option", { value }, text));
      }
      box(name, words[name], select);
      select.addEventListener("change", () => send(name, name === "mode" ? select.value
        : Number(select.value)));
      menus[name] = select;
    }
    const slider = element("input", { type: "range", min: 0, step: 1 });
    const channelBox = box("channel", "channel", slider);
    const channelValue = element("output", { for: slider.id, "aria-hidden": "true" });
    channelBox.append(channelValue);
    slider.addEventListener("input", () => send("channel", Number(slider.value)));
    keepSliderKeys(fieldset); // JupyterLab's command mode would take the arrow keys

    const heading = element("p", { class: "cnnx-heading" });
    // What the marks mean (the pictures' labels say it in words for screen readers).
    const legend = element("p", { class: "cnnx-legend", "aria-hidden": "true" });
    for (const [text, colour, dashed] of [["each batch's", COLOURS.train, false],
      ["running", COLOURS.eval, false], ["σ₁/√B", "grey", true], ["train", COLOURS.train, false],
      ["eval", COLOURS.eval, false]]) {
      const span = element("span", { style: `--c:${colour}` }, text);
      if (dashed) span.classList.add("cnnx-dash");
      legend.append(span);
    }
    const panels = element("div", { class: "cnnx-panels" });
    const figures = ["input mean", "input variance", "spread of batch means",
      "output, both modes"].map((title, k) => {
      const figure = element("figure", { class: `cnnx-panel cnnx-panel-${k}` });
      const svg = svgNode("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
      figure.append(element("figcaption", {}, title), svg);
      panels.append(figure);
      return svg;
    });
    const message = element("div", { class: "cnnx-message", hidden: "" });
    const status = element("div", { class: "cnnx-status", role: "status",
      "aria-live": "polite" });
    root.append(fieldset, heading, legend, panels, message, status);
    el.append(root);

    function draw() {
      for (const name of Object.keys(menus)) menus[name].value = String(model.get(name));
      const k = model.get("layer");
      const option = model.get("layer_options")[k];
      slider.max = option ? option[1] - 1 : 0;
      slider.value = model.get("channel");
      channelValue.textContent = String(model.get("channel"));
      const error = model.get("error");
      const valid = !error && model.get("summary");
      message.hidden = !error;
      message.textContent = error || "";
      panels.hidden = heading.hidden = legend.hidden = !valid;
      status.textContent = error || model.get("summary");
      if (!valid) return;
      heading.textContent = model.get("heading");
      const train = model.get("mode") === "train";
      const running = model.get("running");
      drawBatches(figures[0], model.get("batch_mean"), running.mean, "mean", train);
      drawBatches(figures[1], model.get("batch_var"), running.var, "variance", train);
      drawSpread(figures[2], model.get("spreads"), model.get("sigma"),
        model.get("batch_size"), model.get("sizes"), model.get("mode"));
      drawOutput(figures[3], model.get("hists"), model.get("out_range"), model.get("mode"));
    }

    let queued = false; // several values change at once: one drawing
    function redraw() {
      if (queued) return;
      queued = true;
      Promise.resolve().then(() => {
        queued = false;
        draw();
      });
    }
    const events = ["batch_size", "mode", "layer", "channel", "batch_mean", "batch_var",
      "running", "spreads", "sigma", "hists", "out_range", "heading", "summary", "error"]
      .map((name) => `change:${name}`);
    for (const event of events) model.on(event, redraw);
    draw();
    return () => {
      for (const event of events) model.off(event, redraw);
    };
  }

  CNNExplorers.define("BatchStatsExplorer", { render, compute });
})();
