/**
 * cnn-ops.js: the operations of D2L chapter 7 (sections 7.2-7.5), computed in the browser.
 *
 * Every chapter-7 explorer on the website calls these; in JupyterLab the same numbers come
 * from PyTorch and cnnlib.ops. Each function is the text's formula written as direct loops,
 * and each is tested against torch.nn.functional (tests/browser/test_web_ops.py).
 *
 * A tensor is a plain object {shape: number[], data: Float32Array} in row-major order, the
 * layout of a contiguous float32 torch tensor: element [c, i, j] of a C×H×W tensor is
 * data[(c * H + i) * W + j]. Functions never change their arguments and always return new
 * tensors. Sums are accumulated in double precision and stored as float32 (corr2dMultiIn
 * adds its channels' float32 corr2d results, as the text adds tensors).
 *
 * Bad input throws an Error whose message starts with the function's name, says what was
 * wrong and how to fix it. Checks run before any work, so a failed call changes nothing.
 *
 * One classic script (pages opened from file:// cannot load ES modules): it defines the
 * global CNNOps, and module.exports under Node.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ checking arguments

  function fail(fn, message) {
    throw new Error(`${fn}: ${message}`);
  }

  /** A short, readable rendering of a bad value for an error message. */
  function show(value) {
    if (value === undefined) return "undefined";
    if (typeof value === "number") return String(value); // JSON would write NaN as null
    if (typeof value === "string") return JSON.stringify(value);
    if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${value.length}`;
    try {
      const text = JSON.stringify(value);
      return text.length > 60 ? text.slice(0, 57) + "..." : text;
    } catch (err) {
      return String(value);
    }
  }

  function product(shape) {
    return shape.reduce((a, b) => a * b, 1);
  }

  function checkShape(fn, name, shape) {
    if (!Array.isArray(shape) || shape.length === 0) {
      fail(fn, `${name} must be a non-empty array of sizes such as [3, 28, 28], got ${show(shape)}`);
    }
    shape.forEach((size, axis) => {
      if (!Number.isInteger(size) || size < 1) {
        fail(fn, `${name}[${axis}] is ${show(size)}; every size must be a whole number >= 1`);
      }
    });
  }

  /** Index of the first NaN or ±Infinity in data, or -1. */
  function firstNonFinite(data) {
    for (let t = 0; t < data.length; t++) {
      if (!Number.isFinite(data[t])) return t;
    }
    return -1;
  }

  /**
   * Check that T is a tensor whose rank is one of `layouts`' keys, e.g. {2: "[H, W]"}.
   * Non-finite values are refused: NaN would spread through every sum silently.
   */
  function checkTensor(fn, name, T, layouts) {
    const wanted = Object.values(layouts).join(" or ");
    if (T === null || typeof T !== "object" || !("shape" in T) || !("data" in T)) {
      fail(fn, `${name} must be a tensor {shape, data} of shape ${wanted}, got ${show(T)}; ` +
        "build one with CNNOps.tensor(shape, data)");
    }
    checkShape(fn, `${name}.shape`, T.shape);
    if (!(T.data instanceof Float32Array)) {
      fail(fn, `${name}.data must be a Float32Array, got ${show(T.data)}; ` +
        "build the tensor with CNNOps.tensor(shape, data), which converts a plain array");
    }
    if (!(T.shape.length in layouts)) {
      fail(fn, `${name} must have shape ${wanted}, got shape [${T.shape}]`);
    }
    if (T.data.length !== product(T.shape)) {
      fail(fn, `${name}.data has ${T.data.length} values but shape [${T.shape}] needs ` +
        `${product(T.shape)}; make them agree (CNNOps.tensor checks this)`);
    }
    const bad = firstNonFinite(T.data);
    if (bad >= 0) {
      fail(fn, `${name}.data[${bad}] is ${T.data[bad]}; every value must be a finite number ` +
        "(replace NaN and Infinity before calling)");
    }
  }

  const FIXES = {
    padding: "use 0 for no padding",
    stride: "stride 1 visits every position",
    dilation: "dilation 1 means adjacent kernel taps",
    size: "the window needs at least one cell",
    kernel: "the kernel needs at least one cell",
  };

  /** A number or [h, w] pair of whole numbers >= minimum, as nn.Conv2d reads its sizes. */
  function pair(fn, name, value, minimum) {
    const values = typeof value === "number" ? [value, value] : value;
    const ok = Array.isArray(values) && values.length === 2 &&
      values.every((v) => Number.isInteger(v) && v >= minimum);
    if (!ok) {
      const fix = FIXES[name.split(/[ .]/).pop()];
      fail(fn, `${name} must be a whole number >= ${minimum} or a pair [h, w] of them, ` +
        `got ${show(value)}` + (fix ? `; ${fix}` : ""));
    }
    return [values[0], values[1]];
  }

  function checkOptions(fn, options, known) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      fail(fn, `options must be an object such as {${known.join(", ")}}, got ${show(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        fail(fn, `unknown option "${key}"; the options are ${known.join(", ")}`);
      }
    }
  }

  function checkWhole(fn, name, value, minimum) {
    if (!Number.isInteger(value) || value < minimum) {
      fail(fn, `${name} must be a whole number >= ${minimum}, got ${show(value)}` +
        (FIXES[name] ? `; ${FIXES[name]}` : ""));
    }
  }

  /**
   * How many positions a window takes along one axis: the section's formula
   * floor((n + 2p - d(k-1) - 1) / s) + 1, refusing a window longer than the padded input.
   */
  function windowCount(fn, what, axis, n, k, p, s, d) {
    const span = d * (k - 1) + 1; // how far the dilated window reaches
    if (span > n + 2 * p) {
      const dilated = d > 1 ? ` (${k} taps with dilation ${d})` : "";
      fail(fn, `the ${what}${dilated} spans ${span} cells in ${axis} but the padded input is only ` +
        `${n + 2 * p} (${n} plus padding ${p} on each side); use a smaller ${what}, ` +
        "more padding or a larger input");
    }
    return Math.floor((n + 2 * p - span) / s) + 1;
  }

  /** A C×H×W or H×W tensor as [C, H, W] (one channel for H×W). */
  function chw(T) {
    return T.shape.length === 2 ? [1, T.shape[0], T.shape[1]] : T.shape;
  }

  /** data (C×H×W) with ph rows and pw columns of `value` added on each side. */
  function padData(data, C, H, W, ph, pw, value) {
    if (ph === 0 && pw === 0) return data; // read-only use: no copy needed
    const Hp = H + 2 * ph;
    const Wp = W + 2 * pw;
    const out = new Float32Array(C * Hp * Wp).fill(value);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        const from = (c * H + i) * W;
        out.set(data.subarray(from, from + W), (c * Hp + i + ph) * Wp + pw);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ tensors and sizes

  /**
   * Make a tensor {shape, data}: zeros, or a float32 copy of `data` in row-major order.
   *
   * @param {number[]} shape sizes, each a whole number >= 1, e.g. [1, 28, 28].
   * @param {ArrayLike<number>} [data] product(shape) numbers, last index fastest; copied.
   * @returns {{shape: number[], data: Float32Array}}
   * @throws {Error} a bad shape, a wrong number of values, a value that is not a number,
   *   NaN, ±Infinity, or too large for float32.
   */
  function tensor(shape, data) {
    checkShape("tensor", "shape", shape);
    const size = product(shape);
    if (data === undefined) return { shape: shape.slice(), data: new Float32Array(size) };
    if (!Array.isArray(data) && !ArrayBuffer.isView(data)) {
      fail("tensor", `data must be an array or a Float32Array of numbers, got ${show(data)}`);
    }
    if (data.length !== size) {
      fail("tensor", `data has ${data.length} values but shape [${shape}] needs ${size} ` +
        "(the product of its sizes); give one value per element, last index fastest");
    }
    const values = new Float32Array(size);
    for (let t = 0; t < size; t++) {
      const v = data[t];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        fail("tensor", `data[${t}] is ${show(v)}; every value must be a finite number`);
      }
      values[t] = v;
      if (!Number.isFinite(values[t])) {
        fail("tensor", `data[${t}] = ${v} is too large for float32 (about ±3.4e38)`);
      }
    }
    return { shape: shape.slice(), data: values };
  }

  /**
   * Output length of a convolution or pooling window along one axis (section 7.3):
   * floor((n + 2p - d(k - 1) - 1) / s) + 1, with p the padding on each side.
   *
   * @param {number} n input length.
   * @param {number} k kernel (window) length.
   * @param {number} p padding added on each side.
   * @param {number} s stride.
   * @param {number} [d=1] dilation (1: adjacent taps).
   * @returns {number} the number of window positions, >= 1.
   * @throws {Error} a non-integer or out-of-range argument, or a window larger than the
   *   padded input (output < 1).
   */
  function outputSize(n, k, p, s, d = 1) {
    const fn = "outputSize";
    checkWhole(fn, "input length n", n, 1);
    checkWhole(fn, "kernel", k, 1);
    checkWhole(fn, "padding", p, 0);
    checkWhole(fn, "stride", s, 1);
    checkWhole(fn, "dilation", d, 1);
    return windowCount(fn, "kernel", "length", n, k, p, s, d);
  }

  // ------------------------------------------------------------------ section 7.2

  /**
   * 2-D cross-correlation, the book's corr2d: Y[i, j] = sum_{u,v} X[i+u, j+v] K[u, v].
   *
   * @param {{shape: number[], data: Float32Array}} X input, H×W.
   * @param {{shape: number[], data: Float32Array}} K kernel, kh×kw with kh <= H, kw <= W.
   * @returns {{shape: number[], data: Float32Array}} (H - kh + 1)×(W - kw + 1).
   * @throws {Error} wrong ranks, bad tensors, or a kernel larger than the input.
   */
  function corr2d(X, K) {
    const fn = "corr2d";
    checkTensor(fn, "X", X, { 2: "[H, W]" });
    checkTensor(fn, "K", K, { 2: "[kh, kw]" });
    const [H, W] = X.shape;
    const [kh, kw] = K.shape;
    if (kh > H || kw > W) {
      fail(fn, `the kernel K (${kh}×${kw}) is larger than the input X (${H}×${W}); corr2d ` +
        "does not pad: use a smaller kernel, or conv2d with padding");
    }
    const Y = tensor([H - kh + 1, W - kw + 1]);
    const [Yh, Yw] = Y.shape;
    for (let i = 0; i < Yh; i++) {
      for (let j = 0; j < Yw; j++) {
        let sum = 0;
        for (let u = 0; u < kh; u++) {
          for (let v = 0; v < kw; v++) sum += X.data[(i + u) * W + j + v] * K.data[u * kw + v];
        }
        Y.data[i * Yw + j] = sum;
      }
    }
    return Y;
  }

  // ------------------------------------------------------------------ section 7.3

  /**
   * Add ph rows and pw columns of `value` on each side of every channel (section 7.3).
   *
   * @param {{shape: number[], data: Float32Array}} X C×H×W or H×W.
   * @param {number|number[]} padding p or [ph, pw], whole numbers >= 0.
   * @param {number} [value=0] the fill; -Infinity is allowed (max pooling's padding).
   * @returns {{shape: number[], data: Float32Array}} C×(H + 2ph)×(W + 2pw), or
   *   (H + 2ph)×(W + 2pw) for an H×W input.
   * @throws {Error} a bad tensor, a negative or non-integer padding, or a NaN value.
   */
  function pad2d(X, padding, value = 0) {
    const fn = "pad2d";
    checkTensor(fn, "X", X, { 2: "[H, W]", 3: "[C, H, W]" });
    const [ph, pw] = pair(fn, "padding", padding, 0);
    if (typeof value !== "number" || Number.isNaN(value)) {
      fail(fn, `value must be a number (0, or -Infinity for max pooling), got ${show(value)}`);
    }
    const [C, H, W] = chw(X);
    const data = padData(X.data, C, H, W, ph, pw, value);
    const shape = X.shape.slice();
    shape[shape.length - 2] += 2 * ph;
    shape[shape.length - 1] += 2 * pw;
    return { shape, data: data === X.data ? data.slice() : data };
  }

  /**
   * Convolution as torch.nn.functional.conv2d computes it (a cross-correlation, section 7.2,
   * with padding and stride from 7.3 and channels from 7.4):
   * Y[o, i, j] = bias[o] + sum_{c,u,v} Xpad[c, i*sh + u*dh, j*sw + v*dw] W[o, c, u, v].
   *
   * @param {{shape: number[], data: Float32Array}} X input, C×H×W (H×W: one channel).
   * @param {{shape: number[], data: Float32Array}} W weights, O×C×kh×kw.
   * @param {object} [options]
   * @param {{shape: number[], data: Float32Array}|ArrayLike<number>|null} [options.bias] O
   *   numbers (a tensor of shape [O] or an array); absent or null: no bias.
   * @param {number|number[]} [options.padding=0] zeros on each side, p or [ph, pw].
   * @param {number|number[]} [options.stride=1] s or [sh, sw].
   * @param {number|number[]} [options.dilation=1] d or [dh, dw].
   * @returns {{shape: number[], data: Float32Array}} O×H'×W', H' = outputSize(H, kh, ph, sh, dh).
   * @throws {Error} bad tensors or options, channel counts that differ, a bias of the wrong
   *   length, or a (dilated) kernel larger than the padded input.
   */
  function conv2d(X, W, options = {}) {
    const fn = "conv2d";
    checkOptions(fn, options, ["bias", "padding", "stride", "dilation"]);
    checkTensor(fn, "X", X, { 2: "[H, W]", 3: "[C, H, W]" });
    checkTensor(fn, "W", W, { 4: "[O, C, kh, kw]" });
    const [C, H, Wd] = chw(X);
    const [O, Cw, kh, kw] = W.shape;
    if (Cw !== C) {
      fail(fn, `X has ${C} channel(s) but W has ${Cw} input channel(s) (W.shape[1]); ` +
        `give W the shape [${O}, ${C}, ${kh}, ${kw}] or give X ${Cw} channel(s)`);
    }
    const bias = options.bias == null ? null : readBias(fn, options.bias, O); // null: none
    const [ph, pw] = pair(fn, "padding", options.padding ?? 0, 0);
    const [sh, sw] = pair(fn, "stride", options.stride ?? 1, 1);
    const [dh, dw] = pair(fn, "dilation", options.dilation ?? 1, 1);
    const outH = windowCount(fn, "kernel", "height", H, kh, ph, sh, dh);
    const outW = windowCount(fn, "kernel", "width", Wd, kw, pw, sw, dw);

    // Pad once, so the loop below is the formula with no bounds checks.
    const P = padData(X.data, C, H, Wd, ph, pw, 0);
    const Hp = H + 2 * ph;
    const Wp = Wd + 2 * pw;
    const w = W.data;
    const Y = new Float32Array(O * outH * outW);
    let y = 0;
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let sum = bias ? bias[o] : 0;
          let k = o * C * kh * kw; // W[o, c, u, v], visited in memory order
          for (let c = 0; c < C; c++) {
            for (let u = 0; u < kh; u++) {
              const row = (c * Hp + i * sh + u * dh) * Wp + j * sw; // Xpad[c, i*sh + u*dh, j*sw]
              for (let v = 0; v < kw; v++) sum += P[row + v * dw] * w[k++];
            }
          }
          Y[y++] = sum;
        }
      }
    }
    return { shape: [O, outH, outW], data: Y };
  }

  /** conv2d's bias: a 1-D tensor or an array of O finite numbers. */
  function readBias(fn, bias, O) {
    const values = bias !== null && typeof bias === "object" && "data" in bias ? bias.data : bias;
    if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
      fail(fn, `bias must be ${O} numbers (an array or a tensor of shape [${O}]), got ${show(bias)}`);
    }
    if (values.length !== O) {
      fail(fn, `bias has ${values.length} values but W has ${O} output channel(s); give one ` +
        "bias per output channel, or leave bias out");
    }
    for (let t = 0; t < O; t++) {
      if (typeof values[t] !== "number" || !Number.isFinite(values[t])) {
        fail(fn, `bias[${t}] is ${show(values[t])}; every value must be a finite number`);
      }
    }
    return Float32Array.from(values); // float32, as torch adds it
  }

  // ------------------------------------------------------------------ section 7.4

  /**
   * Multi-input-channel cross-correlation (section 7.4): one corr2d per channel, summed,
   * as the text's sum(corr2d(x, k) for x, k in zip(X, K)).
   *
   * @param {{shape: number[], data: Float32Array}} X C×H×W.
   * @param {{shape: number[], data: Float32Array}} K C×kh×kw.
   * @returns {{shape: number[], data: Float32Array}} (H - kh + 1)×(W - kw + 1).
   * @throws {Error} wrong ranks, channel counts that differ, or a kernel larger than X.
   */
  function corr2dMultiIn(X, K) {
    const fn = "corr2dMultiIn";
    checkTensor(fn, "X", X, { 3: "[C, H, W]" });
    checkTensor(fn, "K", K, { 3: "[C, kh, kw]" });
    checkMultiIn(fn, X, K.shape);
    const [C, H, W] = X.shape;
    const [, kh, kw] = K.shape;
    const Y = tensor([H - kh + 1, W - kw + 1]);
    for (let c = 0; c < C; c++) {
      const Yc = corr2d(channel(X, c), channel(K, c));
      for (let t = 0; t < Y.data.length; t++) Y.data[t] += Yc.data[t];
    }
    return Y;
  }

  /**
   * Multi-input, multi-output cross-correlation (section 7.4): one corr2dMultiIn per output
   * channel, stacked. A 1×1 convolution is this with kh = kw = 1 (or conv2d).
   *
   * @param {{shape: number[], data: Float32Array}} X C×H×W.
   * @param {{shape: number[], data: Float32Array}} K O×C×kh×kw.
   * @returns {{shape: number[], data: Float32Array}} O×(H - kh + 1)×(W - kw + 1).
   * @throws {Error} wrong ranks, channel counts that differ, or a kernel larger than X.
   */
  function corr2dMultiInOut(X, K) {
    const fn = "corr2dMultiInOut";
    checkTensor(fn, "X", X, { 3: "[C, H, W]" });
    checkTensor(fn, "K", K, { 4: "[O, C, kh, kw]" });
    checkMultiIn(fn, X, K.shape.slice(1));
    const [, H, W] = X.shape;
    const [O, , kh, kw] = K.shape;
    const Y = tensor([O, H - kh + 1, W - kw + 1]);
    const plane = Y.data.length / O;
    for (let o = 0; o < O; o++) Y.data.set(corr2dMultiIn(X, channel(K, o)).data, o * plane);
    return Y;
  }

  function checkMultiIn(fn, X, [Ck, kh, kw]) {
    const [C, H, W] = X.shape;
    if (Ck !== C) {
      fail(fn, `X has ${C} channel(s) but K has ${Ck}; each input channel needs its own ` +
        `kernel slice, so give K ${C} input channel(s)`);
    }
    if (kh > H || kw > W) {
      fail(fn, `the kernel (${kh}×${kw}) is larger than the input (${H}×${W}); use a ` +
        "smaller kernel, or conv2d with padding");
    }
  }

  /** T[index] as a tensor sharing T's memory (a view: no copy). */
  function channel(T, index) {
    const shape = T.shape.slice(1);
    const size = product(shape);
    return { shape, data: T.data.subarray(index * size, (index + 1) * size) };
  }

  // ------------------------------------------------------------------ section 7.5

  /**
   * Max or average pooling as torch.nn.functional.max_pool2d / avg_pool2d compute it: each
   * channel on its own; max pooling pads with -Infinity (a padded cell never wins), average
   * pooling pads with zeros and counts them (PyTorch's count_include_pad=True).
   *
   * @param {{shape: number[], data: Float32Array}} X C×H×W or H×W.
   * @param {object} options
   * @param {"max"|"avg"} options.kind
   * @param {number|number[]} options.size the window, k or [kh, kw].
   * @param {number|number[]} [options.padding=0] at most half the window, as PyTorch requires.
   * @param {number|number[]} [options.stride=size] s or [sh, sw]; PyTorch's default is the size.
   * @returns {{shape: number[], data: Float32Array}} C×H'×W' (H'×W' for an H×W input).
   * @throws {Error} a bad tensor, kind or size, padding above half the window, or a window
   *   larger than the padded input.
   */
  function pool2d(X, options) {
    const fn = "pool2d";
    checkOptions(fn, options, ["kind", "size", "padding", "stride"]);
    checkTensor(fn, "X", X, { 2: "[H, W]", 3: "[C, H, W]" });
    if (options.kind !== "max" && options.kind !== "avg") {
      fail(fn, `kind must be "max" or "avg", got ${show(options.kind)}`);
    }
    if (options.size === undefined) {
      fail(fn, 'options.size is missing; give the pooling window, e.g. {kind: "max", size: 2}');
    }
    const [kh, kw] = pair(fn, "size", options.size, 1);
    const [ph, pw] = pair(fn, "padding", options.padding ?? 0, 0);
    const [sh, sw] = pair(fn, "stride", options.stride ?? [kh, kw], 1);
    if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2)) {
      // Otherwise a window could hold padding only; PyTorch refuses it the same way.
      fail(fn, `padding [${ph}, ${pw}] is more than half the window [${kh}, ${kw}]; PyTorch ` +
        `allows at most [${Math.floor(kh / 2)}, ${Math.floor(kw / 2)}]: lower the padding or ` +
        "widen the window");
    }
    const [C, H, W] = chw(X);
    const outH = windowCount(fn, "pooling window", "height", H, kh, ph, sh, 1);
    const outW = windowCount(fn, "pooling window", "width", W, kw, pw, sw, 1);

    const isMax = options.kind === "max";
    const P = padData(X.data, C, H, W, ph, pw, isMax ? -Infinity : 0);
    const Hp = H + 2 * ph;
    const Wp = W + 2 * pw;
    const count = kh * kw; // padded zeros count too
    const Y = new Float32Array(C * outH * outW);
    let y = 0;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let acc = isMax ? -Infinity : 0;
          for (let u = 0; u < kh; u++) {
            const row = (c * Hp + i * sh + u) * Wp + j * sw;
            for (let v = 0; v < kw; v++) {
              const x = P[row + v];
              if (isMax) {
                if (x > acc) acc = x;
              } else {
                acc += x;
              }
            }
          }
          Y[y++] = isMax ? acc : acc / count;
        }
      }
    }
    const shape = X.shape.length === 2 ? [outH, outW] : [C, outH, outW];
    return { shape, data: Y };
  }

  // ------------------------------------------------------------------ receptive fields

  /** A list of layers {kernel, stride=1, padding=0, dilation=1} as [h, w] pairs. */
  function readLayers(fn, layers) {
    if (!Array.isArray(layers) || layers.length === 0) {
      fail(fn, `layers must be a non-empty array of {kernel, stride, padding}, got ${show(layers)}`);
    }
    return layers.map((layer, index) => {
      const name = `layers[${index}]`;
      const known = ["kernel", "stride", "padding", "dilation", "name"];
      if (layer === null || typeof layer !== "object" || Array.isArray(layer)) {
        fail(fn, `${name} must be an object {kernel, stride, padding} (stride, padding and ` +
          `dilation are optional), got ${show(layer)}`);
      }
      checkOptions(`${fn}: ${name}`, layer, known);
      if (!("kernel" in layer)) fail(fn, `${name} has no kernel; give it {kernel: 3} or [kh, kw]`);
      return {
        k: pair(fn, `${name}.kernel`, layer.kernel, 1),
        s: pair(fn, `${name}.stride`, layer.stride ?? 1, 1),
        p: pair(fn, `${name}.padding`, layer.padding ?? 0, 0),
        d: pair(fn, `${name}.dilation`, layer.dilation ?? 1, 1),
      };
    });
  }

  /**
   * The receptive field after each layer of a conv/pool stack (section 7.2): the size of the
   * input region one output cell sees, padding cells included. Each layer widens the field
   * by (span - 1) steps of the incoming jump, span = d(k - 1) + 1, and multiplies the jump
   * by its stride.
   *
   * @param {Array<{kernel: number|number[], stride?: number|number[],
   *   padding?: number|number[], dilation?: number|number[]}>} layers first layer first
   *   (a layer may also carry a name, which is ignored).
   * @returns {Array<{size: number[], jump: number[], start: number[]}>} per layer, each
   *   [h, w]: size, the field's extent in input pixels; jump, the input distance between
   *   neighbouring output cells; start, the centre of output cell (0, 0) in input
   *   coordinates (negative with padding, a half for even windows).
   * @throws {Error} a bad layer list.
   */
  function receptiveField(layers) {
    const specs = readLayers("receptiveField", layers);
    const size = [1, 1];
    const jump = [1, 1];
    const start = [0, 0];
    return specs.map(({ k, s, p, d }) => {
      for (const a of [0, 1]) {
        const span = d[a] * (k[a] - 1) + 1;
        start[a] += ((span - 1) / 2 - p[a]) * jump[a];
        size[a] += (span - 1) * jump[a];
        jump[a] *= s[a];
      }
      return { size: size.slice(), jump: jump.slice(), start: start.slice() };
    });
  }

  /**
   * The input region that output cell (row, col) of the last layer sees, as a box with
   * exclusive bottom and right (height = bottom - top, like X[top:bottom] and DOMRect).
   *
   * Without inputSize: the receptive field itself, not clipped: the box may reach into the
   * padding (negative coordinates, or past the input's far edge), and its size is always
   * receptiveField(layers)'s last size.
   * With inputSize: the tight box of the real input pixels the cell depends on (the pixels
   * whose gradient with respect to the cell is nonzero when all weights are positive).
   * Taps on padding are dropped at every layer, so this can be smaller than the unclipped
   * box clipped to the input; with dilation, or a stride larger than the kernel, some
   * pixels inside the box are skipped. It is null when the cell sees only padding.
   *
   * @param {Array<{kernel: number|number[], stride?: number|number[],
   *   padding?: number|number[], dilation?: number|number[]}>} layers first layer first.
   * @param {number} row the cell's row in the last layer's output.
   * @param {number} col the cell's column.
   * @param {number|number[]} [inputSize] the input's n or [H, W]: clip to real pixels.
   * @returns {{top: number, left: number, bottom: number, right: number}|null}
   * @throws {Error} a bad layer list, a negative or non-integer row/col, and with inputSize
   *   a cell outside the output grid or a layer whose window does not fit its input.
   */
  function inputRegion(layers, row, col, inputSize) {
    const fn = "inputRegion";
    const specs = readLayers(fn, layers);
    checkWhole(fn, "row", row, 0);
    checkWhole(fn, "col", col, 0);
    const cell = [row, col];
    if (inputSize === undefined) {
      // Walk back: output cells lo..hi of a layer read its inputs lo*s - p .. hi*s - p + span - 1.
      const lo = cell.slice();
      const hi = cell.slice();
      for (let l = specs.length - 1; l >= 0; l--) {
        const { k, s, p, d } = specs[l];
        for (const a of [0, 1]) {
          lo[a] = lo[a] * s[a] - p[a];
          hi[a] = hi[a] * s[a] - p[a] + d[a] * (k[a] - 1);
        }
      }
      return { top: lo[0], left: lo[1], bottom: hi[0] + 1, right: hi[1] + 1 };
    }

    // The grid size entering every layer, then leaving the last one.
    const sizes = [pair(fn, "inputSize", inputSize, 1)];
    specs.forEach(({ k, s, p, d }, l) => {
      const [n0, n1] = sizes[l];
      const where = `layers[${l}] (input ${n0}×${n1})`;
      sizes.push([
        windowCount(`${fn}: ${where}`, "kernel", "height", n0, k[0], p[0], s[0], d[0]),
        windowCount(`${fn}: ${where}`, "kernel", "width", n1, k[1], p[1], s[1], d[1]),
      ]);
    });
    const out = sizes[specs.length];
    if (row >= out[0] || col >= out[1]) {
      fail(fn, `cell (${row}, ${col}) is outside the last layer's ${out[0]}×${out[1]} output; ` +
        `row must be < ${out[0]} and col < ${out[1]}`);
    }
    const box = [];
    for (const a of [0, 1]) {
      // seen[t] marks the cells of the current layer's output that reach the chosen cell.
      let seen = new Uint8Array(out[a]);
      seen[cell[a]] = 1;
      for (let l = specs.length - 1; l >= 0; l--) {
        const { k, s, p, d } = specs[l];
        const n = sizes[l][a];
        const before = new Uint8Array(n);
        for (let u = 0; u < seen.length; u++) {
          if (!seen[u]) continue;
          for (let m = 0; m < k[a]; m++) {
            const t = u * s[a] - p[a] + m * d[a];
            if (t >= 0 && t < n) before[t] = 1; // taps on padding reach no pixel
          }
        }
        seen = before;
      }
      const first = seen.indexOf(1);
      if (first < 0) return null;
      box.push(first, seen.lastIndexOf(1) + 1);
    }
    return { top: box[0], left: box[2], bottom: box[1], right: box[3] };
  }

  const CNNOps = Object.freeze({
    tensor,
    outputSize,
    corr2d,
    pad2d,
    conv2d,
    pool2d,
    corr2dMultiIn,
    corr2dMultiInOut,
    receptiveField,
    inputRegion,
  });
  globalThis.CNNOps = CNNOps;
  if (typeof module !== "undefined" && module.exports) module.exports = CNNOps;
})();
