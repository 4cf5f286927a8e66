/* Support-group releases: draw the Plotly figures the server built (ldn_diary/community/charts.py).
 *
 * Each chart is a <div data-figure="ID"> next to <script type="application/json" id="ID"> (Django's
 * json_script). When a chart has drawn, its div gets data-rendered="true" (the browser test waits
 * for it).
 */
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) return;
    var fig = JSON.parse(source.textContent);
    var config = { responsive: true, displaylogo: false, displayModeBar: false };
    window.Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.dataset.rendered = "true";
    });
  }

  function init() {
    document.querySelectorAll("[data-figure]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
