/* Offline entry, for patients' pages (templates/base.html loads it for them only).
 *
 * 1. Registers the service worker (/sw.js), which keeps the entry page's empty shell and the
 *    static files, so the entry page opens without a connection.
 * 2. On a page with #offline-entry (the entry page and its shell): an entry saved while offline
 *    is kept in this browser's IndexedDB, with its idempotency key, and sent when the connection
 *    is back (the "online" event, and every load of the page), with a CSRF token asked from the
 *    server at that moment. ldn_diary/diary/offline.py says what is kept where, and why.
 *
 * Every word the patient reads is in templates/diary/_offline.html (<template data-message>),
 * so it is translated with the page; this file only fills in the slots. No eval, no inline
 * styles: it runs under the site's Content-Security-Policy.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if ("serviceWorker" in navigator && script && script.dataset.sw) {
    navigator.serviceWorker.register(script.dataset.sw, { scope: "/" }).catch(function () {
      /* No service worker (private window, old browser): the site works online as before. */
    });
  }

  var root = document.getElementById("offline-entry");
  if (!root || !window.indexedDB) return;

  var SHELL = root.dataset.shell === "1";
  var PATIENT_KEY = "ldn-diary-patient";
  var box = root.querySelector("[data-offline-messages]");

  // Which account this browser last showed a diary page for: the shell, served from the cache,
  // names nobody, so an entry saved in it is filed under this account (and sent only for it).
  if (root.dataset.patient) {
    try { localStorage.setItem(PATIENT_KEY, root.dataset.patient); } catch (e) { /* storage off */ }
  }
  function currentPatient() {
    if (root.dataset.patient) return root.dataset.patient;
    try { return localStorage.getItem(PATIENT_KEY) || ""; } catch (e) { return ""; }
  }

  function entryForm() { return document.querySelector("#entry-form form"); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function isoToday() {
    var d = new Date();
    return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, "0"), String(d.getDate()).padStart(2, "0")].join("-");
  }

  // The page's language; its regional variant from the browser when it agrees ("en" and
  // "en-GB" write dates differently).
  var LANG = document.documentElement.lang || "";
  var LOCALE = LANG.indexOf("-") > 0 || !navigator.language || navigator.language.indexOf(LANG) !== 0
    ? (LANG || undefined) : navigator.language;

  function dayLabel(iso) {
    var p = String(iso).split("-");
    var d = new Date(+p[0], +p[1] - 1, +p[2]);
    if (isNaN(d)) return String(iso);
    return d.toLocaleDateString(LOCALE, { weekday: "long", day: "numeric", month: "long" });
  }

  // --- The queue: one record per account and day, in IndexedDB -----------------------------

  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open("ldn-diary", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("queue", { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var t = database.transaction("queue", mode);
        var request = work(t.objectStore("queue"));
        t.oncomplete = function () { resolve(request ? request.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function allRecords() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function putRecord(record) { return withStore("readwrite", function (s) { return s.put(record); }); }
  function deleteRecord(id) { return withStore("readwrite", function (s) { return s.delete(id); }); }

  function field(record, name) {
    for (var i = 0; i < record.fields.length; i++) {
      if (record.fields[i][0] === name) return record.fields[i][1];
    }
    return "";
  }
  function setField(record, name, value) {
    record.fields = record.fields.filter(function (kv) { return kv[0] !== name; });
    record.fields.push([name, String(value)]);
  }

  // --- Messages ---------------------------------------------------------------------------------

  function message(name, slots, actions) {
    var template = root.querySelector('template[data-message="' + name + '"]');
    var node = template.content.firstElementChild.cloneNode(true);
    Object.keys(slots || {}).forEach(function (key) {
      node.querySelectorAll('[data-slot="' + key + '"]').forEach(function (el) {
        var value = slots[key];
        if (Array.isArray(value)) {
          value.forEach(function (text) {
            var li = document.createElement("li");
            li.textContent = text;
            el.appendChild(li);
          });
        } else if (el.tagName === "A") {
          el.href = value;
        } else {
          el.textContent = value;
        }
      });
    });
    node.querySelectorAll("[data-action]").forEach(function (button) {
      var act = actions && actions[button.dataset.action];
      if (act) {
        button.hidden = false;
        button.addEventListener("click", act);
      }
    });
    return node;
  }

  function place(key, node) {
    node.dataset.key = key;
    var old = box.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (old) old.replaceWith(node); else box.appendChild(node);
    return node;
  }
  function unplace(key) {
    var old = box.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (old) old.remove();
  }

  // --- The form ---------------------------------------------------------------------------------

  function formDate(form) {
    return form && form.elements.date ? form.elements.date.value : "";
  }

  function fill(form, record) {
    var fields = {};
    record.fields.forEach(function (kv) { (fields[kv[0]] = fields[kv[0]] || []).push(kv[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "date") return;
      var values = fields[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.name !== "version" && el.name !== "request_key") {
        el.value = values[0] || "";
      }
    });
  }

  function saveOffline(form) {
    var data = new FormData(form);
    var date = String(data.get("date") || "");
    var patient = currentPatient();
    var record = {
      id: patient + "|" + date, patient: patient, date: date, fields: [],
      savedAt: Date.now(), state: "waiting"
    };
    data.forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") record.fields.push([name, String(value)]);
    });
    if (!field(record, "request_key")) setField(record, "request_key", newKey());
    return putRecord(record).then(function () {
      var node = place(record.id, message("queued", { day: dayLabel(date) }));
      node.scrollIntoView({ block: "nearest" });
    }, function () {
      place(record.id, message("failed", { day: dayLabel(date) }));
    });
  }

  // Offline, the form never reaches htmx: the capture phase on the document runs first.
  document.addEventListener("submit", function (event) {
    var form = entryForm();
    if (!form || event.target !== form) return;
    if (!SHELL && navigator.onLine !== false) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    saveOffline(form);
  }, true);

  // "Online" but the request never got an answer (a dead connection): keep the entry too.
  document.addEventListener("htmx:sendError", function (event) {
    var form = entryForm();
    if (form && event.detail && (event.detail.elt === form || form.contains(event.detail.elt))) {
      saveOffline(form);
    }
  });

  // --- Sending ----------------------------------------------------------------------------------

  function loginUrl() {
    return root.dataset.loginUrl;
  }

  function show(record) {
    var day = dayLabel(record.date);
    if (record.state === "conflict") {
      var c = record.conflict || {};
      place(record.id, message("conflict",
        { day: day, at: c.at || "", server: c.server || "", local: c.local || "" },
        {
          "keep-server": function () {
            deleteRecord(record.id).then(function () {
              unplace(record.id);
              if (!SHELL && formDate(entryForm()) === record.date) window.location.reload();
            });
          },
          "use-local": function () {
            record.state = "waiting";
            setField(record, "version", c.version);
            setField(record, "request_key", newKey());
            putRecord(record).then(sync);
          }
        }));
    } else if (record.state === "invalid") {
      var actions = {
        discard: function () { deleteRecord(record.id).then(function () { unplace(record.id); }); }
      };
      var form = entryForm();
      if (form && formDate(form) === record.date) {
        actions.refill = function () {
          fill(form, record);
          deleteRecord(record.id).then(function () { unplace(record.id); });
          form.scrollIntoView({ block: "start" });
        };
      }
      place(record.id, message("invalid", { day: day, errors: record.errors || [] }, actions));
    } else {
      place(record.id, message("queued", { day: day }));
    }
  }

  function answered(record, status, data) {
    var form = entryForm();
    if (data.status === "saved") {
      return deleteRecord(record.id).then(function () {
        place(record.id, message("sent", {
          summary: data.summary,
          link: root.dataset.todayUrl + "?date=" + encodeURIComponent(record.date)
        }));
        // The form on the page shows that day: make it show what is saved now, ready for
        // another save (neither a replay of this key nor a stale version).
        if (form && formDate(form) === record.date && form.elements.version) {
          fill(form, record);
          form.elements.version.value = data.version;
          form.elements.request_key.value = data.request_key;
        }
      });
    }
    if (data.status === "conflict") {
      record.state = "conflict";
      record.conflict = data;
    } else if (data.status === "invalid") {
      record.state = "invalid";
      record.errors = data.errors;
    } else if (data.status === "other_account") {
      place("account", message("other-account"));
      return Promise.resolve();
    } else {
      place(record.id, message("failed", { day: dayLabel(record.date) }));
      return Promise.resolve();
    }
    return putRecord(record).then(function () { show(record); });
  }

  function send(record, who) {
    var body = new URLSearchParams();
    record.fields.forEach(function (kv) { body.append(kv[0], kv[1]); });
    body.set("patient", who.patient);
    place(record.id, message("sending", { day: dayLabel(record.date) }));
    return fetch(root.dataset.syncUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", body: body,
      headers: { "X-CSRFToken": who.csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (response.type === "opaqueredirect") {
        show(record);
        place("account", message("signed-out", { login: loginUrl() }));
        return null;
      }
      return response.json().then(function (data) {
        return answered(record, response.status, data);
      });
    }).catch(function () {
      place(record.id, message("failed", { day: dayLabel(record.date) }));
    });
  }

  var syncing = false;
  function sync() {
    if (syncing) return Promise.resolve();
    return allRecords().then(function (records) {
      var me = currentPatient();
      records.forEach(function (r) { if (r.state !== "waiting") show(r); });
      var waiting = records.filter(function (r) { return r.state === "waiting"; });
      if (!waiting.length) return null;
      if (navigator.onLine === false) {
        waiting.forEach(show);
        return null;
      }
      syncing = true;
      return fetch(root.dataset.syncUrl, {
        credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" }
      }).then(function (response) {
        unplace("account");
        if (response.type === "opaqueredirect" || !response.ok) {
          waiting.forEach(show);
          place("account", message("signed-out", { login: loginUrl() }));
          return null;
        }
        return response.json().then(function (who) {
          var chain = Promise.resolve();
          waiting.forEach(function (record) {
            // Saved in a shell that knew no account: it belongs to whoever is signed in.
            if (!record.patient) record.patient = who.patient;
            if (record.patient !== who.patient) {
              place("account", message("other-account"));
              return;
            }
            chain = chain.then(function () { return send(record, who); });
          });
          return chain;
        });
      }, function () {
        waiting.forEach(function (r) { place(r.id, message("failed", { day: dayLabel(r.date) })); });
      }).then(function () { syncing = false; }, function () { syncing = false; });
    }).catch(function () { syncing = false; });
  }

  // The shell is the same page for every day and every account: give it today's date (the
  // phone's), or the day the address asked for.
  if (SHELL) {
    var form = entryForm();
    var wanted = new URLSearchParams(window.location.search).get("date");
    var date = /^\d{4}-\d{2}-\d{2}$/.test(wanted || "") ? wanted : isoToday();
    if (form && form.elements.date) form.elements.date.value = date;
    document.querySelectorAll("[data-offline-day]").forEach(function (el) {
      el.textContent = dayLabel(date);
    });
  }

  window.addEventListener("online", sync);
  sync();
})();
