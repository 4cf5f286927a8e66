/* Reminder settings page: "Notify me on this device" subscribes this browser to Web Push with
 * the site's VAPID public key and sends the subscription to the server
 * (ldn_diary/reminders/views.py push_add). Every word shown is in the page
 * (templates/reminders/settings.html); this only shows or hides those elements.
 */
(function () {
  "use strict";
  var offer = document.getElementById("push-offer");
  if (!offer) return;
  function show(id) {
    ["push-offer", "push-unsupported", "push-denied", "push-failed", "push-done"].forEach(function (other) {
      var el = document.getElementById(other);
      if (el) el.hidden = other !== id;
    });
  }
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) { show("push-unsupported"); return; }
  if (Notification.permission === "denied") { show("push-denied"); return; }
  show("push-offer");

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function csrfToken() {
    // The page's token, as htmx sends it (base.html, hx-headers on <body>).
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  document.getElementById("push-enable").addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { show(permission === "denied" ? "push-denied" : "push-offer"); return null; }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(offer.dataset.key)
        });
      }).then(function (subscription) {
        return fetch(offer.dataset.url, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(subscription.toJSON())
        });
      }).then(function (response) {
        if (!response.ok) throw new Error("refused");
        show("push-done");
      });
    }).catch(function () { show("push-failed"); });
  });
})();
