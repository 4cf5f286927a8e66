/* LDN Diary's service worker, served at /sw.js by ldn_diary/core/pwa.py.
 *
 * Offline entry: keeps the entry page's shell (the form, empty: nothing from anyone's diary)
 * and the static files it needs. Every real page is fetched from the network and never
 * stored; when the entry page cannot be reached, the shell is shown instead, and an entry
 * saved there waits in IndexedDB (static/js/offline.js) until it can be sent.
 * Reminders: shows the push notifications the server sends (ldn_diary/reminders/push.py).
 */
"use strict";

const CACHE = "ldn-shell-{{ version }}";
const CONFIG = {{ config|safe }};
const ASSETS = new Set(CONFIG.assets);

function shellRequest() {
  return new Request(CONFIG.shell, { credentials: "same-origin", redirect: "error" });
}

function keepShell(cache) {
  // Only a patient's session gets the shell (anyone else is redirected): then keep none.
  return cache.add(shellRequest()).catch(function () {});
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(CONFIG.assets).then(function () { return keepShell(cache); });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.startsWith("ldn-shell-") && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

let shellRefreshed = false;

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate" && url.pathname === CONFIG.entry) {
    // The network first, always: the page itself is never stored.
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !shellRefreshed) {
          // Once per start of this worker, refresh the shell while the patient is signed in.
          shellRefreshed = true;
          event.waitUntil(caches.open(CACHE).then(keepShell));
        }
        return response;
      }, function () {
        return caches.match(CONFIG.shell, { ignoreVary: true }).then(function (shell) {
          return shell || Response.error();
        });
      })
    );
    return;
  }

  if (ASSETS.has(url.pathname)) {
    // Static files have hashed names in a deployment: the kept copy is the right one.
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then(function (kept) {
        return kept || fetch(request);
      })
    );
  }
});

self.addEventListener("push", function (event) {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  const title = data.title || "LDN Diary";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || "ldn-reminder",
    icon: CONFIG.assets.find(function (a) { return a.indexOf("icon-192") !== -1; }),
    data: { url: data.url || CONFIG.entry }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  // Only a path on this site: a notification never opens another site.
  const target = new URL((event.notification.data && event.notification.data.url) || CONFIG.entry, self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (const client of windows) {
        if ("focus" in client && "navigate" in client) {
          return client.navigate(target.href).then(function (c) { return (c || client).focus(); });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
