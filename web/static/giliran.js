/* Shared by every page: the live connection, the API, languages, times.
 * Pages get their settings in window.GILIRAN (rendered by the server):
 *   {lang, messages: {id: {...}, en: {...}}, tz, ...} */
(function () {
  "use strict";
  var cfgEl = document.getElementById("giliran-config");
  if (cfgEl && !window.GILIRAN) {
    try { window.GILIRAN = JSON.parse(cfgEl.textContent); } catch (e) { window.GILIRAN = {}; }
  }
  var cfg = window.GILIRAN || {};
  var API_TIMEOUT_MS = 8000;
  // The server's clock minus ours (ms): pages show waits and dates by the server's clock.
  var serverSkewMs = typeof cfg.server_ms === "number" ? cfg.server_ms - Date.now() : 0;

  var Giliran = {
    lang: cfg.lang || "id",

    /* An element by its id. */
    $: function (id) { return document.getElementById(id); },

    /* Now by the server's clock, in ms since the epoch. */
    now: function () { return Date.now() + serverSkewMs; },
    /* Set the server's clock from a time it sent (ms since the epoch, or an ISO string). */
    syncClock: function (server) {
      var ms = typeof server === "string" ? Date.parse(server) : server;
      if (typeof ms === "number" && !isNaN(ms)) { serverSkewMs = ms - Date.now(); }
    },

    /* A fresh Idempotency-Key: 32 hex digits (crypto.randomUUID needs https; this does not). */
    newKey: function () {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    },

    /* A device's token: from ?token= (then kept in localStorage under storageKey and removed
     * from the address), else the one kept before; null when there is none. */
    takeToken: function (storageKey) {
      var params = new URLSearchParams(location.search), token = params.get("token");
      if (token) {
        try { localStorage.setItem(storageKey, token); } catch (e) { /* private mode: this page only */ }
        params.delete("token");
        var rest = params.toString();
        history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
        return token;
      }
      try { return localStorage.getItem(storageKey); } catch (e) { return null; }
    },

    /* A failed call's error in the page's language: its "err_<code>" string where the page
     * has one, else `fallback` (by default the page's generic sentence). */
    errorText: function (error, fallback) {
      var key = "err_" + (error && error.code), text = Giliran.t(key);
      if (text !== key) { return text; }
      return fallback || Giliran.t("error_generic");
    },

    /* A page string in the current language (falls back to Indonesian, then the key). */
    t: function (key, vars) {
      var msgs = (cfg.messages || {});
      var text = (msgs[Giliran.lang] || {})[key] || (msgs.id || {})[key] || key;
      if (vars) {
        Object.keys(vars).forEach(function (k) { text = text.split("{" + k + "}").join(vars[k]); });
      }
      return text;
    },

    /* Re-label every element carrying data-i18n="key". */
    applyLang: function (lang, root) {
      if (lang) { Giliran.lang = lang; document.documentElement.lang = lang; }
      (root || document).querySelectorAll("[data-i18n]").forEach(function (el) {
        el.textContent = Giliran.t(el.getAttribute("data-i18n"));
      });
    },

    /* JSON over fetch (a FormData body goes as multipart: uploads). Resolves to
     * {ok, status, data, error, offline}; never throws. Gives up after timeoutMs (8 s). */
    api: function (method, path, body, headers, timeoutMs) {
      var opts = { method: method, headers: Object.assign({ "Accept": "application/json" }, headers || {}),
                   credentials: "same-origin" };
      if (window.FormData && body instanceof FormData) {
        opts.body = body;  // the browser sets the multipart Content-Type with its boundary
      } else if (body !== undefined && body !== null) {
        opts.headers["Content-Type"] = "application/json";
        opts.body = JSON.stringify(body);
      }
      if (cfg.token) { opts.headers["Authorization"] = "Bearer " + cfg.token; }
      var controller = window.AbortController ? new AbortController() : null;
      if (controller) {
        opts.signal = controller.signal;
        setTimeout(function () { controller.abort(); }, timeoutMs || API_TIMEOUT_MS);
      }
      return fetch(path, opts).then(function (resp) {
        if (resp.status === 204) { return { ok: true, status: 204, data: null }; }
        return resp.json().catch(function () { return null; }).then(function (data) {
          return { ok: resp.ok, status: resp.status, data: resp.ok ? data : null,
                   error: resp.ok ? null : ((data && data.error) || { code: "http_" + resp.status, message: "" }) };
        });
      }, function () {
        return { ok: false, status: 0, data: null, offline: true, error: { code: "offline", message: "" } };
      });
    },

    /* The live connection. handlers: {snapshot, <event>..., online(bool)}. Shows #offline while down. */
    live: function (auth, handlers) {
      var banner = document.getElementById("offline");
      var socket = io({ auth: auth, transports: ["websocket"], reconnectionDelay: 500,
                        reconnectionDelayMax: 8000, randomizationFactor: 0.5 });
      function setOnline(on) {
        Giliran.online = on;
        if (banner) { banner.hidden = on; }
        document.body.classList.toggle("is-offline", !on);
        if (handlers.online) { handlers.online(on); }
      }
      Giliran.online = false;
      socket.on("connect", function () { setOnline(true); });
      socket.on("disconnect", function (reason) {
        setOnline(false);
        // A server that dropped us on purpose will not be retried by the client: retry anyway.
        if (reason === "io server disconnect") { setTimeout(function () { socket.connect(); }, 1000); }
      });
      socket.on("connect_error", function () { setOnline(false); });
      Object.keys(handlers).forEach(function (name) {
        if (name !== "online") { socket.on(name, handlers[name]); }
      });
      // A phone or TV waking from sleep: make sure the socket is really alive.
      document.addEventListener("visibilitychange", function () {
        if (!document.hidden && !socket.connected) { socket.connect(); }
      });
      return socket;
    },

    /* "± 12 menit" / "about 12 min". */
    formatWait: function (seconds) {
      if (seconds === null || seconds === undefined) { return "–"; }
      var minutes = Math.max(1, Math.round(seconds / 60));
      if (seconds < 60) { return Giliran.t("wait_under_minute"); }
      if (minutes < 60) { return Giliran.t("wait_minutes", { n: minutes }); }
      var h = Math.floor(minutes / 60), m = minutes % 60;
      return Giliran.t("wait_hours", { h: h, m: m });
    },

    /* A time of day in the MPP's zone, e.g. "09.15". */
    formatTime: function (iso) {
      if (!iso) { return ""; }
      return new Date(iso).toLocaleTimeString(Giliran.lang === "en" ? "en-GB" : "id-ID",
        { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz || "Asia/Jakarta" });
    },

    /* A two-step button for what cannot be undone: `ask` shows the confirm box in its place
     * (yes focused), `no` puts it back; `yes` runs onYes(), a promise, with yes showing
     * busyText and both disabled until it settles. Ids: ask, ask-confirm, -yes, -no. */
    confirmStep: function (askId, busyText, onYes) {
      var ask = Giliran.$(askId), box = Giliran.$(askId + "-confirm");
      var yes = Giliran.$(askId + "-yes"), no = Giliran.$(askId + "-no");
      ask.addEventListener("click", function () { ask.hidden = true; box.hidden = false; yes.focus(); });
      no.addEventListener("click", function () { box.hidden = true; ask.hidden = false; ask.focus(); });
      yes.addEventListener("click", function () {
        var label = yes.textContent;
        yes.disabled = no.disabled = true; yes.textContent = busyText;
        onYes().then(function () { yes.disabled = no.disabled = false; yes.textContent = label; });
      });
    },

    /* Remove every child of an element (keeps long-running pages' DOM bounded). */
    clear: function (el) { while (el.firstChild) { el.removeChild(el.firstChild); } },

    /* Build an element: el("div", {class: "x"}, ["text", child]). Text is never parsed as HTML. */
    el: function (tag, attrs, children) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (k) {
        if (k === "class") { node.className = attrs[k]; }
        else if (k === "text") { node.textContent = attrs[k]; }
        else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
        // Through the CSSOM: the CSP refuses style attributes set as markup.
        else if (k === "style") { node.style.cssText = attrs[k]; }
        else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
      });
      (children || []).forEach(function (c) {
        if (c === null || c === undefined) { return; }
        node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
      });
      return node;
    }
  };

  window.Giliran = Giliran;
})();
