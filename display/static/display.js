/* The lobby display: pairing, the live queue, the clock, the MPP's media, announcements.
 * Runs for weeks on a TV: every list is bounded, nodes are replaced rather than
 * accumulated, listeners are attached once, and it reloads itself at a quiet hour. */
(function () {
  "use strict";
  var G = window.Giliran, A = window.GiliranAnnouncer, cfg = window.GILIRAN || {};
  var el = G.el, t = G.t;
  var TOKEN_KEY = "giliran.display.token", SOUND_KEY = "giliran.display.sound";
  var MAX_CALLS = 20, SHOWN_RECENT = 5, MAX_SEEN = 100;
  var IMAGE_MS = 12000, VIDEO_MAX_MS = 10 * 60 * 1000, MISSED_CALL_MS = 2 * 60 * 1000;
  var $ = G.$;

  var state = {
    token: null, settings: {}, kinds: {}, agencies: {}, services: new Map(),
    calls: [], seen: [], first: true,
    startedAt: Date.now(), socket: null
  };
  // What tests and a technician can look at: the announcement queue and the connection.
  window.giliranDisplay = {
    announced: A.state.announced, log: A.state.log, calls: A.state.calls,
    queueLength: A.queueLength, state: A.state,
    online: function () { return !!G.online; },
    current: function () { return state.calls[0] ? state.calls[0].number : null; }
  };

  // -- pairing ---------------------------------------------------------------------

  function showPairing(messageKey) {
    $("screen").hidden = true;
    $("pair").hidden = false;
    var err = $("pair-error");
    err.hidden = !messageKey;
    err.textContent = messageKey ? t(messageKey) : "";
  }

  $("pair-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = $("pair-token").value.trim();
    if (!token) { return; }
    try { localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* memory only */ }
    start(token);
  });

  // -- settings, logo, running text ----------------------------------------------------

  function fetchConfig(retryMs) {
    return G.api("GET", "/api/v1/display/config").then(function (r) {
      if (r.ok) { applyConfig(r.data); return true; }
      if (r.status === 401) {
        try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
        if (state.socket) { state.socket.disconnect(); }
        showPairing("pair_bad_token");
        return false;
      }
      if (r.status === 403) { showPairing("pair_wrong_kind"); return false; }
      // Server down or busy: try again, a little later each time.
      var next = Math.min((retryMs || 1000) * 2, 30000);
      setTimeout(function () { fetchConfig(next); }, retryMs || 1000);
      return null;
    });
  }

  function applyConfig(c) {
    state.settings = c;
    if (c.server_ms) { G.syncClock(c.server_ms); }
    state.kinds = c.counter_kinds || {};
    state.agencies = {};
    (c.agencies || []).forEach(function (a) { state.agencies[a.id] = a; });
    $("mpp-name").textContent = c.mpp_name || "";
    $("media-mpp").textContent = c.mpp_name || "";
    document.title = (c.mpp_name || "Giliran") + " — Giliran";
    var logo = $("logo");
    if (c.logo_url) { if (logo.getAttribute("src") !== c.logo_url) { logo.src = c.logo_url; } logo.hidden = false; }
    else { logo.hidden = true; logo.removeAttribute("src"); }
    setTicker(c.running_text || "");
    // The whole pack, decoded now: the first call of the day needs no download (a new pack: the same).
    A.preload(c.voice_clips || []);
    setPlaylist(c.media || []);
    renderNow();
    renderRecent();
    renderWaiting();
  }

  function setTicker(text) {
    var box = $("ticker-text");
    if (box.textContent === text) { return; }
    box.textContent = text; // never HTML: the admin's text is shown as typed
    box.parentNode.hidden = !text;
    // About 130 px a second, whatever the length.
    box.style.animationDuration = Math.max(15, (text.length * 22 + window.innerWidth) / 130) + "s";
  }

  // -- the clock -----------------------------------------------------------------------------

  var timeFmt, dateFmt;
  function formatters() {
    var locale = G.lang === "en" ? "en-GB" : "id-ID", tz = cfg.tz || "Asia/Jakarta";
    timeFmt = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: tz });
    dateFmt = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: tz });
  }
  function now() { return new Date(G.now()); }
  function tick() {
    var d = now();
    $("time").textContent = timeFmt.format(d).replace(/\./g, ":");
    $("date").textContent = dateFmt.format(d);
  }
  function localHour() {
    var h = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hour12: false, timeZone: cfg.tz || "Asia/Jakarta" }).format(now());
    return parseInt(h, 10) % 24;
  }

  // -- calls ----------------------------------------------------------------------------------

  // called_at has whole seconds: a recall in the second of its call must not look like a repeat of it.
  function callKey(c) { return c.ticket_id + "|" + c.called_at + (c.recall ? "|recall" : ""); }
  function remember(key) {
    if (state.seen.indexOf(key) >= 0) { return false; }
    state.seen.push(key);
    while (state.seen.length > MAX_SEEN) { state.seen.shift(); }
    return true;
  }

  function counterLabel(call) {
    var kind = call.counter_kind || state.kinds[String(call.counter_id)] || "loket";
    return { kind: t("kind_" + kind), number: call.counter_number === null || call.counter_number === undefined ? "" : String(call.counter_number) };
  }

  function addCall(call) {
    // A recall moves the ticket back to the top instead of listing it twice.
    state.calls = [call].concat(state.calls.filter(function (c) { return c.ticket_id !== call.ticket_id; }));
    if (state.calls.length > MAX_CALLS) { state.calls.length = MAX_CALLS; }
  }

  var flashTimer = null;
  function flash() {
    var now = $("now");
    now.classList.remove("flash");
    void now.offsetWidth; // restart the animation
    now.classList.add("flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { now.classList.remove("flash"); }, 8000);
  }

  function fitNumber() {
    var box = $("now-number"), size = 300;
    box.style.fontSize = size + "px";
    // Long numbers (BK1000) shrink until they fit; a handful of steps at most.
    for (var i = 0; i < 12 && box.scrollWidth > box.clientWidth && size > 80; i++) {
      size -= 20;
      box.style.fontSize = size + "px";
    }
  }

  function renderNow() {
    var call = state.calls[0];
    $("now-number").textContent = call ? call.number : "–";
    var label = call ? counterLabel(call) : { kind: "", number: "" };
    $("now-kind").textContent = label.kind;
    $("now-counter").textContent = label.number;
    var service = call && state.services.get(call.service_id);
    $("now-service").textContent = service ? service.name : (call ? "" : t("no_calls"));
    $("now-booking").hidden = !(call && call.booking);
    $("now").classList.toggle("empty", !call);
    fitNumber();
  }

  function renderRecent() {
    var list = $("recent");
    G.clear(list);
    state.calls.slice(1, 1 + SHOWN_RECENT).forEach(function (call) {
      var label = counterLabel(call);
      list.appendChild(el("li", {}, [
        el("span", { class: "recent-number" }, [call.number,
          call.booking ? el("span", { class: "booking-tag small", text: t("booking_tag") }) : null]),
        el("span", { class: "recent-counter", text: label.kind + " " + label.number })
      ]));
    });
  }

  function announce(call) {
    A.enqueue(call);
  }

  function onCalled(call) {
    if (!remember(callKey(call))) { return; }
    announce(call);  // first: its sound is scheduled before the screen is laid out again
    addCall(call);
    renderNow();
    renderRecent();
    flash();
  }

  function onSnapshot(snap) {
    state.services = new Map();
    (snap.services || []).forEach(function (s) { state.services.set(s.id, s); });
    var calls = (snap.recent_calls || []).slice(0, MAX_CALLS);
    var missed = [];
    calls.slice().reverse().forEach(function (c) {
      var fresh = remember(callKey(c));
      // Calls made while we were offline a moment ago are still announced, oldest first.
      if (fresh && !state.first && now() - new Date(c.called_at) < MISSED_CALL_MS) { missed.push(c); }
    });
    state.first = false;
    state.calls = [];
    calls.slice().reverse().forEach(addCall);
    renderNow();
    renderRecent();
    renderWaiting();
    missed.forEach(announce);
    // After the missed calls: those whose ticket has since moved on are dropped unspoken.
    A.counters(snap.counters || []);
    if (missed.length) { flash(); }
    if (calls[0] && calls[0].clips) { A.preload(calls[0].clips); }
    fetchConfig();
  }

  // -- waiting counts -----------------------------------------------------------------------

  var waitingCells = new Map();
  function renderWaiting() {
    var list = $("waiting"), services = Array.from(state.services.values());
    G.clear(list);
    waitingCells = new Map();
    // Many services do not fit a TV: then one line per agency with their sum.
    var byAgency = services.length > 16;
    var rows = [];
    if (byAgency) {
      var groups = new Map();
      services.forEach(function (s) {
        var agency = state.agencies[s.agency_id] || {};
        var g = groups.get(s.agency_id) || { key: "a" + s.agency_id, label: "", name: agency.code || agency.name || "", ids: [] };
        g.label = g.label ? g.label + " " + s.prefix : s.prefix;
        g.ids.push(s.id);
        groups.set(s.agency_id, g);
      });
      rows = Array.from(groups.values());
    } else {
      rows = services.map(function (s) { return { key: "s" + s.id, label: s.prefix, name: s.name, ids: [s.id] }; });
    }
    list.classList.toggle("by-agency", byAgency);
    rows.forEach(function (row) {
      var count = el("span", { class: "waiting-count" });
      var li = el("li", {}, [el("span", { class: "waiting-prefix", text: row.label }),
                             el("span", { class: "waiting-name", text: row.name }), count]);
      list.appendChild(li);
      row.ids.forEach(function (id) { waitingCells.set(id, { cell: count, ids: row.ids }); });
      updateCount(count, row.ids);
    });
  }
  function updateCount(cell, ids) {
    var total = 0;
    ids.forEach(function (id) { var s = state.services.get(id); total += s ? (s.waiting || 0) : 0; });
    cell.textContent = String(total);
    cell.parentNode.classList.toggle("none", total === 0);
  }
  function onQueue(q) {
    var s = state.services.get(q.service_id);
    if (!s) { return; }
    s.waiting = q.waiting;
    var hit = waitingCells.get(q.service_id);
    if (hit) { updateCount(hit.cell, hit.ids); }
  }

  // -- media: the MPP's images and videos, one element of each, reused ------------------------

  var playlist = [], mediaIndex = -1, mediaTimer = null;
  var img = $("media-img"), video = $("media-video");
  var VOLUME = 0.6, DUCKED = 0.08;

  function setPlaylist(items) {
    var before = playlist.map(function (m) { return m.url; }).join(" ");
    playlist = items.slice(0, 50);
    if (playlist.map(function (m) { return m.url; }).join(" ") !== before) { mediaIndex = -1; nextMedia(); }
  }

  function nextMedia() {
    clearTimeout(mediaTimer);
    if (!playlist.length) {
      img.hidden = true; video.hidden = true; video.pause(); video.removeAttribute("src"); video.load();
      $("media-empty").hidden = false;
      return;
    }
    $("media-empty").hidden = true;
    mediaIndex = (mediaIndex + 1) % playlist.length;
    var item = playlist[mediaIndex];
    if (item.kind === "video") {
      img.hidden = true;
      video.hidden = false;
      video.muted = A.state.sound !== "on";
      video.volume = A.busy() ? DUCKED : VOLUME;
      video.src = item.url;
      var played = video.play();
      if (played && played.catch) {
        played.catch(function () { video.muted = true; video.play().catch(function () { mediaTimer = setTimeout(nextMedia, 3000); }); });
      }
      mediaTimer = setTimeout(nextMedia, VIDEO_MAX_MS);
    } else {
      video.pause(); video.hidden = true; video.removeAttribute("src");
      img.src = item.url;
      img.hidden = false;
      mediaTimer = setTimeout(nextMedia, IMAGE_MS);
    }
  }
  video.addEventListener("ended", function () { nextMedia(); });
  video.addEventListener("error", function () { if (video.getAttribute("src")) { clearTimeout(mediaTimer); mediaTimer = setTimeout(nextMedia, 2000); } });
  img.addEventListener("error", function () { if (img.getAttribute("src")) { clearTimeout(mediaTimer); mediaTimer = setTimeout(nextMedia, 2000); } });

  // An announcement ducks the video's sound; it comes back when the queue is empty.
  A.on("start", function () { video.volume = DUCKED; document.body.classList.add("announcing"); });
  A.on("end", function (item, left) { if (!left) { video.volume = VOLUME; document.body.classList.remove("announcing"); } });

  // -- sound permission ---------------------------------------------------------------------

  A.on("blocked", function (blocked) { $("sound").hidden = !blocked; });
  $("sound-button").addEventListener("click", function () {
    A.unlock().then(function (sound) {
      if (sound === "on") {
        try { localStorage.setItem(SOUND_KEY, "on"); } catch (e) { /* remembered for this page only */ }
        $("sound").hidden = true;
        video.muted = false;
      }
    });
  });
  // Whoever touches the screen once (or presses a key) also turns the sound on.
  document.addEventListener("pointerdown", function () { if (A.state.sound === "blocked") { A.unlock(); } });
  document.addEventListener("keydown", function () { if (A.state.sound === "blocked") { A.unlock(); } });

  // -- staying well for weeks ------------------------------------------------------------------

  function quietReload() {
    var hour = state.settings.reload_hour;
    if (hour === null || hour === undefined || localHour() !== hour) { return; }
    if (Date.now() - state.startedAt < 2 * 3600 * 1000 || A.busy()) { return; }
    // Only when the server answers: a reload without it would leave an error page on the TV.
    fetch("/api/v1/health", { cache: "no-store" }).then(function (r) {
      if (r.ok && !A.busy()) { location.reload(); }
    }, function () { /* try again next minute */ });
  }

  // -- start -----------------------------------------------------------------------------------

  function start(token) {
    state.token = token;
    cfg.token = token; // Giliran.api sends it as the bearer token
    $("pair").hidden = true;
    $("screen").hidden = false;
    fetchConfig().then(function (ok) {
      if (ok === false || state.socket) { return; }
      state.socket = G.live({ token: token }, {
        snapshot: onSnapshot,
        ticket_called: onCalled,
        queue_changed: onQueue,
        // A counter that finished, marked no-show or transferred its ticket: not announced any more.
        counter_changed: A.counterChanged,
        settings_changed: applyConfig,
        connect_error: function (err) {
          // A revoked token: the config call tells "unknown token" from "server down".
          if (err && err.message === "not_authenticated") { fetchConfig(); }
        }
      });
    });
    A.checkSound();
  }

  formatters();
  tick();
  setInterval(tick, 1000);
  setInterval(quietReload, 60 * 1000);
  window.addEventListener("resize", fitNumber);
  document.body.classList.add("is-offline");
  var token = G.takeToken(TOKEN_KEY);
  if (token) { start(token); } else { showPairing(null); }
})();
