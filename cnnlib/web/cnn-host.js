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
      let text = value.toFixed(2);
      const twice = Math.abs(value) * 200; // an odd whole number exactly when value is a tie
      if (Number.isInteger(twice) && twice % 2 === 1 && twice / 200 === Math.abs(value)) {
        const down = Math.floor(twice / 2); // hundredths below the tie
        const even = down % 2 === 0 ? down : down + 1;
        text = `${value < 0 ? "-" : ""}${(even / 100).toFixed(2)}`;
      }
      text = text.replace(/0+$/, "").replace(/\.$/, "");
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

    const kit = Object.freeze({ COLORS, CELL, SLIDER_KEYS, keepSliderKeys, show, whole, atLeast,
      sizeFormula, tint, range, element, formatValue, pyFixed, pyGeneral, grouped, fromBase64 });

    return Object.freeze({ define, get, names, widget, mount, LocalModel, kit });
  })();
