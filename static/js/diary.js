/* Draws the history chart from the figure the server embedded with json_script. */
(function () {
  "use strict";
  function draw() {
    var data = document.getElementById("history-fig");
    var target = document.getElementById("history-chart");
    if (!data || !target || !window.Plotly) return;
    var fig = JSON.parse(data.textContent);
    window.Plotly.newPlot(target, fig.data, fig.layout, {
      displayModeBar: false,
      responsive: true,
      scrollZoom: false
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
