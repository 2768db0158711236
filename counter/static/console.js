/* The officer's console: one counter, one keystroke per action.
 * window.GILIRAN: {counter_id, counter, agency, services, user, no_show_rules, finish_min_called_s,
 *                 server_ms, pause_reasons}.
 * Rules: one request at a time (buttons disable while it is in flight), nothing is sent
 * while offline, and the screen always comes back to the server's state (snapshot). */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t, el = G.el;
  var C = cfg.counter_id;
  var rules = cfg.no_show_rules;
  var hold = cfg.finish_min_called_s || 0;   // the server's finish guard (db/tickets.py)
  var S = {
    counter: cfg.counter, waiting: [], services: {}, stats: null, busy: false,
    retry: null                           // {action, key, ticketId}: a request whose fate is unknown
  };
  cfg.services.forEach(function (s) { S.services[s.id] = s; });
  var $ = G.$;
  var buttons = {};
  document.querySelectorAll("[data-action]").forEach(function (b) {
    buttons[b.getAttribute("data-action")] = b;
    b.addEventListener("click", function () { b.blur(); trigger(b.getAttribute("data-action")); });
  });

  function ticket() { return S.counter && S.counter.ticket; }
  function secondsSince(iso) { return iso ? Math.max(0, (G.now() - Date.parse(iso)) / 1000) : 0; }
  function say(text, kind) { var m = $("msg"); m.textContent = text || ""; m.className = "msg " + (kind || ""); }

  /* After a finish: the SKM survey of that ticket, for a tablet facing the citizen (a second window). */
  function offerSurvey(ticket) {
    $("msg").appendChild(document.createTextNode(" "));
    $("msg").appendChild(G.el("a", { href: "/survey/" + encodeURIComponent(ticket.code) + "?from=counter",
      target: "giliran-survey", "class": "survey-link", text: t("survey_link", { number: ticket.number }) }));
  }
  /* A wait or a service time in words: "12 mnt", "1 jam 5 mnt". */
  function durationText(s) {
    var m = Math.floor(s / 60);
    if (m < 60) { return t("dur_min", { m: m }); }
    return t("dur_hour", { h: Math.floor(m / 60), m: m % 60 });
  }
  function clockText(s) {
    s = Math.floor(s);
    var mm = Math.floor(s / 60), ss = s % 60;
    return (mm < 10 ? "0" : "") + mm + ":" + (ss < 10 ? "0" : "") + ss;
  }
  function serviceName(id) { var s = S.services[id]; return s ? s.name : ""; }
  function prioText(kind) { return t("prio_" + (kind || "lainnya")); }
  /* The server's own message stands in for a code this page has no sentence for. */
  function errorText(err) { return G.errorText(err, err && err.message); }

  /* Why an action cannot run now (a sentence), or null when it can. */
  function blocked(action) {
    var c = S.counter, tk = ticket();
    if (!c) { return t("error_generic"); }
    if (action === "pause") { return c.state === "closed" ? t("hint_closed") : null; }
    if (action === "close") { return c.state === "closed" ? t("hint_closed") : null; }
    if (c.state === "closed") { return t("hint_closed"); }
    if (c.state === "paused" && (action === "next" || action === "finishnext" || action === "callnum")) {
      return t("hint_paused");
    }
    switch (action) {
      case "next": case "callnum": return tk ? t("hint_busy") : null;
      case "recall": case "start":
        if (!tk) { return t("hint_no_ticket"); }
        return tk.status === "called" ? null : t("hint_not_called");
      case "finish": return finishBlock();
      case "transfer": return tk ? null : t("hint_no_ticket");
      case "finishnext": return tk ? finishBlock() : null;
      case "noshow": return noShowBlock();
    }
    return null;
  }

  /* The server's finish guard: a ticket only called (not started) is held `hold` seconds
   * before F4/F6 may finish it, so a double F6 never finishes the ticket it just called. */
  function finishBlock() {
    var tk = ticket();
    if (!tk) { return t("hint_no_ticket"); }
    if (tk.status !== "called" || !hold) { return null; }
    var left = Math.ceil(hold + 1 - secondsSince(tk.called_at));
    return left > 0 ? t("finish_wait", { s: left }) : null;
  }

  /* The standing line under the buttons: why finish or no-show are not offered yet. */
  function guardText() {
    if (!ticket()) { return ""; }
    return [finishBlock(), noShowBlock()].filter(Boolean).join("\n");
  }

  /* The console's no-show guard: the configured rules, or its defaults. */
  function noShowBlock() {
    var tk = ticket();
    if (!tk) { return t("hint_no_ticket"); }
    if (tk.status !== "called") { return t("ns_needs_called"); }
    if (tk.call_count < rules.min_calls) { return t("ns_calls", { n: rules.min_calls, c: tk.call_count }); }
    // called_at is whole seconds (truncated): count from the latest moment it can mean.
    var left = Math.ceil(rules.min_wait_s + 1 - secondsSince(tk.called_at));
    return left > 0 ? t("ns_wait", { s: left }) : null;
  }

  // -- talking to the server ---------------------------------------------------

  /* POST one counter action. Never retried by itself; a repeat of an action whose answer
   * was lost reuses its Idempotency-Key, so the server answers instead of acting twice. */
  function send(action, path, body, done) {
    if (S.busy) { return; }
    if (!G.online) { say(t("error_offline"), "bad"); return; }
    var tk = ticket(), tid = tk ? tk.id : null;
    var key = (S.retry && S.retry.action === action && S.retry.ticketId === tid) ? S.retry.key : G.newKey();
    S.busy = true; render();
    G.api("POST", "/api/v1/counters/" + C + "/" + path, body || {}, { "Idempotency-Key": key })
      .then(function (r) {
        S.busy = false;
        if (r.offline) {
          S.retry = { action: action, key: key, ticketId: tid };
          say(t("error_unsure"), "bad");
        } else {
          S.retry = null;
          if (r.ok) { done(r); } else { say(errorText(r.error), "bad"); refresh(); }
          if (r.status === 401) { location.href = "/counter?next=" + encodeURIComponent(location.pathname); }
        }
        render();
      });
  }

  function keepTicket(data) {
    if (data && data.counter_id === C && (data.status === "called" || data.status === "serving")) {
      S.counter.ticket = data;
    } else {
      S.counter.ticket = null;
    }
  }

  function callDone(r) {
    if (r.status === 204) { keepTicket(null); say(t("nobody_waiting")); }
    else { keepTicket(r.data); S.counter.state = "open"; say(t("msg_called", { number: r.data.number }), "ok"); }
    loadStats();
  }

  var ACTIONS = {
    next: function () { send("next", "call-next", { finish_current: false }, callDone); },
    finishnext: function () { send("finishnext", "call-next", { finish_current: true }, callDone); },
    recall: function () { send("recall", "recall", null, function (r) { keepTicket(r.data); say(t("msg_called", { number: r.data.number }), "ok"); }); },
    start: function () { send("start", "start", null, function (r) { keepTicket(r.data); say(""); }); },
    finish: function (then) {
      send("finish", "finish", null, function (r) {
        keepTicket(null); say(t("msg_done", { number: r.data.number }), "ok"); loadStats();
        offerSurvey(r.data);
        if (then) { then(); }
      });
    },
    noshow: function (then) {
      send("noshow", "no-show", null, function (r) {
        keepTicket(null); say(t("msg_no_show", { number: r.data.number }), "ok"); loadStats();
        if (then) { then(); }
      });
    },
    transfer: function () { window.ConsoleDialogs.transfer(); },
    callnum: function () { window.ConsoleDialogs.callNumber(); },
    pause: function () {
      if (S.counter.state === "paused") { openCounter(t("msg_resumed")); }
      else { window.ConsoleDialogs.pause(); }
    },
    close: function () { window.ConsoleDialogs.close(); }
  };

  function openCounter(message) {
    send("open", "open", null, function (r) { S.counter = r.data; say(message, "ok"); });
  }

  /* A refused press: said once. A reason the standing guard line already shows is not
   * repeated in the message line; the guard line flashes instead. */
  function refuse(why) {
    var line = $("noshow-why");
    if (line.textContent && line.textContent.indexOf(why) >= 0) {
      line.classList.remove("flash"); void line.offsetWidth; line.classList.add("flash");
      return;
    }
    say(why, "warn");
  }

  function trigger(action) {
    if (S.busy) { return; }
    if (!G.online) { say(t("error_offline"), "bad"); return; }
    var why = blocked(action);
    if (why) { refuse(why); return; }
    ACTIONS[action]();
  }

  // -- reading -----------------------------------------------------------------

  function loadWaiting() {
    G.api("GET", "/api/v1/counters/" + C + "/waiting").then(function (r) {
      if (r.ok) { S.waiting = r.data; renderWaiting(); document.body.setAttribute("data-synced", "1"); }
    });
  }
  var waitingTimer = null;
  function loadWaitingSoon() {
    // Bursts of queue_changed (a kiosk rush) become one request.
    if (waitingTimer) { return; }
    waitingTimer = setTimeout(function () { waitingTimer = null; loadWaiting(); }, 150);
  }
  function loadStats() {
    G.api("GET", "/api/v1/counters/" + C + "/stats").then(function (r) {
      if (r.ok) { S.stats = r.data; renderStats(); }
    });
  }
  function refresh() {
    G.api("GET", "/api/v1/counters/" + C).then(function (r) { if (r.ok) { S.counter = r.data; render(); } });
    loadWaiting();
  }

  // -- drawing -----------------------------------------------------------------

  function render() {
    var c = S.counter, tk = ticket();
    var chip = $("state-chip");
    chip.textContent = t("state_" + c.state);
    chip.className = "chip " + c.state;
    $("current-ticket").hidden = !tk;
    $("current-empty").hidden = !!tk || c.state !== "open";
    $("current-closed").hidden = c.state !== "closed" || !!tk;
    $("pause-band").hidden = c.state !== "paused";
    $("pause-text").textContent = c.state === "paused"
      ? t("paused_since", { reason: c.pause_reason || "", time: G.formatTime(c.since) }) : "";
    $("pause-label").textContent = c.state === "paused" ? t("btn_resume") : t("btn_pause");
    $("btn-open").disabled = S.busy || !G.online;
    if (tk) {
      $("t-number").textContent = tk.number;
      $("t-service").textContent = serviceName(tk.service_id);
      $("t-priority").hidden = !tk.priority;
      $("t-priority").textContent = tk.priority ? prioText(tk.priority_kind) : "";
      $("t-status").textContent = tk.status === "serving" ? t("status_serving") : t("status_called", { n: tk.call_count });
      $("current").className = "current card " + tk.status;
    } else {
      $("current").className = "current card" + (c.state === "paused" ? " paused-empty" : "");
    }
    if (window.ConsoleBookings) { window.ConsoleBookings.current(tk); }  // a booking's slot and name
    Object.keys(buttons).forEach(function (a) {
      buttons[a].disabled = S.busy || !G.online || !!blocked(a);
    });
    document.body.classList.toggle("busy", S.busy);
    tick();
    renderWaiting();
  }

  /* Once a second: the timers, and the finish and no-show guards' countdowns. */
  function tick() {
    var tk = ticket();
    if (tk) {
      var waited = tk.called_at ? (Date.parse(tk.called_at) - Date.parse(tk.issued_at)) / 1000 : secondsSince(tk.issued_at);
      $("t-waited").textContent = durationText(Math.max(0, waited));
      $("t-at").textContent = clockText(secondsSince(tk.called_at));
    }
    $("noshow-why").textContent = guardText();
    ["noshow", "finish", "finishnext"].forEach(function (a) {
      buttons[a].disabled = S.busy || !G.online || !!blocked(a);
    });
  }

  function renderWaiting() {
    var list = $("waiting-list"), shown = S.waiting.slice(0, 40);
    var mine = S.counter.service_ids || [];
    $("waiting-title").textContent = t("waiting_title", { n: S.waiting.length });
    G.clear(list);
    if (!S.waiting.length) { list.appendChild(el("li", { class: "empty muted", text: t("waiting_empty") })); }
    shown.forEach(function (w) {
      list.appendChild(el("li", { class: w.priority ? "prio" : "", "data-number": w.number }, [
        el("span", { class: "w-number", text: w.number }),
        el("span", { class: "w-service", text: mine.length > 1 ? serviceName(w.service_id) : "" }),
        w.priority ? el("span", { class: "priority-mark", text: prioText(w.priority_kind) })
          : (window.ConsoleBookings ? window.ConsoleBookings.mark(w) : null),
        el("span", { class: "w-wait", "data-issued": w.issued_at, text: durationText(secondsSince(w.issued_at)) }),
        el("button", { type: "button", class: "w-cancel", "data-ticket": w.id, "data-number": w.number,
                       title: t("w_cancel_label", { number: w.number }),
                       "aria-label": t("w_cancel_label", { number: w.number }), text: t("w_cancel") })
      ]));
    });
    if (S.waiting.length > shown.length) {
      list.appendChild(el("li", { class: "more muted", text: t("waiting_more", { n: S.waiting.length - shown.length }) }));
    }
  }

  /* Every second: the waits in the list tick in place (rebuilding the list would swallow a click). */
  function tickWaiting() {
    $("waiting-list").querySelectorAll(".w-wait[data-issued]").forEach(function (s) {
      s.textContent = durationText(secondsSince(s.getAttribute("data-issued")));
    });
  }

  function renderStats() {
    var f = (S.stats && S.stats.me) || (S.stats && S.stats.counter);
    if (!f) { return; }
    $("s-served").textContent = f.served;
    $("s-noshows").textContent = f.no_shows;
    $("s-median").textContent = f.median_service_s === null ? "–" : clockText(f.median_service_s);
  }

  // -- keys --------------------------------------------------------------------

  var KEYS = { F1: "next", " ": "next", F2: "recall", F3: "start", F4: "finish", F5: "noshow",
               F6: "finishnext", F7: "transfer", F8: "callnum", F9: "pause", F10: "close" };
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }
  document.addEventListener("keydown", function (e) {
    // F-keys never reach the browser (F5 would reload, F1 open help), even in a dialog.
    if (/^F([1-9]|10)$/.test(e.key)) { e.preventDefault(); }
    if (document.querySelector("dialog[open]")) { return; }
    if (e.key === " " && typing(e.target)) { return; }
    if (e.key === "Enter" && S.counter.state === "closed" && !ticket()) {
      e.preventDefault();
      if (!e.repeat) { openCounter(t("msg_resumed")); }
      return;
    }
    var action = KEYS[e.key];
    if (!action || e.ctrlKey || e.altKey || e.metaKey) { return; }
    e.preventDefault();
    if (!e.repeat) { trigger(action); }  // a held key is one press
  });
  // A focused button would also "click" on Space's keyup.
  document.addEventListener("keyup", function (e) {
    if (e.key === " " && !typing(e.target)) { e.preventDefault(); }
  });
  $("btn-open").addEventListener("click", function () { openCounter(t("msg_resumed")); });
  $("logout").addEventListener("click", function () {
    G.api("POST", "/api/v1/auth/logout").then(function () { location.href = "/counter"; });
  });

  // -- live --------------------------------------------------------------------

  G.live({}, {
    snapshot: function (snap) {
      var mine = (snap.counters || []).filter(function (c) { return c.id === C; })[0];
      if (mine) { S.counter = mine; }
      (snap.services || []).forEach(function (s) { S.services[s.id] = s; });
      render(); loadWaiting(); loadStats();
    },
    counter_changed: function (c) { if (c.id === C) { S.counter = c; render(); } },
    ticket_changed: function (tk) {
      var held = ticket();
      if (held && held.id === tk.id) { keepTicket(tk); render(); }
    },
    queue_changed: function (q) {
      if ((S.counter.service_ids || []).indexOf(q.service_id) >= 0) { loadWaitingSoon(); }
      if (window.ConsoleBookings) { window.ConsoleBookings.changed(q.service_id); }
    },
    booking_changed: function (ev) {  // booked, cancelled, missed: the day's bookings panel (bookings.js)
      if (window.ConsoleBookings && ev.booking) { window.ConsoleBookings.changed(ev.booking.service_id); }
    },
    online: function (on) { if (!on) { document.body.removeAttribute("data-synced"); } render(); },
    connect_error: function (err) {
      // The session ended (logout elsewhere, password reset, deactivated): back to the login.
      if (err && err.message === "not_authenticated") {
        location.href = "/counter?next=" + encodeURIComponent(location.pathname);
      }
    }
  });

  window.Console = { S: S, send: send, say: say, render: render, actions: ACTIONS, blocked: blocked,
                     serviceName: serviceName, errorText: errorText, openCounter: openCounter, loadStats: loadStats,
                     loadWaiting: loadWaiting };
  render();
  setInterval(function () { tick(); tickWaiting(); }, 1000);
})();
