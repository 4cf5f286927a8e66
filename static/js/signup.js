/* Sign-up: preselect the browser's own time zone (the patient can still change it). */
(function () {
  "use strict";
  function init() {
    var select = document.querySelector("select[data-browser-time-zone]");
    if (!select || select.dataset.touched) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
