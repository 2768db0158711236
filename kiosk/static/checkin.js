/* The booking check-in on the kiosk: a scanner on any screen, the on-screen keypad, the refusals.
 * A USB barcode/QR scanner is a keyboard: it types the booking's code (or its /b/<code> link)
 * and Enter, a few milliseconds a key. Keystrokes that close together ending in Enter are a
 * scan, whatever screen the kiosk shows; nobody types that fast on a touchscreen.
 * window.GILIRAN: {booking_alphabet, booking_code_length, scan_gap_ms, idle_s, ticket_s}.
 * Uses window.Kiosk (kiosk.js) for the screens, the notices and the ticket view. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, K = window.Kiosk, el = G.el;
  var ALPHABET = cfg.booking_alphabet || "";
  var LEN = cfg.booking_code_length || 8;
  var GAP = cfg.scan_gap_ms || 50;
  var MY_SCREENS = ["checkin", "checkin-result"];
  var S = { typed: "", busy: false, pending: null, result: null, scanBuf: "", scanLast: -1e9, bookable: null };
  var timers = { idle: null, countdown: null };
  var $ = G.$;

  // -- words in either language ---------------------------------------------------

  /* A page string in a given language (the refusal is said in both). */
  function tr(lang, key, vars) {
    var msgs = cfg.messages || {};
    var text = (msgs[lang] || {})[key] || (msgs.id || {})[key] || key;
    Object.keys(vars || {}).forEach(function (k) { text = text.split("{" + k + "}").join(vars[k]); });
    return text;
  }
  function locale(lang) { return lang === "en" ? "en-GB" : "id-ID"; }
  function timeIn(lang, iso) {
    if (!iso) { return ""; }
    return new Date(iso).toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz || "Asia/Jakarta" });
  }
  function dateIn(lang, iso) {
    if (!iso) { return ""; }
    return new Date(iso).toLocaleDateString(locale(lang), { weekday: "long", day: "numeric", month: "long",
                                                            year: "numeric", timeZone: cfg.tz || "Asia/Jakarta" });
  }
  function other(lang) { return lang === "id" ? "en" : "id"; }

  // -- the ticket's mark -------------------------------------------------------------

  function slotStart(tk) { return tk.slot_start || null; }

  /* Called by kiosk.js whenever it draws the ticket: a booking's ticket says so, with its time. */
  function renderTicket(tk) {
    var box = $("ticket-booking");
    box.hidden = !tk.booking_code;
    $("ticket-slot").textContent = tk.booking_code ? tr(G.lang, "booking_slot", { time: timeIn(G.lang, slotStart(tk)) }) : "";
  }

  // -- the keypad ----------------------------------------------------------------------

  function keys() {
    // Digits first, then letters: the order of a phone's keypad and of the printed card.
    return ALPHABET.split("").sort(function (a, b) {
      var da = /\d/.test(a), db = /\d/.test(b);
      return da === db ? (a < b ? -1 : a > b ? 1 : 0) : (da ? -1 : 1);
    });
  }

  function buildKeypad() {
    var pad = $("checkin-keypad");
    G.clear(pad);
    keys().forEach(function (ch) {
      pad.appendChild(el("button", { type: "button", class: "k-key", "data-key": ch,
                                     onclick: function () { press(ch); } }, [ch]));
    });
    pad.appendChild(el("button", { type: "button", class: "k-key k-key-wide k-key-delete", id: "key-delete",
                                   onclick: function () { S.typed = S.typed.slice(0, -1); renderCode(); } },
                       [el("span", { "aria-hidden": "true" }, ["⌫ "]), el("span", { "data-i18n": "key_delete" }, [tr(G.lang, "key_delete")])]));
    pad.appendChild(el("button", { type: "button", class: "k-key k-key-wide k-key-ok", id: "key-ok",
                                   onclick: function () { if (S.typed.length === LEN) { checkIn(S.typed); } } },
                       [el("span", { "data-i18n": "checkin_button" }, [tr(G.lang, "checkin_button")])]));
  }

  function press(ch) {
    if (S.typed.length < LEN) { S.typed += ch; }
    renderCode();
  }

  function renderCode() {
    var box = $("checkin-code");
    G.clear(box);
    for (var i = 0; i < LEN; i++) {
      var ch = S.typed.charAt(i);
      box.appendChild(el("span", { class: "k-code-cell" + (ch ? " is-filled" : "") + (i === S.typed.length ? " is-next" : "") }, [ch || " "]));
      if (i === LEN / 2 - 1) { box.appendChild(el("span", { class: "k-code-gap", "aria-hidden": "true" }, ["–"])); }
    }
    box.setAttribute("data-code", S.typed);
    var ok = $("key-ok");
    if (ok) { ok.disabled = S.typed.length !== LEN || S.busy; }
    var del = $("key-delete");
    if (del) { del.disabled = !S.typed.length; }
  }

  function openKeypad() {
    S.typed = "";
    renderCode();
    K.show("checkin");
  }

  // -- the scanner -----------------------------------------------------------------------

  /* The code in what a scanner typed: the code itself, or the booking page's link /b/<code>. */
  function codeFrom(text) {
    var s = String(text || "").trim();
    var m = /\/b\/([^\/?#\s]+)/i.exec(s);
    if (m) { s = m[1]; }
    return s.toUpperCase().replace(/[\s\-]/g, "");
  }
  function isCode(code) {
    return code.length === LEN && code.split("").every(function (c) { return ALPHABET.indexOf(c) >= 0; });
  }

  function onKey(e) {
    var target = e.target;
    // The technician's pairing field is typed into, not scanned.
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) { return; }
    var now = e.timeStamp || performance.now();
    if (e.key === "Enter") {
      var fast = S.scanBuf.length >= LEN && now - S.scanLast <= GAP;
      var text = S.scanBuf;
      S.scanBuf = "";
      if (!fast) { return; }
      // A scan: its Enter must not also press the button that has the focus.
      e.preventDefault(); e.stopPropagation();
      scanned(text);
      return;
    }
    if (!e.key || e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) { return; }  // Shift keeps the burst
    if (now - S.scanLast > GAP) { S.scanBuf = ""; }
    S.scanBuf = (S.scanBuf + e.key).slice(-300);
    S.scanLast = now;
  }

  function scanned(text) {
    if (!cfg.token || !K.state.device || K.state.screen === "pair" || K.state.screen === "loading") { return; }
    var code = codeFrom(text);
    if (isCode(code)) { checkIn(code); }
    else { refuse({ title: "r_unknown_title", text: "r_unreadable", normal: null, retry: true }); }
  }

  // -- checking in -------------------------------------------------------------------------

  /* One booking, one ticket: a retry of the same code reuses its Idempotency-Key, so a
   * check-in that reached the server before the network failed is answered, not repeated. */
  function checkIn(code) {
    if (S.busy) { return; }
    if (!S.pending || S.pending.code !== code) { S.pending = { code: code, key: G.newKey() }; }
    S.busy = true; document.body.classList.add("is-busy"); renderCode();
    K.notice(tr(G.lang, "checking_in"), "busy");
    var path = "/api/v1/bookings/" + encodeURIComponent(code) + "/check-in";
    var attempt = function (n) {
      G.api("POST", path, null, { "Idempotency-Key": S.pending.key }).then(function (r) {
        if (r.offline && n < 2 && G.online) { setTimeout(function () { attempt(n + 1); }, 600); return; }
        S.busy = false; document.body.classList.remove("is-busy"); K.hideNotice();
        if (r.ok) {
          S.pending = null; S.typed = "";
          K.showTicket(r.data);
        } else if (r.offline) {
          refuse({ title: "r_offline_title", text: "r_offline", retry: true });  // the key is kept
        } else if (r.status === 401) {
          K.unpair(true);
        } else {
          S.pending = null;
          refusal(code, r);
        }
        renderCode();
      });
    };
    attempt(0);
  }

  /* What the booking says about itself (its time, its service), for a refusal's sentence. */
  function bookingOf(code, err) {
    return G.api("GET", "/api/v1/bookings/" + encodeURIComponent(code)).then(function (r) {
      return r.ok ? r.data : null;
    });
  }

  function refusal(code, r) {
    var err = r.error || {}, c = err.code;
    if (r.status === 429) { refuse({ title: "r_limited_title", text: "r_limited", retry: true }); return; }
    if (r.status === 404) { refuse({ title: "r_unknown_title", text: "r_unknown", normal: true, retry: true }); return; }
    bookingOf(code, err).then(function (b) {
      var start = (b && b.start) || null;
      var sid = (b && b.service_id) || null;
      if (c === "not_today" && b && b.status === "missed") {
        // A day gone by: the booking is of no use now, a normal number is.
        refuse({ title: "r_not_today_title", text: "r_not_today_past", normal: sid || true,
                 vars: function (l) { return { date: dateIn(l, start), time: timeIn(l, start) }; } });
      } else if (c === "not_today") {
        refuse({ title: "r_not_today_title", text: start ? "r_not_today" : "r_not_today_nodate",
                 vars: function (l) { return { date: dateIn(l, start), time: timeIn(l, start) }; } });
      } else if (c === "too_early") {
        var opens = (b && b.check_in_from) || null;
        refuse({ title: "r_too_early_title", text: start && opens ? "r_too_early" : "r_too_early_notime",
                 vars: function (l) { return { time: timeIn(l, start), opens: timeIn(l, opens) }; } });
      } else if (c === "too_late" || c === "booking_missed") {
        refuse({ title: "r_too_late_title", text: start ? "r_too_late" : "r_too_late_notime", normal: sid || true,
                 vars: function (l) { return { time: timeIn(l, start) }; } });
      } else if (c === "service_closed") {
        refuse({ title: "r_closed_title", text: "r_closed" });
      } else if (c === "booking_cancelled") {
        refuse({ title: "r_cancelled_title", text: "r_cancelled", normal: sid || true });
      } else if (c === "already_checked_in") {
        var at = (b && b.checked_in_at) || null;
        refuse({ title: "r_already_title", text: at ? "r_already" : "r_already_notime",
                 vars: function (l) { return { time: timeIn(l, at) }; } });
      } else {
        refuse({ title: "r_other_title", text: "r_other", normal: sid || true, detail: err.message });
      }
    });
  }

  // -- the refusal screen --------------------------------------------------------------------

  function refuse(result) {
    S.result = result;
    K.show("checkin-result");
    renderResult();
    var left = cfg.ticket_s || 30;
    clearInterval(timers.countdown);
    var tick = function () {
      $("result-countdown").textContent = tr(G.lang, "returning", { n: left });
      if (left-- <= 0) { clearInterval(timers.countdown); if (K.state.screen === "checkin-result") { K.reset(); } }
    };
    tick();
    timers.countdown = setInterval(tick, 1000);
  }

  function renderResult() {
    var res = S.result;
    if (!res) { return; }
    var lang = G.lang, second = other(lang);
    var vars = function (l) { return res.vars ? res.vars(l) : {}; };
    $("checkin-result").setAttribute("data-refusal", res.title.replace(/^r_|_title$/g, ""));
    $("result-title").textContent = tr(lang, res.title, vars(lang));
    $("result-text").textContent = tr(lang, res.text, vars(lang)) + (res.detail && lang === "en" ? " (" + res.detail + ")" : "");
    $("result-other").lang = second;
    $("result-other-title").textContent = tr(second, res.title, vars(second));
    $("result-other-text").textContent = tr(second, res.text, vars(second));
    $("result-normal").hidden = !res.normal;
    $("result-retry").hidden = !res.retry;
  }

  /* The normal ticket of the booking's service, when this kiosk offers it; else the start. */
  function takeNormal() {
    var sid = S.result && S.result.normal, s = typeof sid === "number" ? K.byId(K.state.services, sid) : null;
    var agencies = K.state.device && K.state.device.agency_ids;
    clearInterval(timers.countdown);
    if (s && (!agencies || agencies.indexOf(s.agency_id) >= 0)) {
      K.state.agencyId = s.agency_id; K.state.serviceId = s.id;
      K.show("choose");
    } else {
      K.reset();
    }
  }

  // -- idle, entry button, language ----------------------------------------------------------

  function mine() { return MY_SCREENS.indexOf(K.state.screen) >= 0; }

  /* The check-in screens go back to the start when nobody touches them, like the others. */
  function touched() {
    clearTimeout(timers.idle);
    if (K.state.screen === "checkin") {
      timers.idle = setTimeout(function () { if (K.state.screen === "checkin") { K.reset(); } }, (cfg.idle_s || 60) * 1000);
    }
  }

  function screenChanged() {
    if (K.state.screen !== "checkin-result") { clearInterval(timers.countdown); S.result = null; }
    if (!mine()) { clearTimeout(timers.idle); } else { touched(); }
    renderEntry();
  }

  /* "I have a booking" shows while a service of this kiosk's agencies takes bookings. */
  function renderEntry() {
    var agencies = K.state.device && K.state.device.agency_ids;
    var takes = (S.bookable || []).some(function (s) { return !agencies || agencies.indexOf(s.agency_id) >= 0; });
    $("booking-entry").hidden = !takes;
  }
  function loadBookable() {
    G.api("GET", "/api/v1/booking/services").then(function (r) {
      if (r.ok) { S.bookable = r.data; renderEntry(); }
    });
  }

  buildKeypad();
  renderCode();
  loadBookable();
  setInterval(loadBookable, 5 * 60000);  // an admin switching bookings on shows within minutes
  $("booking-entry").addEventListener("click", openKeypad);
  $("checkin-back").addEventListener("click", function () { K.reset(); });
  $("result-retry").addEventListener("click", function () { clearInterval(timers.countdown); openKeypad(); });
  $("result-start").addEventListener("click", function () { K.reset(); });
  $("result-normal").addEventListener("click", takeNormal);
  $("lang-switch").addEventListener("click", function () { renderResult(); });
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("pointerdown", function () { if (mine()) { touched(); } }, true);
  new MutationObserver(screenChanged).observe(document.body, { attributes: true, attributeFilter: ["data-screen"] });

  window.KioskCheckin = { state: S, renderTicket: renderTicket, checkIn: checkIn, codeFrom: codeFrom };
  if (K.state.ticket) { renderTicket(K.state.ticket); }
})();
