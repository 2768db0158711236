/* The live board: every queue (waits past target in red), every counter and its officer, printers
 * in trouble. Refreshed on every websocket event; the waits tick locally between events. */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;
  var state = { data: null, timer: null };

  function waitedS(s) {
    if (!s.oldest_queued_at) { return 0; }
    return Math.max(0, (G.now() - Date.parse(s.oldest_queued_at)) / 1000);
  }

  function queues(data) {
    var rows = data.services;
    var table = A.table([
      { label: t("agency"), cell: function (s) { return s.agency_code; } },
      { label: t("g_service"), cell: function (s) {
        if (s.counter_count) { return s.prefix + " · " + s.name; }
        return el("span", {}, [s.prefix + " · " + s.name + " ",
          el("span", { class: "a-warn", "data-warn": "no-counter", text: "⚠ " + t("no_counter_warn") })]); } },
      { label: t("waiting"), cls: "num", cell: function (s) { return el("strong", { text: String(s.waiting) }); } },
      { label: t("longest_wait"), cls: "num", cell: function (s) {
        return el("span", { class: "a-wait", "data-service": s.id }, [s.waiting ? A.minutesSeconds(waitedS(s)) : "–"]); } },
      { label: t("target"), cls: "num", cell: function (s) { return t("minutes", { n: s.target_wait_min }); } },
      { label: t("served_today"), cls: "num", cell: function (s) { return s.served_today; } }
    ], rows, function (s) { return "a-queue" + (s.waiting && waitedS(s) > s.target_wait_min * 60 ? " late" : ""); });
    table.id = "board-queues";
    table.querySelectorAll("tbody tr").forEach(function (tr, i) { if (rows[i]) { tr.setAttribute("data-service", rows[i].id); } });
    return table;
  }

  function counters(data) {
    return el("div", { class: "a-counters", id: "board-counters" }, data.counters.map(function (c) {
      return el("div", { class: "a-counter card state-" + c.state, "data-counter": c.id }, [
        el("div", { class: "a-counter-head" }, [el("strong", { text: c.agency_code + " " + c.number }),
                                                 el("span", { class: "a-pill", text: t("state_" + c.state) })]),
        el("div", { class: "muted", text: c.officer || "–" }),
        el("div", { class: "a-counter-ticket", text: c.ticket_number || (c.pause_reason || "") })]);
    }));
  }

  function printers(data) {
    var bad = data.printers.filter(function (p) { return p.trouble; });
    if (!bad.length) { return el("p", { class: "a-ok", id: "board-printers", text: t("printers_ok") }); }
    return el("ul", { class: "a-trouble", id: "board-printers" }, bad.map(function (p) {
      return el("li", {}, [el("strong", { text: p.name }), " — " + t("pst_" + p.status) + (p.status_detail ? " (" + p.status_detail + ")" : "")]);
    }));
  }

  function render(main) {
    var d = state.data, p = A.page(main, t("nav_board"));
    p.bar.appendChild(el("span", { class: "muted", id: "board-updated", text: t("updated_at", { time: G.formatTime(d.now) }) }));
    p.body.appendChild(el("section", { class: "a-board" }, [
      el("div", { class: "a-board-main" }, [el("h2", { text: t("board_queues") }), queues(d)]),
      el("div", { class: "a-board-side" }, [el("h2", { text: t("board_printers") }), printers(d),
                                            el("h2", { text: t("board_counters") }), counters(d)])]));
  }

  /* Between events only the clock moves: update the waits and the red rows. */
  function tick() {
    if (!state.data) { return; }
    state.data.services.forEach(function (s) {
      var row = document.querySelector("#board-queues tr[data-service='" + s.id + "']");
      if (!row) { return; }
      var waited = waitedS(s);
      row.querySelector(".a-wait").textContent = s.waiting ? A.minutesSeconds(waited) : "–";
      row.classList.toggle("late", !!s.waiting && waited > s.target_wait_min * 60);
    });
  }

  function refresh(main) {
    return G.api("GET", "/api/v1/board").then(function (res) {
      if (!res.ok) { return; }
      state.data = res.data;
      G.syncClock(res.data.now);
      render(main);
    });
  }

  A.views.board = function (main) {
    var pending = null;
    function soon() {
      if (pending) { return; }
      pending = setTimeout(function () { pending = null; refresh(main); }, 250);
    }
    refresh(main);
    G.live({}, { snapshot: soon, queue_changed: soon, counter_changed: soon, ticket_changed: soon,
                 printer_status: soon, services_changed: soon,
                 online: function (on) { if (on) { soon(); } },
                 // The session ended (password reset, deactivated): the login page.
                 connect_error: function (err) { if (err && err.message === "not_authenticated") { location.href = "/admin"; } } });
    setInterval(tick, 1000);
    setInterval(soon, 60000);
  };
})();
