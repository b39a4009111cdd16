// The explorers' widget manager, served by this site (see `make web-deps` and _config.yml's
// nb_ipywidgets_js, which loads this file between RequireJS and the manager's embed-amd.js).
(function () {
  "use strict";

  // 1. The manager's modules (all defined in embed-amd.js) load their bundled Font Awesome's
  //    fonts from beside the URL RequireJS gives each module: by default under the page's own
  //    folder, where there are none (404s). With baseUrl _static/widgets/ and this path, every
  //    such URL is in _static/widgets/@jupyter-widgets/, where `make web-deps` put the fonts.
  //    A widget module the manager does not bundle is looked up there too, then under the
  //    data-jupyter-widgets-cdn prefix, which _config.yml also keeps in _static/widgets/.
  window.requirejs.config({
    baseUrl: new URL("widgets/", document.currentScript.src).href,
    paths: { "@jupyter-widgets/html-manager/dist": "@jupyter-widgets" },
  });

  // 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue(["Typeset",
  //    MathJax.Hub, element]); the site loads MathJax 3, which has no Hub (one console error
  //    per widget). This Hub runs such jobs with MathJax 3, after its typesetting of the page.
  function typeset(element) {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || !mathjax.startup.promise || !mathjax.typesetPromise) {
      return; // MathJax 3 has not started: its first pass will typeset the whole page
    }
    mathjax.startup.promise = mathjax.startup.promise
      .then(function () {
        return mathjax.typesetPromise(element ? [element] : undefined);
      })
      .catch(function (error) {
        console.error("MathJax could not typeset a widget label:", error);
      });
  }

  var Hub = {
    Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset") {
          typeset(job[2]);
        } else if (typeof job === "function") {
          job();
        }
      });
    },
  };

  // MathJax 3 replaces window.MathJax (the configuration) with its own object when its deferred
  // script runs, before DOMContentLoaded; the manager renders on the load event, after both.
  function installHub() {
    if (window.MathJax && !window.MathJax.Hub) {
      Object.defineProperty(window.MathJax, "Hub", { value: Hub, configurable: true });
    }
  }
  installHub();
  document.addEventListener("DOMContentLoaded", installHub);
})();
