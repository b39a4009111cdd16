/*
 * CNNNetworks: the companion's trained networks, run in the reader's browser.
 *
 * A classic script (pages opened from file:// cannot load modules, fetch files or start
 * workers), so everything arrives as <script> tags, added only when a page first asks for
 * a network: a page that never calls load() downloads nothing more than this file.
 *
 *   CNNNetworks.load("lenet").then(function (net) {
 *     return net.run(pixels);   // Float32Array of side*side values in [0, 1]
 *   }).then(function (out) {
 *     out.logits, out.probabilities, out.maps["net.0"].shape, out.maps["net.0"].data
 *   }).catch(function (err) { show(err.message); });
 *
 * Files (built by `make web-deps` into the site's _static/, beside this one):
 *   onnxruntime/ort.iife.js      onnxruntime-web, rebundled as a classic script (global `ort`)
 *   onnxruntime/ort-wasm.packed.js  its wasm, gzip as 7-bit text (CNNNetworks.packed["ort-wasm"])
 *   models/<name>.onnx.js        each network (scripts/export_onnx.py; sets CNNNetworks.models)
 * Binaries travel as gzip written seven bits to a character (scripts/web_pack.py says why
 * and how); unpack() turns such text back into the bytes.
 */
(function (root) {
  "use strict";

  var networks = root.CNNNetworks = root.CNNNetworks || {};
  networks.models = networks.models || {};
  if (networks.load) return;  // loaded twice (two explorers on a page): keep the first

  // The folder this script was loaded from: the default place of the files it loads.
  var here = document.currentScript && document.currentScript.src
    ? document.currentScript.src.replace(/[^/]*$/, "")
    : "";

  var scripts = {};   // url -> Promise of its <script> having run
  // onnxruntime-web's single-threaded wasm does one thing at a time: a network run while
  // another is still being created fails inside the runtime ("Cannot read properties of
  // null"), so every creation and run waits for the one before (two explorers on a page).
  var queue = Promise.resolve();
  var runtime = null; // Promise of the initialised onnxruntime-web
  var sessions = {};  // name -> Promise of the loaded network

  /**
   * Where the files are when load() is not told: CNNNetworks.base if a page set it; else,
   * on a page of the built site, its _static/ folder (Sphinx writes the way to the site's
   * root in <html data-content_root>, and an explorer's scripts are inline, so they have no
   * folder of their own); else the folder this script was loaded from.
   */
  function defaultBase() {
    if (networks.base !== undefined) return networks.base;
    var root = document.documentElement.dataset.content_root;
    return root !== undefined ? root + "_static/" : here;
  }

  /** Run task() once every task queued before it has settled; its Promise. */
  function oneAtATime(task) {
    var next = queue.then(task, task);
    queue = next.catch(function () {});
    return next;
  }

  /** The error a page shows when the network cannot run here. */
  function cannotRun(why) {
    return new Error("this browser cannot run the network: " + why);
  }

  /** Add <script src=url> once; resolves when it has run. */
  function addScript(url) {
    if (!scripts[url]) {
      scripts[url] = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = url;
        tag.async = true;
        tag.onload = function () { resolve(); };
        tag.onerror = function () {
          delete scripts[url];  // a later call may try again
          reject(cannotRun("could not load " + url));
        };
        document.head.appendChild(tag);
      });
    }
    return scripts[url];
  }

  /**
   * The bytes of a packed binary (scripts/web_pack.py): its text holds the gzip stream seven
   * bits to a character, most significant first; the browser un-gzips it.
   * @param {{length: number, text: string}} packed
   * @returns {Promise<ArrayBuffer>}
   */
  function unpack(packed) {
    var text = packed.text;
    var bytes = new Uint8Array(packed.length);
    var value = 0;
    var bits = 0;
    var n = 0;
    for (var i = 0; i < text.length && n < bytes.length; i++) {
      value = ((value << 7) | text.charCodeAt(i)) & 0x7fff;  // at most 14 bits are pending
      bits += 7;
      if (bits >= 8) {
        bits -= 8;
        bytes[n++] = (value >> bits) & 0xff;
      }
    }
    if (n < bytes.length) {
      return Promise.reject(cannotRun("a packed file is cut short (" + n + " of " +
                                      bytes.length + " bytes)"));
    }
    return gunzip(bytes);
  }

  /** Un-gzip bytes with the browser's own DecompressionStream. */
  function gunzip(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  /** Why this browser lacks what the networks need, or "" when it has it all. */
  function missingFeature() {
    if (typeof WebAssembly !== "object") return "it has no WebAssembly";
    if (typeof DecompressionStream !== "function") return "it has no DecompressionStream";
    return "";
  }

  /** Load and initialise onnxruntime-web once; resolves to the global `ort`. */
  function loadRuntime(base) {
    if (!runtime) {
      runtime = Promise.all([
        addScript(base + "onnxruntime/ort.iife.js"),
        addScript(base + "onnxruntime/ort-wasm.packed.js"),
      ]).then(function () {
        if (!root.ort || !networks.packed || !networks.packed["ort-wasm"]) {
          throw cannotRun("the runtime scripts ran but defined nothing");
        }
        return unpack(networks.packed["ort-wasm"]);
      }).then(function (wasm) {
        delete networks.packed["ort-wasm"];  // 4 MB of text no longer needed
        var ort = root.ort;
        ort.env.wasm.wasmBinary = wasm;
        // One thread and no proxy worker: both need what file:// pages cannot have
        // (cross-origin isolation, a worker script from a file URL).
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        return ort;
      });
      runtime.catch(function () { runtime = null; });  // a later call may try again
    }
    return runtime;
  }

  /** Softmax of a Float32Array, computed in float64 for stability. */
  function softmax(logits) {
    var top = -Infinity;
    for (var i = 0; i < logits.length; i++) top = Math.max(top, logits[i]);
    var out = new Float32Array(logits.length);
    var sum = 0;
    var exps = [];
    for (var j = 0; j < logits.length; j++) { exps.push(Math.exp(logits[j] - top)); sum += exps[j]; }
    for (var k = 0; k < logits.length; k++) out[k] = exps[k] / sum;
    return out;
  }

  /** A loaded network: its metadata and run(). */
  function Network(name, meta, session, ort) {
    var input = meta.inputs[0];
    this.name = name;
    this.meta = meta;
    this.classes = meta.classes;
    this.inputShape = input.shape.slice();
    this.maps = meta.maps.slice();

    /**
     * Run the network on one image.
     * @param {Float32Array} image side*side pixels in [0, 1], row by row (or the whole input
     *   shape, 1*1*side*side: the same numbers).
     * @param {{maps?: boolean|string[], side?: number}} [options] maps: false for the logits
     *   alone (faster), a list of map names for those only; default every map. side: the
     *   image's side when it is not the trained one (only for a network whose meta.anySide).
     * @returns {Promise<{logits: Float32Array, probabilities: Float32Array,
     *   maps: Object<string, {shape: number[], data: Float32Array}>}>}
     */
    this.run = function (image, options) {
      var side = options && options.side !== undefined ? options.side : null;
      var shape = input.shape;
      if (side !== null) {
        if (!meta.anySide) {
          return Promise.reject(new RangeError(
            name + " takes " + input.shape.slice(2).join("×") + " images only; its export " +
            "fixes the side (scripts/export_onnx.py, ANY_SIDE)"));
        }
        if (!Number.isInteger(side) || side < 1) {
          return Promise.reject(new TypeError("side must be a whole number of pixels, got " +
                                              side));
        }
        shape = [1, 1, side, side];
      }
      var count = shape.reduce(function (a, b) { return a * b; }, 1);
      if (!(image instanceof Float32Array) || image.length !== count) {
        var got = image instanceof Float32Array ? "a Float32Array of " + image.length
          : (image && image.constructor ? image.constructor.name : String(image));
        return Promise.reject(new TypeError(
          name + " takes a Float32Array of " + count + " pixels (" + shape.join("×") +
          ", values in [0, 1]); got " + got));
      }
      var wanted = options && options.maps !== undefined ? options.maps : true;
      var names = wanted === true ? meta.maps : (wanted === false ? [] : wanted);
      for (var i = 0; i < names.length; i++) {
        if (meta.maps.indexOf(names[i]) < 0) {
          return Promise.reject(new RangeError(
            name + " has no map called " + JSON.stringify(names[i]) + "; it has " +
            meta.maps.join(", ")));
        }
      }
      var feeds = {};
      feeds[input.name] = new ort.Tensor("float32", image, shape);
      return oneAtATime(function () {
        return session.run(feeds, ["logits"].concat(names));
      }).then(function (results) {
        var logits = results.logits.data;
        var maps = {};
        names.forEach(function (mapName) {
          var tensor = results[mapName];
          maps[mapName] = { shape: tensor.dims.slice(), data: tensor.data };
        });
        return { logits: logits, probabilities: softmax(logits), maps: maps };
      });
    };
  }

  /**
   * Load a trained network (and, the first time, the runtime); later calls reuse it.
   * @param {string} name a shipped network: "lenet", "alexnet", "vgg11", "nin",
   *   "googlenet", "bn_lenet" or "resnet18".
   * @param {{base?: string}} [options] base: the folder holding onnxruntime/ and models/
   *   (ending in "/"); default defaultBase().
   * @returns {Promise<Network>} rejects with "this browser cannot run the network: <why>".
   */
  networks.load = function (name, options) {
    var base = options && options.base !== undefined ? options.base : defaultBase();
    if (base && base.slice(-1) !== "/") base += "/";
    var missing = missingFeature();
    if (missing) return Promise.reject(cannotRun(missing));
    if (!sessions[name]) {
      sessions[name] = Promise.all([
        loadRuntime(base),
        addScript(base + "models/" + encodeURIComponent(name) + ".onnx.js"),
      ]).then(function (loaded) {
        var ort = loaded[0];
        var meta = networks.models[name];
        if (!meta || !meta.packed) throw cannotRun("models/" + name + ".onnx.js defined no " + name);
        return unpack(meta.packed).then(function (onnx) {
          delete meta.packed;  // the session keeps its own copy
          return oneAtATime(function () {
            return ort.InferenceSession.create(new Uint8Array(onnx), { executionProviders: ["wasm"] });
          });
        }).then(function (session) {
          return new Network(name, meta, session, ort);
        });
      }).catch(function (err) {
        delete sessions[name];  // a later call may try again
        var message = err && err.message ? err.message : String(err);
        throw message.indexOf("this browser cannot run the network") === 0
          ? err : cannotRun(message);
      });
    }
    return sessions[name];
  };
})(globalThis);
