/* Clinic pages: draw the Plotly figures the server built, and the brief's print button.
 *
 * Each chart is a <div data-figure="ID"> next to <script type="application/json" id="ID">
 * (Django's json_script) holding {data, layout} from ldn_diary/clinic/charts.py. When a chart has
 * drawn, its div gets data-rendered="true": the brief's PDF test waits for that before printing.
 */
(function () {
  "use strict";

  // Copy b's keys into a, recursing into plain objects (for layout.meta.narrow overrides).
  function merge(a, b) {
    Object.keys(b).forEach(function (k) {
      var v = b[k];
      if (v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object") {
        merge(a[k], v);
      } else {
        a[k] = v;
      }
    });
    return a;
  }

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) return;
    var fig = JSON.parse(source.textContent);
    var narrow = fig.layout.meta && fig.layout.meta.narrow;
    var isNarrow = el.clientWidth < 600;
    if (narrow && isNarrow) merge(fig.layout, narrow);
    var isStatic = el.dataset.static === "true";
    // The brief's chart has the fixed width of the printed page (charts.py, compact). On a
    // screen narrower than that it is drawn to fit its card, and redrawn at the page's width
    // before printing, so the phone shows it whole and paper still gets the printed layout.
    var printWidth = fig.layout.width;
    if (isStatic && printWidth && el.clientWidth < printWidth) {
      fig.layout.width = el.clientWidth;
      window.addEventListener("beforeprint", function () {
        window.Plotly.relayout(el, { width: printWidth });
      });
    }
    // On a phone the toolbar would sit on the title, and zoom buttons help little on a touch
    // screen (pinch and the legend still work), so it is left out there.
    var config = isStatic
      ? { staticPlot: true, displayModeBar: false }
      : {
          responsive: true,
          displaylogo: false,
          displayModeBar: isNarrow ? false : "hover",
          modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
        };
    window.Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.dataset.rendered = "true";
    });
  }

  function init() {
    document.querySelectorAll("[data-figure]").forEach(draw);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
