/* The kiosk touchscreen: agency -> service -> normal or priority -> the ticket.
 * Paired once with `?token=` (kept in localStorage, removed from the address). */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, el = G.el, t = G.t;
  var TOKEN_KEY = "giliran.kiosk.token";
  var state = {
    device: null, agencies: [], services: [], counters: [], agencyId: null, serviceId: null,
    screen: null, ticket: null, busy: false, pendingKey: null, pendingFor: null, socket: null,
    reach: false,
    // Print outcomes heard for tickets this kiosk has not shown yet: a fast printer can
    // finish before the ticket's own answer arrives (ticket id -> print_status, a few kept).
    earlyPrints: {}
  };
  var timers = { idle: null, refresh: null, countdown: null, notice: null, printPoll: null };
  var $ = G.$;

  // -- screens -----------------------------------------------------------------

  function show(name) {
    state.screen = name;
    document.querySelectorAll(".k-screen").forEach(function (s) { s.hidden = s.id !== "screen-" + name; });
    document.body.setAttribute("data-screen", name);
    render();
    window.scrollTo(0, 0);
    touched();
  }

  function startScreen() {
    var agencies = visibleAgencies();
    if (agencies.length === 1) { state.agencyId = agencies[0].id; return "services"; }
    return "agencies";
  }

  /* Back to the start, in Indonesian: after a ticket, or when nobody touched the screen. */
  function reset() {
    clearInterval(timers.countdown); clearTimeout(timers.printPoll);
    setReach(false);
    state.ticket = null; state.serviceId = null; state.pendingKey = null; state.pendingFor = null;
    hideNotice();
    setLang("id");
    show(startScreen());
  }

  function touched() {
    clearTimeout(timers.idle);
    if (state.screen === "services" || state.screen === "choose" ||
        (state.screen === "agencies" && (G.lang !== "id" || state.reach))) {
      timers.idle = setTimeout(reset, (cfg.idle_s || 60) * 1000);
    }
  }

  // -- data --------------------------------------------------------------------

  function visibleAgencies() {
    var ids = state.device && state.device.agency_ids;
    return state.agencies.filter(function (a) { return !ids || ids.indexOf(a.id) >= 0; });
  }
  function servicesOf(agencyId) {
    return state.services.filter(function (s) { return s.agency_id === agencyId; });
  }
  function byId(list, id) { return list.filter(function (x) { return x.id === id; })[0] || null; }

  function counterGroup(serviceId) {
    var nums = state.counters.filter(function (c) { return (c.service_ids || []).indexOf(serviceId) >= 0; })
      .map(function (c) { return c.number; }).sort(function (a, b) { return a - b; });
    if (!nums.length) { return ""; }
    var parts = [], from = nums[0], prev = nums[0];
    nums.slice(1).concat([null]).forEach(function (n) {
      if (n === prev + 1) { prev = n; return; }
      parts.push(from === prev ? String(from) : from + "–" + prev);
      from = prev = n;
    });
    return t("counter_group", { list: parts.join(", ") });
  }

  function closedReason(s) {
    var h = s.today_hours || [];
    if (s.closed_reason === "before_hours" && !h[0]) { return t("reason_before_hours_unknown"); }
    return t("reason_" + s.closed_reason, { opens: hhmm(h[0]), closes: hhmm(h[1]) });
  }

  /* "08:00" -> "08.00", as Indonesia writes the time. */
  function hhmm(text) { return text ? text.replace(":", ".") : ""; }

  /* A closed service's hours today ("Buka 08.00–12.00"), when it has any. */
  function hoursText(s) {
    var h = s.today_hours;
    if (!h || (!h[0] && !h[1]) || ["before_hours", "after_hours"].indexOf(s.closed_reason) < 0) { return ""; }
    return t("open_hours", { hours: (hhmm(h[0]) || "00.00") + "–" + (hhmm(h[1]) || "24.00") });
  }

  /* Why the estimate is longer than the people ahead suggest: one sentence, or "". */
  function waitStory(ahead, others, estimate) {
    if (others > 0) { return others === 1 ? t("others_1") : t("others_n", { n: others }); }
    if (!ahead && estimate >= 60) { return t("counter_busy_now"); }
    return "";
  }

  function loadAll() {
    return Promise.all([G.api("GET", "/api/v1/me/device"), G.api("GET", "/api/v1/agencies"),
                        G.api("GET", "/api/v1/services"), G.api("GET", "/api/v1/counters")])
      .then(function (rs) {
        if (rs[0].status === 401) { unpair(true); return false; }
        if (!rs.every(function (r) { return r.ok; })) { return null; }
        state.device = rs[0].data; state.agencies = rs[1].data;
        state.services = rs[2].data; state.counters = rs[3].data;
        return true;
      });
  }

  /* Queue counts change often; fetch the full figures (quota, estimate) at most every 300 ms. */
  function scheduleRefresh(withCounters) {
    if (timers.refresh) { return; }
    timers.refresh = setTimeout(function () {
      timers.refresh = null;
      var calls = [G.api("GET", "/api/v1/services")];
      if (withCounters) { calls.push(G.api("GET", "/api/v1/counters")); }
      Promise.all(calls).then(function (rs) {
        if (rs[0].ok) { state.services = rs[0].data; }
        if (rs[1] && rs[1].ok) { state.counters = rs[1].data; }
        render();
      });
    }, 300);
  }

  // -- rendering ---------------------------------------------------------------

  function textOn(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(hex || "");
    if (!m) { return "#fff"; }
    var n = parseInt(m[1], 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? "#0d1b2a" : "#fff";
  }

  function openBadge(isOpen) {
    return el("span", { class: "k-state " + (isOpen ? "is-open" : "is-closed") },
              [(isOpen ? "✓ " : "✕ ") + t(isOpen ? "open" : "closed")]);
  }

  function renderAgencies() {
    var box = $("agencies"); G.clear(box);
    visibleAgencies().forEach(function (a) {
      var svcs = servicesOf(a.id), open = svcs.filter(function (s) { return s.is_open; }).length;
      var color = a.color || "#0b4f9c";
      box.appendChild(el("button", {
        type: "button", class: "k-agency" + (open ? "" : " is-closed"), "data-agency": a.code,
        style: "--agency:" + color, onclick: function () { state.agencyId = a.id; show("services"); }
      }, [
        el("span", { class: "k-logo", style: "background:" + color + ";color:" + textOn(color), "aria-hidden": "true" },
           [el("span", { class: "k-logo-text", style: "font-size:" + Math.min(1, 5 / Math.max(a.code.length, 1)) + "em" },
               [a.code.slice(0, 10)])]),
        el("span", { class: "k-agency-text" }, [
          el("span", { class: "k-agency-name" }, [a.name]),
          el("span", { class: "k-agency-state" }, [openBadge(open > 0), " ",
            el("span", { class: "k-agency-count" }, [open ? t("services_open", { n: open, m: svcs.length }) : ""])])
        ])
      ]));
    });
  }

  function fact(label, value) {
    return el("span", { class: "k-fact" }, [el("span", { class: "k-fact-label" }, [label]),
                                             el("strong", {}, [String(value)])]);
  }

  function serviceBody(s) {
    var kids = [
      el("span", { class: "k-service-head" }, [el("span", { class: "k-prefix", "aria-hidden": "true" }, [s.prefix]),
        el("span", { class: "k-service-name" }, [s.name]), openBadge(s.is_open)])
    ];
    if (s.requirements) {
      kids.push(el("span", { class: "k-req" }, [el("strong", {}, [t("requirements") + ": "]), s.requirements]));
    }
    if (s.is_open) {
      kids.push(el("span", { class: "k-facts" }, [
        fact(t("waiting"), s.waiting), fact(t("estimate"), G.formatWait(s.estimated_wait_s)),
        fact(t("quota_left"), s.quota_left === null ? t("no_quota") : s.quota_left)]));
      var story = waitStory(s.waiting, s.waiting_other_services, s.estimated_wait_s);
      if (story) { kids.push(el("span", { class: "k-hint k-story" }, [story])); }
      if (!s.open_counters) { kids.push(el("span", { class: "k-hint" }, [t("no_counter_open")])); }
    } else {
      kids.push(el("span", { class: "k-reason" }, [closedReason(s)]));
      var hours = hoursText(s);
      if (hours) { kids.push(el("span", { class: "k-hours" }, [hours])); }
    }
    return kids;
  }

  function renderServices() {
    var agency = byId(state.agencies, state.agencyId), box = $("services");
    $("agency-title").textContent = agency ? agency.name : "";
    document.querySelector("#screen-services .k-back").hidden = visibleAgencies().length <= 1;
    G.clear(box);
    servicesOf(state.agencyId).forEach(function (s) {
      if (s.is_open) {
        box.appendChild(el("button", { type: "button", class: "k-service", "data-prefix": s.prefix,
          onclick: function () { state.serviceId = s.id; show("choose"); } }, serviceBody(s)));
      } else {
        // Closed: a plain box, not a button, so there is nothing to press.
        box.appendChild(el("div", { class: "k-service is-closed", "data-prefix": s.prefix,
                                    "aria-disabled": "true" }, serviceBody(s)));
      }
    });
    if (!box.firstChild) { box.appendChild(el("p", { class: "k-big-muted" }, [t("no_services")])); }
  }

  function renderChoose() {
    var s = byId(state.services, state.serviceId), box = $("chosen");
    if (!s) { show(startScreen()); return; }
    G.clear(box);
    serviceBody(s).forEach(function (k) { box.appendChild(k); });
    var group = counterGroup(s.id);
    if (group) { box.appendChild(el("span", { class: "k-hint" }, [group])); }
    document.querySelectorAll("#take-normal, .k-prio").forEach(function (b) {
      b.disabled = !s.is_open;
    });
    var printer = state.device && state.device.printer;
    $("printer-warning").hidden = !printer || printer.status === "online";
  }

  function render() {
    if (state.screen === "agencies") { renderAgencies(); }
    else if (state.screen === "services") { renderServices(); }
    else if (state.screen === "choose") { renderChoose(); }
    else if (state.screen === "ticket") { renderTicket(); }
  }

  // -- taking a ticket ---------------------------------------------------------

  function notice(text, kind) {
    var n = $("notice");
    n.textContent = text; n.className = "k-notice " + (kind || ""); n.hidden = false;
    clearTimeout(timers.notice);
    if (kind !== "busy") { timers.notice = setTimeout(hideNotice, 8000); }
  }
  function hideNotice() { $("notice").hidden = true; }

  /* One tap = one ticket: a retry of the same choice reuses its Idempotency-Key,
   * so a request that reached the server before the network failed is not issued twice. */
  function issue(priority) {
    var s = byId(state.services, state.serviceId);
    if (state.busy || !s) { return; }
    var intent = s.id + ":" + (priority || "");
    if (state.pendingFor !== intent) { state.pendingKey = G.newKey(); state.pendingFor = intent; }
    state.busy = true; document.body.classList.add("is-busy");
    notice(t("issuing"), "busy");
    var attempt = function (n) {
      G.api("POST", "/api/v1/tickets", priority ? { service_id: s.id, priority: priority } : { service_id: s.id },
            { "Idempotency-Key": state.pendingKey }).then(function (r) {
        // Retry a dropped request (same key) only while the live connection says the server is up.
        if (r.offline && n < 2 && G.online) { setTimeout(function () { attempt(n + 1); }, 600); return; }
        state.busy = false; document.body.classList.remove("is-busy");
        if (r.ok) {
          state.pendingKey = null; state.pendingFor = null; hideNotice();
          showTicket(r.data);
        } else if (r.offline) {
          notice(t("tap_offline"), "bad");  // the key is kept for the next tap
        } else if (r.status === 401) {
          unpair(true);
        } else {
          state.pendingKey = null; state.pendingFor = null;
          var code = r.error && r.error.code;
          notice(code === "quota_exhausted" ? t("issue_quota") :
                 code === "service_closed" ? t("issue_closed") :
                 code === "no_counter" ? t("reason_no_counter") : t("error_generic"), "bad");
          scheduleRefresh(false);
        }
      });
    };
    attempt(0);
  }

  function showTicket(ticket) {
    state.ticket = ticket;
    var early = state.earlyPrints[ticket.id];
    if (early && ticket.print_status === "pending") { ticket.print_status = early; }
    state.earlyPrints = {};
    show("ticket");
    $("ticket-qr").src = "/t/" + encodeURIComponent(ticket.code) + "/qr.svg";
    var left = cfg.ticket_s || 30;
    clearInterval(timers.countdown);
    var tick = function () {
      $("ticket-countdown").textContent = t("returning", { n: left });
      if (left-- <= 0) { reset(); }
    };
    tick();
    timers.countdown = setInterval(tick, 1000);
    if (ticket.print_status === "pending") { pollPrint(ticket.code, 0); }
  }

  /* The print_status event is the fast path; a few checks cover a missed one, the first soon
   * (a citizen looks at the slot the moment the number shows). */
  function pollPrint(code, n) {
    clearTimeout(timers.printPoll);
    if (n >= 4) { return; }
    timers.printPoll = setTimeout(function () {
      G.api("GET", "/api/v1/tickets/" + encodeURIComponent(code)).then(function (r) {
        if (!state.ticket || state.ticket.code !== code) { return; }
        if (r.ok && r.data.print_status !== state.ticket.print_status) {
          state.ticket.print_status = r.data.print_status; renderTicket();
        }
        if (state.ticket.print_status === "pending") { pollPrint(code, n + 1); }
      });
    }, n === 0 ? 1500 : 5000);
  }

  function renderTicket() {
    var tk = state.ticket;
    if (!tk) { return; }
    var s = byId(state.services, tk.service_id) || {};
    $("ticket-number").textContent = tk.number;
    $("ticket-priority").hidden = !tk.priority;
    if (window.KioskCheckin) { window.KioskCheckin.renderTicket(tk); }  // the booking's mark (checkin.js)
    $("ticket-service").textContent = s.name || "";
    $("ticket-counters").textContent = counterGroup(tk.service_id);
    $("ticket-ahead").textContent = String(tk.ahead);
    $("ticket-estimate").textContent = G.formatWait(tk.estimated_wait_s);
    $("ticket-story").textContent = waitStory(tk.ahead, tk.ahead_other_services, tk.estimated_wait_s);
    $("ticket-url").textContent = shortUrl(tk.tracking_url);
    var p = $("ticket-print"), ps = tk.print_status || "none";
    p.textContent = t(ps === "pending" ? "printing" : ps === "printed" ? "printed" :
                      ps === "failed" ? "print_failed" : "print_none");
    p.className = "k-print is-" + ps;
    p.hidden = ps === "none";  // a kiosk without a printer just shows the ticket
    // No paper to take home: the citizen writes the number down or photographs it.
    $("ticket-note").hidden = ps !== "none" && ps !== "failed";
  }

  /* The tracking address as short text to copy by hand: no scheme. */
  function shortUrl(url) { return (url || "").replace(/^https?:\/\//, ""); }

  // -- reach mode: every control in the lower half, for a citizen in a wheelchair --------

  function setReach(on) {
    state.reach = !!on;
    document.body.classList.toggle("reach", state.reach);
    var b = $("reach-toggle");
    b.setAttribute("aria-pressed", state.reach ? "true" : "false");
    window.scrollTo(0, 0);
  }

  // -- language, pairing, live -------------------------------------------------

  function setLang(lang) {
    G.applyLang(lang);
    var sw = $("lang-switch");
    sw.textContent = lang === "id" ? "English" : "Bahasa Indonesia";
    sw.lang = lang === "id" ? "en" : "id";
    render();
  }

  function unpair(rejected) {
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode: nothing kept */ }
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    // Not "server lost": the server is there and refused the token; the pairing screen says so.
    if ($("offline")) { $("offline").hidden = true; }
    document.body.classList.remove("is-offline");
    cfg.token = null;
    $("pair-error").hidden = !rejected;
    $("pair-error").textContent = rejected ? t("pair_bad_token") : "";
    show("pair");
  }

  function connect() {
    state.socket = G.live({ token: cfg.token }, {
      snapshot: function (snap) {
        if (snap && snap.services) { state.services = snap.services; }
        if (snap && snap.counters) { state.counters = snap.counters; }
        render();
      },
      queue_changed: function (ev) {
        var s = byId(state.services, ev.service_id);
        if (s) { s.waiting = ev.waiting; }
        scheduleRefresh(false);
      },
      counter_changed: function () { scheduleRefresh(true); },
      // The admin added or changed a service (maybe of a new agency): agencies too.
      services_changed: function () {
        G.api("GET", "/api/v1/agencies").then(function (r) {
          if (r.ok) { state.agencies = r.data; }
          scheduleRefresh(true);
        });
      },
      print_status: function (ev) {
        if (state.ticket && ev.ticket_id === state.ticket.id) {
          state.ticket.print_status = ev.print_status; renderTicket();
        } else if (Object.keys(state.earlyPrints).length < 20) {
          state.earlyPrints[ev.ticket_id] = ev.print_status;
        }
      },
      printer_status: function (ev) {
        var p = state.device && state.device.printer;
        if (p && p.id === ev.printer_id) { p.status = ev.status; render(); }
      },
      connect_error: function (err) {
        if (err && err.message === "not_authenticated") { unpair(true); }
      }
    });
  }

  function boot(delay) {
    loadAll().then(function (ok) {
      if (ok === false) { return; }
      if (ok === null) { setTimeout(function () { boot(Math.min(delay * 2, 15000)); }, delay); return; }
      show(startScreen());
      if (!state.socket) { connect(); }
    });
  }

  function start() {
    var token = G.takeToken(TOKEN_KEY);
    if (!token) { show("pair"); return; }
    cfg.token = token;
    boot(1000);
  }

  $("pair-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var code = $("pair-code").value.trim();
    if (!code) { return; }
    try { localStorage.setItem(TOKEN_KEY, code); } catch (err) { /* kept for this page only */ }
    $("pair-code").value = "";
    cfg.token = code; show("loading"); boot(1000);
  });
  $("lang-switch").addEventListener("click", function () { setLang(G.lang === "id" ? "en" : "id"); touched(); });
  $("take-normal").addEventListener("click", function () { issue(null); });
  document.querySelectorAll(".k-prio").forEach(function (b) {
    b.addEventListener("click", function () { issue(b.getAttribute("data-priority")); });
  });
  document.querySelectorAll("[data-go]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-go")); });
  });
  $("ticket-done").addEventListener("click", reset);
  $("reach-toggle").addEventListener("click", function () { setReach(!state.reach); touched(); });
  document.addEventListener("pointerdown", touched, true);
  document.addEventListener("click", touched, true);
  // Nothing to select or zoom on a kiosk; a long press must not open a menu.
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function clock() { $("clock").textContent = G.formatTime(new Date().toISOString()); }
  clock(); setInterval(clock, 10000);
  // Opening hours pass without an event: refresh the figures every minute.
  setInterval(function () { if (cfg.token && G.online) { scheduleRefresh(true); } }, 60000);

  setLang(G.lang);
  start();
  window.Kiosk = { state: state, reset: reset, setReach: setReach };
  // For the booking check-in (checkin.js): the same screens, notices and ticket view.
  Object.assign(window.Kiosk, { show: show, showTicket: showTicket, notice: notice, hideNotice: hideNotice,
                                unpair: unpair, byId: byId });
})();
