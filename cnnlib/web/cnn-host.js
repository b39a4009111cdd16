/**
 * cnn-host.js: runs one explorer front-end in JupyterLab (under anywidget) and on the website.
 *
 * An explorer front-end is a classic script that registers itself:
 *
 *   CNNExplorers.define("PaddingStrideExplorer", { render, compute });
 *
 * - render({model, el}) draws the explorer into el and keeps it up to date. `model` has
 *   anywidget's model API: get(name), set(name, value), save_changes(), on("change:name",
 *   cb), off(name, cb). It may return a cleanup function (anywidget calls it when the view
 *   is removed; so does the handle mount() returns).
 * - compute(state) takes every value of the model (a plain object) and returns the values it
 *   derives from the controls (an object of names to new values; it may correct a control,
 *   such as an output row past the new output). It throws an Error whose message the reader
 *   can act on when the controls do not fit together. It may instead return a Promise of
 *   those values (a trained network runs asynchronously): the page then applies the
 *   controls at once and the values when they arrive, the latest request's only. Only the
 *   website calls it: in JupyterLab, Python computes the same values with PyTorch and
 *   cnnlib and syncs them.
 *
 * Two ways to run it:
 * - CNNExplorers.widget(name) is the anywidget module object ({render}). The Python side
 *   (cnnlib/widgets/live.py) sends this file + the explorer's file +
 *   `export default CNNExplorers.widget("Name")` as the widget's _esm.
 * - CNNExplorers.mount(el, name, initialState) on a website page: a local model with the same
 *   API, whose save_changes() runs compute on the new state and then fires the change
 *   events, so render cannot tell the page from JupyterLab.
 *
 * The value `error` is shared by both sides: "" when the controls fit together, otherwise the
 * message to show in the status line (Python's GuardedExplorer does the same).
 *
 * A classic script: pages opened from file:// cannot load ES modules. The top-level `var`
 * makes CNNExplorers a global in a classic script and a module-local name in anywidget's
 * ES module, so two widgets in one notebook never share (or overwrite) each other's registry.
 */
var CNNExplorers =
  (typeof CNNExplorers !== "undefined" && CNNExplorers) ||
  (function () {
    "use strict";

    /** name -> {render, compute, initialize} */
    const definitions = new Map();

    /**
     * Register an explorer front-end (a later definition of the same name replaces it, as a
     * re-run notebook cell or a reloaded script expects).
     *
     * @param {string} name the explorer's name, as the Python class states it.
     * @param {{render: Function, compute?: Function, initialize?: Function}} definition
     * @returns {object} the definition.
     * @throws {Error} when name is not a string or render is not a function.
     */
    function define(name, definition) {
      if (typeof name !== "string" || name === "") {
        throw new Error(`CNNExplorers.define: the name must be a non-empty string, got ${name}`);
      }
      if (!definition || typeof definition.render !== "function") {
        throw new Error(`CNNExplorers.define("${name}"): give an object with a render function`);
      }
      for (const key of ["compute", "initialize"]) {
        if (definition[key] !== undefined && typeof definition[key] !== "function") {
          throw new Error(`CNNExplorers.define("${name}"): ${key} must be a function`);
        }
      }
      definitions.set(name, definition);
      return definition;
    }

    /**
     * The definition registered under name.
     *
     * @param {string} name
     * @returns {object}
     * @throws {Error} naming the explorers that are defined, when name is not one of them.
     */
    function get(name) {
      const definition = definitions.get(name);
      if (!definition) {
        const known = [...definitions.keys()].join(", ") || "none";
        throw new Error(
          `CNNExplorers: no explorer named "${name}" (defined: ${known}); ` +
            "load its script (cnnlib/web/explorers/) after cnn-host.js",
        );
      }
      return definition;
    }

    /** Every defined explorer's name. @returns {string[]} */
    function names() {
      return [...definitions.keys()];
    }

    /**
     * The anywidget front-end module of an explorer: render uses the real (synced) model and
     * never calls compute, because in JupyterLab Python computes.
     *
     * @param {string} name
     * @returns {{render: Function, initialize?: Function}}
     */
    function widget(name) {
      const definition = get(name);
      const module = { render: (props) => definition.render(props) };
      if (definition.initialize) module.initialize = (props) => definition.initialize(props);
      return module;
    }

    /** The words of an error, whatever was thrown. */
    function messageOf(err) {
      return err && err.message ? err.message : String(err);
    }

    /** Whether two model values are equal (values are JSON: numbers, strings, arrays, objects). */
    function same(a, b) {
      return a === b || JSON.stringify(a) === JSON.stringify(b);
    }

    /**
     * A model with anywidget's API that lives in the page: set() stages a value,
     * save_changes() runs compute on the whole state and then fires "change:<name>" for every
     * value that changed (in the order they were set, the derived ones after), then "change".
     * Like Backbone, a change callback receives (model, value).
     */
    class LocalModel {
      /**
       * @param {object} state every value of the model (controls and derived values).
       * @param {Function} [compute] the explorer's compute(state).
       */
      constructor(state, compute) {
        this._state = { error: "", ...state };
        this._staged = new Map();
        this._compute = compute;
        this._listeners = new Map();
        this._ticket = 0; // the number of the latest asynchronous compute
        this._pending = false;
        this._settled = Promise.resolve();
        this.widget_manager = null; // nothing to look up: the page has one model per explorer
      }

      /** @param {string} name @returns {*} the value (staged values count). */
      get(name) {
        return this._staged.has(name) ? this._staged.get(name) : this._state[name];
      }

      /** Stage a value; save_changes() applies it. @param {string} name @param {*} value */
      set(name, value) {
        this._staged.set(name, value);
      }

      /**
       * Apply the staged values, compute what follows from them, then fire the events.
       *
       * A compute that returns a Promise (a trained network runs asynchronously) gets the
       * controls applied at once and its derived values when the Promise settles; only the
       * latest request's answer is applied, so a slow answer never overwrites a newer one.
       * settled() resolves once the latest answer is in; a "busy" event (true, then false)
       * brackets the wait, and mount() shows it as aria-busy on the explorer.
       */
      save_changes() {
        const next = { ...this._state };
        for (const [name, value] of this._staged) next[name] = value;
        this._staged.clear();
        if (!this._compute) return this._commit(next);
        let result;
        try {
          result = this._compute({ ...next });
        } catch (err) {
          // A bad setting: say why in the status line; the controls stay as the reader set
          // them, so the next change can fix it.
          return this._commit({ ...next, error: messageOf(err) });
        }
        if (!result || typeof result.then !== "function") {
          return this._commit({ ...next, ...result, error: "" });
        }
        const ticket = ++this._ticket;
        this._commit(next);
        this._busy(true);
        const settle = (values) => {
          if (ticket !== this._ticket) return; // a newer request is under way
          this._commit(values);
          this._busy(false);
        };
        this._settled = result.then(
          (values) => settle({ ...this._state, ...values, error: "" }),
          (err) => settle({ ...this._state, error: messageOf(err) }),
        );
      }

      /** Whether an asynchronous compute is under way. @returns {boolean} */
      busy() {
        return this._pending;
      }

      /** Record and announce ("busy" event) that a compute started or ended. */
      _busy(pending) {
        if (this._pending === pending) return;
        this._pending = pending;
        this._emit("busy", pending);
      }

      /** @returns {Promise} resolves when the latest compute has been applied. */
      settled() {
        return this._settled;
      }

      /** Make next the state and fire "change:<name>" for each value that changed. */
      _commit(next) {
        const before = this._state;
        this._state = next;
        const changed = Object.keys(next).filter((key) => !same(before[key], next[key]));
        for (const key of changed) this._emit(`change:${key}`, next[key]);
        if (changed.length) this._emit("change", undefined);
      }

      /** @param {string} event "change:<name>" or "change". @param {Function} callback */
      on(event, callback) {
        if (!this._listeners.has(event)) this._listeners.set(event, []);
        this._listeners.get(event).push(callback);
      }

      /**
       * Remove listeners: off(event, callback) one, off(event) all of event, off() all.
       *
       * @param {string} [event]
       * @param {Function} [callback]
       */
      off(event, callback) {
        if (!event) {
          this._listeners.clear();
        } else if (!callback) {
          this._listeners.delete(event);
        } else {
          const list = (this._listeners.get(event) || []).filter((cb) => cb !== callback);
          this._listeners.set(event, list);
        }
      }

      /** Messages go to a kernel; the page has none, so there is nothing to send. */
      send() {}

      /** Every value, for tests and for saving a page's state. @returns {object} */
      state() {
        return { ...this._state };
      }

      _emit(event, value) {
        for (const callback of [...(this._listeners.get(event) || [])]) {
          callback(this, value);
        }
      }
    }

    /**
     * Show an explorer on a website page, computing in the browser.
     *
     * @param {HTMLElement} el the element to draw into (emptied first).
     * @param {string} name the explorer's name.
     * @param {object} initialState its controls' values (Python writes them when the site is
     *   built); compute fills in the rest before the first drawing.
     * @returns {{model: LocalModel, destroy: Function}} the model, and a function that
     *   removes the explorer and its listeners.
     * @throws {Error} when el is not an element or name is not defined.
     */
    function mount(el, name, initialState) {
      if (!el || typeof el.appendChild !== "function") {
        throw new Error(`CNNExplorers.mount("${name}"): el must be a DOM element, got ${el}`);
      }
      const definition = get(name);
      if (typeof definition.compute !== "function") {
        throw new Error(
          `CNNExplorers.mount("${name}"): the explorer has no compute(state), so it cannot ` +
            "run without a kernel",
        );
      }
      const model = new LocalModel(initialState || {}, definition.compute);
      // While a network computes, the explorer says so to screen readers (aria-busy) and to
      // tests, which wait for it to go before they read the page.
      model.on("busy", (_, pending) => {
        if (pending) el.setAttribute("aria-busy", "true");
        else el.removeAttribute("aria-busy");
      });
      model.save_changes(); // derive the first values before the first drawing
      el.replaceChildren();
      const cleanups = [];
      if (definition.initialize) cleanups.push(definition.initialize({ model }));
      cleanups.push(definition.render({ model, el }));
      return {
        model,
        destroy() {
          for (const cleanup of cleanups) if (typeof cleanup === "function") cleanup();
          model.off();
          el.replaceChildren();
        },
      };
    }

    // ---------------------------------------------------------------- what front-ends share
    // The helpers every explorer front-end needs, kept here once: the colours and cell size
    // of cnnlib.viz.cell_grid (so the page and the Lab picture look alike), cnnlib's
    // argument checks and formula text word for word, and small DOM and SVG helpers.

    /** The colours of cnnlib.viz.cell_grid. */
    const COLORS = Object.freeze({
      input: "#dbe9f6", padding: "#d9d9d9", window: "#fdae6b", current: "#e6550d",
      output: "#ffffff", unused: "#fb6a4a", edge: "#555555", corner: "#08306b",
      filled: "#c7e9c0", chosen: "#6a51a3",
    });
    /** One cell in SVG units; an SVG scales to its box, so any width is crisp. */
    const CELL = 10;
    /** The keys that move a range input (or a menu): a host page must not take them. */
    const SLIDER_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home",
      "End", "PageUp", "PageDown"]);

    /**
     * Keep the keys that move node's controls for them: JupyterLab's command mode takes
     * ArrowRight/ArrowUp from a focused input in an output (and cancels them). Tab and
     * every other key still reach the page.
     *
     * @param {HTMLElement} node the element holding the controls.
     */
    function keepSliderKeys(node) {
      node.addEventListener("keydown", (event) => {
        if (SLIDER_KEYS.has(event.key)) event.stopPropagation();
      });
    }

    /** Python's repr of a value, so messages match cnnlib's word for word. */
    function show(value) {
      if (typeof value === "string") return `'${value}'`;
      if (value === null || value === undefined) return "None";
      if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
      return String(value);
    }

    /** cnnlib.ops.as_pair's check for one int: the same words. */
    function whole(value, name) {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new Error(`${name} must be an int or a pair of ints (h, w), got ${show(value)}`);
      }
      return value;
    }

    /** cnnlib.ops._check_at_least for a square pair: the same words. */
    function atLeast(value, minimum, name) {
      if (value < minimum) {
        throw new Error(
          `${name} must be >= ${minimum} in both dimensions, got (${value}, ${value})`);
      }
      return value;
    }

    /** cnnlib.ops.size_formula: the output-size formula for one axis, numbers filled in. */
    function sizeFormula(n, k, p, s, d = 1) {
      const numerator = d === 1 ? `${n} + 2·${p} − ${k}` : `${n} + 2·${p} − ${d}·(${k} − 1) − 1`;
      const result = Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
      return s === 1 ? `(${numerator}) + 1 = ${result}` : `⌊(${numerator})/${s}⌋ + 1 = ${result}`;
    }

    /** cell_grid.tint: mix amount of color b into color a (both "#rrggbb"). */
    function tint(a, b, amount) {
      const channel = (hex, i) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
      const mixed = [0, 1, 2].map((i) =>
        Math.round((1 - amount) * channel(a, i) + amount * channel(b, i)),
      );
      return `#${mixed.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    }

    /**
     * One cell of a cell_grid picture as SVG text: a CELL-sized rect at row r, column c.
     * Its edge comes from the front-end's stylesheet (one rule, not ~1000 attributes).
     *
     * @param {number} r @param {number} c @param {string} fill
     * @param {string} [attrs] more attributes, as text (data-row="…" …).
     * @returns {string}
     */
    function cellRect(r, c, fill, attrs = "") {
      return `<rect x="${c * CELL}" y="${r * CELL}" width="${CELL}" height="${CELL}" ` +
        `fill="${fill}" ${attrs}/>`;
    }

    /**
     * A cell with its number written in it, as SVG text: <g attrs><rect/><text/></g>.
     *
     * @param {number} r @param {number} c @param {string} fill @param {string} text
     * @param {string} [attrs] the group's attributes, as text.
     * @param {boolean} [light] white text (class cnnx-light), for a dark fill.
     * @returns {string}
     */
    function textCell(r, c, fill, text, attrs = "", light = false) {
      const x = c * CELL, y = r * CELL;
      return `<g ${attrs}><rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" ` +
        `fill="${fill}"/><text x="${x + CELL / 2}" y="${y + CELL / 2}"` +
        `${light ? ' class="cnnx-light"' : ""}>${text}</text></g>`;
    }

    /**
     * An unfilled h×w rectangle over cells from row r, column c (a window, a region), as
     * SVG text; clicks go through it to the cells below.
     *
     * @param {number} r @param {number} c @param {number} h @param {number} w
     * @param {{cls?: string, stroke?: string}} [options] its class (default cnnx-outline,
     *   styled by the front-end) and, optionally, its stroke colour.
     * @returns {string}
     */
    function cellOutline(r, c, h, w, { cls = "cnnx-outline", stroke } = {}) {
      return `<rect x="${c * CELL}" y="${r * CELL}" width="${w * CELL}" height="${h * CELL}" ` +
        `class="${cls}" fill="none"${stroke ? ` stroke="${stroke}"` : ""} ` +
        'pointer-events="none"/>';
    }

    /**
     * Draw a cell_grid picture ({size: [h, w], words, body}: body the cells' SVG text) into
     * svg: a viewBox of h×w cells, and its words as aria-label and <title>, so a screen
     * reader says what the picture shows. (How wide the panel grows is the front-end's
     * choice: cells holding numbers need more room than bare ones.)
     *
     * @param {SVGSVGElement} svg
     * @param {{size: number[], words: string, body: string}} picture
     */
    function drawCells(svg, { size: [h, w], words, body }) {
      svg.setAttribute("viewBox", `0 0 ${w * CELL} ${h * CELL}`);
      svg.setAttribute("aria-label", words);
      svg.innerHTML = `<title>${words}</title>${body}`;
    }

    /** "a–b", or "a" when they are equal (a window's rows or columns in a caption). */
    function range(a, b) {
      return a === b ? `${a}` : `${a}–${b}`;
    }

    /** A new DOM element with attributes and, optionally, its text. */
    function element(tag, attrs = {}, text) {
      const node = document.createElement(tag);
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
      if (text !== undefined) node.textContent = text;
      return node;
    }

    /**
     * cnnlib.viz.cell_grid.format_value: at most two decimals, "-∞" (also for null, which is
     * how JSON carries -inf), never "-0". Python rounds an exact tie (0.125) to even ("0.12")
     * where toFixed rounds up ("0.13"): ties go to even here too.
     *
     * @param {number|null} value
     * @returns {string}
     */
    function formatValue(value) {
      if (value === null || value === -Infinity) return "-∞";
      if (value === Infinity) return "∞";
      // f"{value:.2f}" exactly (a near-tie such as 2.675 is below its tie: "2.67").
      const text = pyFixed(value, 2).replace(/0+$/, "").replace(/\.$/, "");
      return text === "-0" ? "0" : text;
    }

    // ---- Python's number formats, exactly: a status line reads the same in Lab and page.

    /** The exact decimal value of a finite double |x|: digits · 10^-point (BigInt digits). */
    function exactDecimal(x) {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, Math.abs(x));
      const bits = view.getBigUint64(0);
      const biased = Number(bits >> 52n);
      let mantissa = bits & ((1n << 52n) - 1n);
      let exponent = -1074; // subnormal
      if (biased !== 0) {
        mantissa |= 1n << 52n;
        exponent = biased - 1075;
      }
      if (exponent >= 0) return { digits: mantissa << BigInt(exponent), point: 0 };
      // m / 2^k = m · 5^k / 10^k
      return { digits: mantissa * 5n ** BigInt(-exponent), point: -exponent };
    }

    /** An exact decimal rounded to `keep` decimals, half to even (as Python rounds). */
    function roundTo({ digits, point }, keep) {
      if (keep >= point) return digits * 10n ** BigInt(keep - point);
      const divisor = 10n ** BigInt(point - keep);
      let q = digits / divisor;
      const twice = 2n * (digits % divisor);
      if (twice > divisor || (twice === divisor && q % 2n === 1n)) q += 1n;
      return q;
    }

    /** Python's text for what has no digits (nan, inf), or null for a finite number. */
    function special(x) {
      if (Number.isNaN(x)) return "nan";
      if (x === Infinity) return "inf";
      if (x === -Infinity) return "-inf";
      return null;
    }

    /** "1234567" -> "1,234,567". */
    function grouped(text) {
      return text.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    }

    /**
     * Python's f"{x:.{decimals}f}" (or f"{x:,.{decimals}f}" with comma): rounded half to
     * even on the exact binary value, so 0.125 is "0.12" and 2.675 is "2.67", where toFixed
     * gives "0.13"; -0.0 keeps its sign, as Python's does.
     *
     * @param {number} x @param {number} decimals @param {{comma?: boolean}} [options]
     * @returns {string}
     */
    function pyFixed(x, decimals, { comma = false } = {}) {
      const none = special(x);
      if (none !== null) return none;
      const n = roundTo(exactDecimal(x), decimals).toString().padStart(decimals + 1, "0");
      const whole = n.slice(0, n.length - decimals);
      const text = (comma ? grouped(whole) : whole) + (decimals ? `.${n.slice(-decimals)}` : "");
      return (x < 0 || Object.is(x, -0) ? "-" : "") + text;
    }

    /**
     * Python's f"{x:.{precision}g}": precision significant digits, trailing zeros dropped,
     * exponent form ("1.2e-05") below 1e-4 or from 10^precision.
     *
     * @param {number} x @param {number} precision
     * @returns {string}
     */
    function pyGeneral(x, precision) {
      const none = special(x);
      if (none !== null) return none;
      const sign = x < 0 || Object.is(x, -0) ? "-" : "";
      if (x === 0) return `${sign}0`;
      const exact = exactDecimal(x);
      let exp10 = exact.digits.toString().length - 1 - exact.point;
      if (roundTo(exact, precision - 1 - exp10).toString().length > precision) exp10 += 1;
      // Python drops trailing zeros, and the point when nothing follows it.
      const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "")
        : text);
      if (exp10 >= -4 && exp10 < precision) {
        return sign + strip(pyFixed(Math.abs(x), precision - 1 - exp10));
      }
      const n = roundTo(exact, precision - 1 - exp10).toString();
      const mantissa = strip(n.length > 1 ? `${n[0]}.${n.slice(1)}` : n);
      const e = Math.abs(exp10).toString().padStart(2, "0");
      return `${sign}${mantissa}e${exp10 < 0 ? "-" : "+"}${e}`;
    }

    const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const SEXTETS = new Int16Array(128).fill(-1);
    for (let i = 0; i < BASE64.length; i++) SEXTETS[BASE64.charCodeAt(i)] = i;

    /**
     * The bytes of base64 text, as Python's base64.b64encode writes data for a page (written
     * here, not atob: Node's vm, where the tests run front-ends, has none).
     *
     * @param {string} text
     * @returns {Uint8Array}
     * @throws {Error} naming the first character that is not base64.
     */
    function fromBase64(text) {
      const clean = text.replace(/=+$/, "");
      const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
      let value = 0;
      let bits = 0;
      let k = 0;
      for (let i = 0; i < clean.length; i++) {
        const code = clean.charCodeAt(i);
        const sextet = code < 128 ? SEXTETS[code] : -1;
        if (sextet < 0) {
          throw new Error(`the page's data is damaged: ${show(clean[i])} at ${i} is not base64`);
        }
        value = ((value << 6) | sextet) & 0xffff;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out[k++] = (value >> bits) & 0xff;
        }
      }
      return out;
    }

    /**
     * Float32 values of an array's raw bytes: "uint8" as float32(k / 255), bit for bit what
     * PyTorch's image.float().div_(255) makes; "float32" little-endian, as numpy writes it.
     *
     * @param {Uint8Array} bytes
     * @param {string} dtype "uint8" or "float32".
     * @returns {Float32Array}
     * @throws {Error} for another dtype, or float32 bytes that are not whole values.
     */
    function floatsOf(bytes, dtype) {
      if (dtype === "uint8") return Float32Array.from(bytes, (k) => k / 255);
      if (dtype !== "float32") {
        throw new Error(`the page's data is damaged: dtype ${show(dtype)} is neither ` +
          "'uint8' nor 'float32'");
      }
      if (bytes.length % 4) {
        throw new Error(`the page's data is damaged: ${bytes.length} bytes are not whole ` +
          "float32 values");
      }
      const copy = bytes.slice(); // its own buffer, aligned for a Float32Array view
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    }

    /**
     * An array Python sent as {shape, dtype, data: base64} (cnnlib.widgets.nin_maps.encode),
     * decoded; one a compute made already (its data a typed array) is returned as it is.
     *
     * @param {object} value
     * @returns {{shape: number[], data: Float32Array}|null} null when value is no array.
     * @throws {Error} for a gzip-compressed array (use arrayOfAsync) or damaged data.
     */
    function arrayOf(value) {
      if (!value || !value.shape) return null;
      if (ArrayBuffer.isView(value.data)) return value; // made by compute already
      if (value.gzip) throw new Error("a gzip-compressed array needs arrayOfAsync");
      return { shape: value.shape, data: floatsOf(fromBase64(value.data), value.dtype) };
    }

    /**
     * arrayOf for an array that may be gzip-compressed ({..., gzip: true}), un-gzipped by
     * the browser's DecompressionStream.
     *
     * @param {object} value
     * @returns {Promise<{shape: number[], data: Float32Array}|null>}
     */
    async function arrayOfAsync(value) {
      if (!value || !value.gzip) return arrayOf(value);
      const stream = new Blob([fromBase64(value.data)]).stream()
        .pipeThrough(new DecompressionStream("gzip"));
      const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
      return { shape: value.shape, data: floatsOf(bytes, value.dtype) };
    }

    let madeArrays = 0;
    /**
     * An array a compute hands the model: {shape, data}. Its JSON is a short name of its
     * own, because the page's model compares values by their JSON (same()): a typed array of
     * 16,000 numbers would be written out twice on every change.
     *
     * @param {number[]} shape @param {ArrayLike<number>} data
     * @returns {{shape: number[], data: ArrayLike<number>, toJSON: Function}}
     */
    function madeArray(shape, data) {
      const name = `array ${++madeArrays}`;
      return { shape, data, toJSON: () => name };
    }

    // ---- The frame of a front-end: its style, its controls, its status line, its redraws.

    /**
     * The CSS rules every front-end starts with, scoped to its root class: the root's type,
     * a labelled control in a row, the error box, the status line (with its error colour) and
     * [hidden]. A front-end appends its own rules after these, so a rule of its own for the
     * same selector (a wider max-width, a taller status line) wins.
     *
     * @param {string} rootClass the class of the explorer's root element, without the dot.
     * @returns {string} CSS text, one rule a line.
     * @throws {Error} when rootClass is not a CSS class name.
     */
    function baseStyle(rootClass) {
      if (typeof rootClass !== "string" || !/^-?[A-Za-z_][\w-]*$/.test(rootClass)) {
        throw new Error(`baseStyle: give the root's class name without the dot, got ${
          show(rootClass)}`);
      }
      const r = `.${rootClass}`;
      return `${r}{font-size:max(12px,1em);line-height:1.35;color:#222;max-width:60rem}
${r} .cnnx-control{display:flex;align-items:center;gap:.5rem}
${r} .cnnx-message{padding:1rem;border:1px solid #b00020;color:#b00020;border-radius:4px}
${r} .cnnx-status{margin-top:.5rem;min-height:1.35em;overflow-wrap:anywhere}
${r} .cnnx-status .cnnx-error{color:#b00020}
${r} [hidden]{display:none !important}
`;
    }

    /**
     * The controls of a front-end: a labelled <fieldset class="cnnx-controls"> whose range
     * inputs and menus keep their keys in JupyterLab (keepSliderKeys), and builders that add
     * one native control with its <label> (and, for a slider, the value beside it).
     *
     * @param {object} model the explorer's model (anywidget's or the page's).
     * @param {{id: string, label?: string, save?: Function}} options id: the prefix of the
     *   controls' ids (unique on the page); label: the fieldset's aria-label (leave it out
     *   when the fieldset gets a <legend>); save: what a control calls after model.set
     *   (default model.save_changes()).
     * @returns {{fieldset: HTMLElement, box: Function, slider: Function, menu: Function}}
     *   box(name, label, control, parent) puts control (given id `${id}-${name}` and name) in
     *   a labelled div.cnnx-control, appended to parent (default the fieldset), and returns
     *   the div; slider(spec, parent) adds a range input for {name, label, min, max} that
     *   sets name to its Number and returns {input, value, box} (value: the <output> beside
     *   it, aria-hidden because the input says its value itself); menu(name, label, options,
     *   read, parent) adds a <select> of options ([value, text] pairs) that sets name to
     *   read(select.value) (default String) and returns {input, value: null, box}.
     */
    function controlsFor(model, { id, label, save } = {}) {
      const commit = save || (() => model.save_changes());
      const fieldset = element("fieldset", { class: "cnnx-controls" });
      if (label) fieldset.setAttribute("aria-label", label);
      keepSliderKeys(fieldset); // JupyterLab's command mode would take the arrow keys
      function box(name, text, control, parent = fieldset) {
        control.id = `${id}-${name}`;
        control.name = name;
        const holder = element("div", { class: "cnnx-control" });
        holder.append(element("label", { for: control.id }, text), control);
        parent.append(holder);
        return holder;
      }
      function slider(spec, parent = fieldset) {
        const input = element("input", { type: "range", min: spec.min, max: spec.max, step: 1 });
        const holder = box(spec.name, spec.label, input, parent);
        const value = element("output", { for: input.id, "aria-hidden": "true" });
        holder.append(value);
        input.addEventListener("input", () => {
          model.set(spec.name, Number(input.value));
          commit();
        });
        return { input, value, box: holder };
      }
      function menu(name, text, options, read = String, parent = fieldset) {
        const select = element("select");
        for (const [value, words] of options) {
          select.append(element("option", { value: String(value) }, words));
        }
        const holder = box(name, text, select, parent);
        select.addEventListener("change", () => {
          model.set(name, read(select.value));
          commit();
        });
        return { input: select, value: null, box: holder };
      }
      return { fieldset, box, slider, menu };
    }

    /**
     * The status line: a polite live region, so a screen reader announces each new result
     * (and error) without taking the reader's focus.
     *
     * @param {string} [id] its id (a control may name it in aria-describedby).
     * @returns {HTMLElement} a div.cnnx-status with role="status" and aria-live="polite".
     */
    function statusLine(id) {
      const attrs = { class: "cnnx-status", role: "status", "aria-live": "polite" };
      if (id) attrs.id = id;
      return element("div", attrs);
    }

    /**
     * One call of fn per batch of model changes: a model fires one event per changed value,
     * and several change at once, so the returned function runs fn once, a microtask later,
     * however often it was called meanwhile.
     *
     * @param {Function} fn the redraw.
     * @returns {Function} the function to pass to model.on("change:...").
     */
    function batched(fn) {
      let queued = false;
      return () => {
        if (queued) return;
        queued = true;
        queueMicrotask(() => {
          queued = false;
          fn();
        });
      };
    }

    /**
     * Call start once, when node comes near the screen, so a page whose reader never scrolls
     * to a network explorer downloads no network. Without an IntersectionObserver (an old
     * browser) start runs a microtask later.
     *
     * @param {Element} node the explorer's root.
     * @param {Function} start what loading begins with (called at most once).
     * @param {string} [rootMargin] how near counts, as IntersectionObserver's rootMargin.
     * @returns {Function} stop: forgets node (start is then never called by this watch).
     */
    function whenInView(node, start, rootMargin = "200px") {
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        start();
      };
      if (typeof IntersectionObserver !== "function") {
        queueMicrotask(once);
        return () => { done = true; };
      }
      const observer = new IntersectionObserver((entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        observer.disconnect();
        once();
      }, { rootMargin });
      observer.observe(node);
      return () => {
        done = true;
        observer.disconnect();
      };
    }

    /**
     * For a network explorer whose compute waits for a `visible` model value (and returns
     * nothing until then): on a page, sets visible to true once root comes near the screen
     * or a control in it gets the focus, so a reader who never scrolls there downloads
     * nothing. In JupyterLab (a model without settled(): Python computes) it does nothing.
     *
     * @param {object} model the explorer's model.
     * @param {Element} root the explorer's root.
     * @returns {Function} cleanup: stops watching.
     */
    function visibleWhenInView(model, root) {
      if (typeof model.settled !== "function" || model.get("visible")) return () => {};
      let stop = () => {};
      function start() {
        if (model.get("visible")) return;
        stop();
        model.set("visible", true);
        model.save_changes();
      }
      stop = whenInView(root, start);
      root.addEventListener("focusin", start);
      return () => {
        stop();
        root.removeEventListener("focusin", start);
      };
    }

    /**
     * A gate for a network explorer whose compute is a module-level function: compute waits
     * for whenShown() before it loads the network; render() calls watch(root), which closes
     * the gate until root is near the screen. compute runs one microtask before render on a
     * page (CNNExplorers.mount computes, then renders), so whenShown looks at the gate a
     * microtask late. Without a render (Node) or an IntersectionObserver there is no gate.
     *
     * @param {string} [rootMargin] how near counts (whenInView's rootMargin).
     * @returns {{whenShown: Function, watch: Function}} whenShown() -> Promise that resolves
     *   once the explorer is near the screen; watch(node) -> cleanup, which opens the gate.
     */
    function viewGate(rootMargin = "100% 0px") {
      let gate = null;
      return {
        whenShown: () => Promise.resolve().then(() => gate),
        watch(node) {
          if (typeof IntersectionObserver !== "function") return () => {};
          let open;
          gate = new Promise((resolve) => { open = resolve; });
          const stop = whenInView(node, open, rootMargin);
          return () => { stop(); open(); };
        },
      };
    }

    // ---- Maps drawn as matplotlib draws them (cnnlib.viz): bitmaps, not thousands of rects.

    /**
     * cnnlib.viz.feature_maps.tile: n maps (h, w), row-major, in one grid ncols wide with pad
     * pixels between them, NaN in the gaps.
     *
     * @param {ArrayLike<number>} values n·h·w values.
     * @param {number[]} shape [n, h, w].
     * @param {number} ncols maps per row (at most n are used).
     * @param {number} pad pixels between maps.
     * @returns {{rows: number, cols: number, data: Float64Array}}
     */
    function tile(values, [n, h, w], ncols, pad) {
      ncols = Math.min(ncols, n);
      const gridRows = Math.ceil(n / ncols);
      const rows = gridRows * (h + pad) - pad, cols = ncols * (w + pad) - pad;
      const data = new Float64Array(rows * cols).fill(NaN);
      for (let k = 0; k < n; k++) {
        const r0 = Math.floor(k / ncols) * (h + pad), c0 = (k % ncols) * (w + pad);
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) data[(r0 + i) * cols + c0 + j] = values[(k * h + i) * w + j];
        }
      }
      return { rows, cols, data };
    }

    /**
     * cnnlib.viz.feature_maps._map_style: signed values on red/blue about 0 (symmetric
     * limits, cnnlib.viz.images.symmetric_limits), non-negative ones on viridis from their
     * min to their max; NaN (a gap) is passed over.
     *
     * @param {Iterable<number>} data
     * @param {{symmetric?: boolean}} [options] symmetric: red/blue even when no value is
     *   negative (first-layer kernels).
     * @returns {{palette: string, low: number, high: number}} palette "viridis" or "RdBu_r".
     */
    function mapStyle(data, { symmetric = false } = {}) {
      let low = Infinity, high = -Infinity, most = 0;
      for (const v of data) {
        if (!Number.isFinite(v)) continue;
        low = Math.min(low, v);
        high = Math.max(high, v);
        most = Math.max(most, Math.abs(v));
      }
      if (low === Infinity) return { palette: "viridis", low: 0, high: 1 };
      if (symmetric || low < 0) {
        const m = most > 0 ? most : 1;
        return { palette: "RdBu_r", low: -m, high: m };
      }
      return { palette: "viridis", low, high: Math.max(high, low + 1e-12) };
    }

    const palettes = new Map(); // a palette's text -> its colours, parsed once
    /**
     * A matplotlib colour map as Python sends it: 256 colours written "rrggbb" one after
     * another.
     *
     * @param {string} text 1536 hex digits.
     * @returns {number[][]} 256 [r, g, b].
     * @throws {Error} when text is not 256 colours.
     */
    function palette256(text) {
      if (!palettes.has(text)) {
        if (typeof text !== "string" || !/^[0-9a-fA-F]{1536}$/.test(text)) {
          throw new Error("the page's data is damaged: a colour map is not 256 rrggbb colours");
        }
        const colours = [];
        for (let i = 0; i < 256; i++) {
          const hex = text.slice(6 * i, 6 * i + 6);
          colours.push([0, 2, 4].map((a) => parseInt(hex.slice(a, a + 2), 16)));
        }
        palettes.set(text, colours);
      }
      return palettes.get(text);
    }

    /**
     * matplotlib's Colormap(Normalize(low, high)(v)) for a 256-colour map.
     *
     * @param {number[][]} colours palette256's colours.
     * @param {number} low @param {number} high the limits.
     * @returns {Function} v -> [r, g, b], or null for NaN (a gap, drawn transparent).
     */
    function colourer(colours, low, high) {
      return (v) => {
        if (Number.isNaN(v)) return null;
        let x = ((v - low) / (high - low)) * 256;
        if (x === 256) x = 255;
        return colours[Math.min(255, Math.max(0, Math.floor(x)))];
      };
    }

    /**
     * matplotlib's lookup of v in [0, 1] in a list of N colours: colours[floor(v·N)], the
     * ends clamped.
     *
     * @param {Array} colours @param {number} v
     * @returns {*} one of colours.
     */
    function lookup(colours, v) {
      return colours[Math.min(colours.length - 1, Math.max(0, Math.floor(v * colours.length)))];
    }

    /**
     * A colour map given by evenly spaced stops ("#rrggbb"), linearly mixed, at t in [0, 1]
     * (clamped; NaN counts as 0), each channel rounded.
     *
     * @param {string[]} stops at least two colours.
     * @param {number} t
     * @returns {number[]} [r, g, b].
     */
    function mixStops(stops, t) {
      const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
      const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
      const channel = (hex, c) => parseInt(hex.slice(1 + 2 * c, 3 + 2 * c), 16);
      return [0, 1, 2].map((c) =>
        Math.round((1 - f) * channel(stops[i], c) + f * channel(stops[i + 1], c)));
    }

    /** "#rrggbb" as [r, g, b]. @param {string} hex @returns {number[]} */
    function rgbOf(hex) {
      return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    }

    /**
     * A PNG data: URL of a rows×cols picture, one pixel per value: drawn once on a canvas,
     * shown as one <image> or <img> (a map of thousands of values as one element).
     *
     * @param {number} rows @param {number} cols
     * @param {Function} colourOf p (row-major pixel index) -> [r, g, b], or null (transparent).
     * @returns {string}
     */
    function pictureURL(rows, cols, colourOf) {
      const canvas = document.createElement("canvas");
      canvas.width = cols;
      canvas.height = rows;
      const context = canvas.getContext("2d");
      const image = context.createImageData(cols, rows);
      for (let p = 0; p < rows * cols; p++) {
        const rgb = colourOf(p);
        if (rgb) image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * p);
      }
      context.putImageData(image, 0, 0);
      return canvas.toDataURL("image/png");
    }

    // ---- An uploaded picture made as Python makes it (Pillow's arithmetic, step for step).

    /** numpy.median of a list of numbers (the mean of the two middle values for an even count). */
    function median(values) {
      const sorted = Float64Array.from(values).sort();
      const n = sorted.length, half = Math.floor(n / 2);
      return n % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }

    /**
     * Python's round(x) of a float: the nearest whole number, an exact half to the even one.
     *
     * @param {number} x @returns {number}
     */
    function roundHalfEven(x) {
      const down = Math.floor(x);
      const rest = x - down;
      if (rest !== 0.5) return Math.round(x);
      return down % 2 === 0 ? down : down + 1;
    }

    /** Pillow's Lanczos filter (Resample.c): a sinc windowed by a wider sinc, support 3. */
    function lanczos(x) {
      const sinc = (t) => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
      return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    }

    const PRECISION_BITS = 32 - 8 - 2; // Resample.c's fixed point for 8-bit images

    /** Resample.c's precompute_coeffs and normalize_coeffs_8bpc for one axis. */
    function lanczosTaps(inSize, outSize) {
      const scale = inSize / outSize;
      const filterScale = Math.max(scale, 1);
      const support = 3 * filterScale;
      const taps = [];
      for (let xx = 0; xx < outSize; xx++) {
        const center = (xx + 0.5) * scale;
        const xmin = Math.max(0, Math.trunc(center - support + 0.5));
        const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
        const weights = [];
        let total = 0;
        for (let x = 0; x < xmax; x++) {
          const w = lanczos((x + xmin - center + 0.5) / filterScale);
          weights.push(w);
          total += w;
        }
        const fixed = weights.map((w) => {
          const k = total !== 0 ? w / total : w;
          return Math.trunc((k < 0 ? -0.5 : 0.5) + k * (1 << PRECISION_BITS));
        });
        taps.push({ xmin, fixed });
      }
      return taps;
    }

    /** Resample.c's clip8: a fixed-point sum back to a byte. */
    function clip8(sum) {
      if (sum >= 2 ** (PRECISION_BITS + 8)) return 255;
      if (sum <= 0) return 0;
      return Math.floor(sum / 2 ** PRECISION_BITS);
    }

    /**
     * Pillow's Image.resize((size, size), LANCZOS) of an 8-bit grayscale picture: a
     * horizontal pass over the rows the vertical pass reads, then the vertical pass, each
     * rounded to bytes, in Pillow's fixed-point arithmetic.
     */
    function resizeLanczos(pixels, width, height, size) {
      const horizontal = lanczosTaps(width, size), vertical = lanczosTaps(height, size);
      const first = vertical[0].xmin;
      const rows = vertical[size - 1].xmin + vertical[size - 1].fixed.length - first;
      const half = 1 << (PRECISION_BITS - 1);
      const temp = new Uint8Array(rows * size);
      for (let y = 0; y < rows; y++) {
        for (let xx = 0; xx < size; xx++) {
          const { xmin, fixed } = horizontal[xx];
          let sum = half;
          for (let x = 0; x < fixed.length; x++) {
            sum += pixels[(y + first) * width + x + xmin] * fixed[x];
          }
          temp[y * size + xx] = clip8(sum);
        }
      }
      const out = new Uint8Array(size * size);
      for (let yy = 0; yy < size; yy++) {
        const { xmin, fixed } = vertical[yy];
        for (let xx = 0; xx < size; xx++) {
          let sum = half;
          for (let y = 0; y < fixed.length; y++) {
            sum += temp[(y + xmin - first) * size + xx] * fixed[y];
          }
          out[yy * size + xx] = clip8(sum);
        }
      }
      return out;
    }

    /**
     * cnnlib.widgets.feature_maps.image_from_bytes after decoding: a picture's RGBA pixels
     * (as the browser decoded them, not premultiplied) to a Fashion-MNIST-like grayscale
     * image. Transparent pixels become white (Pillow's alpha_composite), colours grey
     * (Pillow's L = 0.299 R + 0.587 G + 0.114 B in fixed point), the picture is padded to a
     * square with its background grey (the median of its border), resized with Pillow's
     * Lanczos filter and inverted when its background is light.
     *
     * @param {Uint8ClampedArray|number[]} rgba width × height × 4 bytes, row-major.
     * @param {number} width
     * @param {number} height
     * @param {number} size the side of the result.
     * @param {string} [kind="picture"] the file's format ("PNG", "JPEG"), for the first step.
     * @returns {{pixels: Float32Array, steps: string[]}} size × size float32 values in
     *   [0, 1], row-major, and one short sentence per step taken (Python's words).
     */
    function grayscaleUpload(rgba, width, height, size, kind = "picture") {
      const steps = [`read a ${kind} of ${width}×${height} pixels`];
      let gray = new Uint8Array(width * height);
      let transparent = false, colour = false;
      for (let t = 0; t < width * height; t++) {
        let [r, g, b] = [rgba[4 * t], rgba[4 * t + 1], rgba[4 * t + 2]];
        const a = rgba[4 * t + 3];
        if (a < 255) {
          transparent = true;
          // AlphaComposite.c over opaque white, 7 bits of extra precision.
          const blend = (v) => {
            const sum = v * a * 128 + 255 * (255 - a) * 128 + (0x80 << 7);
            return (((sum >> 8) + sum) >> 8) >> 7;
          };
          [r, g, b] = a === 0 ? [255, 255, 255] : [blend(r), blend(g), blend(b)];
        }
        if (r !== g || g !== b) colour = true;
        gray[t] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; // Convert.c's L24
      }
      if (transparent) steps.push("filled transparent pixels with white");
      if (colour) steps.push("converted to grayscale");
      const border = [];
      for (let x = 0; x < width; x++) border.push(gray[x] / 255);
      for (let x = 0; x < width; x++) border.push(gray[(height - 1) * width + x] / 255);
      for (let y = 0; y < height; y++) border.push(gray[y * width] / 255);
      for (let y = 0; y < height; y++) border.push(gray[y * width + width - 1] / 255);
      const background = median(border);
      let side = width;
      if (width !== height) {
        side = Math.max(width, height);
        const square = new Uint8Array(side * side).fill(roundHalfEven(background * 255));
        const left = Math.floor((side - width) / 2), top = Math.floor((side - height) / 2);
        for (let y = 0; y < height; y++) {
          square.set(gray.subarray(y * width, (y + 1) * width), (y + top) * side + left);
        }
        gray = square;
        steps.push(`padded to ${side}×${side} with its background grey`);
      }
      if (side !== size) {
        gray = resizeLanczos(gray, side, side, size);
        steps.push(`resized to ${size}×${size}`);
      }
      let pixels = Float32Array.from(gray, (v) => v / 255);
      if (background > 0.5) {
        pixels = pixels.map((v) => 1 - v); // float32, as torch's 1 - x of a float32 tensor
        steps.push(`inverted, because its background is light (border median ` +
          `${pyFixed(background, 2)}) while Fashion-MNIST's is black`);
      }
      return { pixels, steps };
    }

    const kit = Object.freeze({ COLORS, CELL, SLIDER_KEYS, keepSliderKeys, show, whole, atLeast,
      sizeFormula, tint, range, cellRect, textCell, cellOutline, drawCells, element, formatValue,
      pyFixed, pyGeneral, grouped, fromBase64, baseStyle, controlsFor, statusLine, batched,
      whenInView, visibleWhenInView, viewGate, tile, mapStyle, palette256, colourer, lookup,
      mixStops, rgbOf, pictureURL, grayscaleUpload, roundHalfEven, floatsOf, arrayOf, arrayOfAsync,
      madeArray });

    return Object.freeze({ define, get, names, widget, mount, LocalModel, kit });
  })();
