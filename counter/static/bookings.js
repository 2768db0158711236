/* Bookings on the officer's console: the mark of a booking's ticket (its slot and name) in
 * the current ticket and the waiting list, and the day's bookings of the counter's services.
 * Loaded before console.js, which calls ConsoleBookings.current(ticket), .mark(waiting entry)
 * and .changed(service_id). window.GILIRAN: {counter, services, server_ms, tz}. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t, el = G.el;
  var B = { bookings: [], byService: {}, loaded: false, timer: null };
  var $ = G.$;
  var REFRESH_MS = 60000;  // "missed" comes with the clock, not with an event

  function serviceIds() { return (cfg.counter && cfg.counter.service_ids) || []; }
  function slotOf(x) { return x.slot_start || null; }
  function nameOf(x) { return x.booking_name || x.name || ""; }
  function today() {
    return new Date(G.now()).toLocaleDateString("en-CA", { timeZone: cfg.tz || "Asia/Jakarta" });
  }

  /* "R 09.30 · Budi S." for a booking's ticket, else null. */
  function markText(x) {
    var name = nameOf(x);
    return t("bk_mark", { time: G.formatTime(slotOf(x)) }) + (name ? " · " + name : "");
  }

  function mark(w) {
    if (!w || !w.booking_code) { return null; }
    return el("span", { class: "booking-mark", title: markText(w) }, [markText(w)]);
  }

  function current(tk) {
    var box = $("t-booking");
    if (!box) { return; }
    box.hidden = !(tk && tk.booking_code);
    G.clear(box);
    if (tk && tk.booking_code) {
      box.appendChild(el("span", { class: "booking-tag", text: t("bk_tag") }));
      box.appendChild(el("span", { class: "booking-slot", text: t("bk_slot", { time: G.formatTime(slotOf(tk)) }) }));
      if (nameOf(tk)) { box.appendChild(el("span", { class: "booking-name", text: nameOf(tk) })); }
    }
  }

  // -- the day's bookings ---------------------------------------------------------

  /* The day's bookings of the counter's services, when one of them takes bookings. */
  function load() {
    var ids = serviceIds(), day = today();
    if (!ids.length) { return; }
    G.api("GET", "/api/v1/booking/services").then(function (r) {
      var bookable = r.ok ? r.data.filter(function (s) { return ids.indexOf(s.id) >= 0; }).map(function (s) { return s.id; }) : [];
      // A service switched off today may still hold bookings made before: read every service.
      return Promise.all(ids.map(function (sid) {
        return G.api("GET", "/api/v1/bookings?date=" + day + "&service_id=" + sid);
      })).then(function (rs) { return { bookable: bookable, rs: rs }; });
    }).then(function (got) {
      var all = [];
      got.rs.forEach(function (r) { if (r.ok) { all = all.concat(r.data || []); } });
      B.loaded = true; B.takes = got.bookable.length > 0 || all.length > 0;
      B.bookings = all.sort(function (a, b) { return a.start < b.start ? -1 : a.start > b.start ? 1 : 0; });
      render();
    });
  }

  var soon = null;
  function changed(serviceId) {
    if (serviceIds().indexOf(serviceId) < 0 || soon) { return; }
    soon = setTimeout(function () { soon = null; load(); }, 400);  // a rush of check-ins: one read
  }

  function statusText(b) { return t("bk_status_" + b.status); }

  function render() {
    var box = $("bookings");
    if (!box) { return; }
    var list = $("bookings-list"), counts = { booked: 0, checked_in: 0, missed: 0 };
    var live = B.bookings.filter(function (b) { return b.status !== "cancelled"; });
    live.forEach(function (b) { if (counts[b.status] !== undefined) { counts[b.status] += 1; } });
    box.hidden = !B.takes;
    $("bookings-title").textContent = t("bk_title", { n: live.length });
    var sums = $("bookings-counts");
    G.clear(sums);
    [["booked", "due"], ["checked_in", "in"], ["missed", "missed"]].forEach(function (k) {
      sums.appendChild(el("span", { class: "bk-count bk-" + k[0], "data-count": k[0] },
                          [el("strong", { text: String(counts[k[0]]) }), " " + t("bk_count_" + k[1])]));
    });
    G.clear(list);
    if (!live.length) { list.appendChild(el("li", { class: "empty muted", text: t("bk_empty") })); return; }
    var multi = serviceIds().length > 1, svc = cfg.services || [];
    live.forEach(function (b) {
      var s = svc.filter(function (x) { return x.id === b.service_id; })[0];
      list.appendChild(el("li", { class: "bk-" + b.status, "data-code": b.code }, [
        el("span", { class: "bk-time", text: G.formatTime(b.start) }),
        el("span", { class: "bk-who" }, [nameOf(b) || b.code,
          multi && s ? el("small", { class: "muted", text: " " + s.prefix }) : null]),
        el("span", { class: "bk-state", text: statusText(b) + (b.ticket_number ? " " + b.ticket_number : "") })
      ]));
    });
    // Keep the next expected booking in view.
    var next = list.querySelector(".bk-booked");
    if (next && list.scrollHeight > list.clientHeight) { list.scrollTop = Math.max(0, next.offsetTop - list.offsetTop - 4); }
  }

  window.ConsoleBookings = { state: B, mark: mark, current: current, changed: changed, load: load };
  document.addEventListener("DOMContentLoaded", function () {
    load();
    B.timer = setInterval(load, REFRESH_MS);
  });
})();
