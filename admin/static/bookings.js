/* Online booking in the admin pages: the settings per service and the MPP-wide release delay
 * (admins), the day's bookings per service with a search by code or the phone's last digits
 * (admins and supervisors; phones and NIKs only ever masked), and the report's channel table
 * (walk-in / booking), which reports.js draws through Admin.bookingReport. */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;

  function today() {
    return new Date().toLocaleDateString("en-CA", { timeZone: (window.GILIRAN || {}).tz || "Asia/Jakarta" });
  }
  function yesNo(v) { return v ? el("span", { class: "a-ok", text: "✓ " + t("yes") }) : el("span", { class: "muted", text: t("no") }); }
  function serviceLabel(s, agencies) { return A.agencyName(agencies, s.agency_id) + " · " + s.prefix + " " + s.name; }

  // -- settings ---------------------------------------------------------------------

  var FIELDS = ["slot_minutes", "seats_per_slot", "days_ahead", "check_in_early_minutes", "check_in_late_minutes"];
  var LIMITS = { slot_minutes: [5, 480], seats_per_slot: [1, 1000], days_ahead: [0, 365],
                 check_in_early_minutes: [0, 240], check_in_late_minutes: [0, 240] };

  function settingsDefs() {
    return [{ name: "enabled", label: t("bk_enabled"), type: "checkbox" }].concat(FIELDS.map(function (f) {
      return { name: f, label: t("bk_" + f), type: "number", min: LIMITS[f][0], max: LIMITS[f][1],
               help: t("bk_" + f + "_help") };
    })).concat([{ name: "nik_required", label: t("bk_nik_required"), type: "checkbox", help: t("bk_nik_required_help") }]);
  }

  function mppForm(slot, values) {
    var defs = [{ name: "release_delay_minutes", label: t("bk_release_delay"), type: "number", min: 0, max: 1440,
                  help: t("bk_release_delay_help") },
                { name: "purge_after_days", label: t("bk_purge_after"), type: "number", min: 1, max: 3650,
                  help: t("bk_purge_after_help") }];
    var form = A.form(t("bk_mpp_title"), defs, values, function (v) {
      return G.api("PUT", "/api/v1/booking-settings", v);
    });
    form.setAttribute("data-keep", "");
    form.id = "booking-mpp";
    form.querySelector(".a-cancel").remove();
    slot.appendChild(form);
  }

  function showSettings(p, services, agencies) {
    var formSlot = el("div", { class: "a-formslot" }), tableSlot = el("div", { class: "a-scroll" });
    p.body.appendChild(el("h2", { text: t("bk_settings_title") }));
    p.body.appendChild(el("p", { class: "muted", text: t("bk_settings_note") }));
    p.body.appendChild(formSlot);
    p.body.appendChild(tableSlot);
    function refresh() {
      Promise.all(services.map(function (s) { return G.api("GET", "/api/v1/services/" + s.id + "/booking"); }))
        .then(function (rs) {
          var rows = services.map(function (s, i) { return { service: s, settings: rs[i].ok ? rs[i].data : null }; })
            .filter(function (r) { return r.settings; });
          var cols = [{ label: t("service"), cell: function (r) { return serviceLabel(r.service, agencies); } },
                      { label: t("bk_enabled"), cell: function (r) { return yesNo(r.settings.enabled); } }]
            .concat(FIELDS.map(function (f) { return { label: t("bk_" + f + "_short"), cls: "num", cell: function (r) { return r.settings[f]; } }; }))
            .concat([{ label: t("bk_nik_short"), cell: function (r) { return yesNo(r.settings.nik_required); } }]);
          if (A.isAdmin) {
            cols.push({ label: "", cls: "a-act", cell: function (r) {
              return A.button(t("edit"), function () { edit(r); });
            } });
          }
          G.clear(tableSlot);
          var table = A.table(cols, rows, function (r) { return r.settings.enabled ? "bk-on" : "a-dim"; });
          table.id = "booking-settings";
          tableSlot.appendChild(table);
        });
    }
    function edit(r) {
      G.clear(formSlot);
      var form = A.form(t("bk_edit_title", { service: r.service.prefix + " " + r.service.name }), settingsDefs(), r.settings,
        function (v) {
          return G.api("PUT", "/api/v1/services/" + r.service.id + "/booking", v).then(function (res) {
            if (res.ok) { refresh(); }
            return res;
          });
        });
      form.id = "booking-edit";
      formSlot.appendChild(form);
      form.scrollIntoView({ block: "nearest" });
    }
    refresh();
  }

  // -- the day's bookings -------------------------------------------------------------

  /* Does a booking match the search: its code (any part), or the last digits of its phone? */
  function matches(b, q) {
    if (!q) { return true; }
    var code = q.toUpperCase().replace(/[\s\-]/g, "");
    if (/^\d+$/.test(q)) {
      var tail = String(b.phone || "").split("*").pop().replace(/\D/g, "");
      if (tail && tail.slice(-q.length) === q && q.length <= tail.length) { return true; }
    }
    return String(b.code).indexOf(code) >= 0;
  }

  function showBookings(p, services, agencies) {
    var day = el("input", { type: "date", id: "bk-date", value: today() });
    var svc = el("select", { id: "bk-service" }, [el("option", { value: "", text: t("bk_all_services") })]
      .concat(services.map(function (s) { return el("option", { value: s.id, text: serviceLabel(s, agencies) }); })));
    var search = el("input", { type: "search", id: "bk-search", placeholder: t("bk_search_placeholder"),
                               "aria-label": t("bk_search_placeholder"), autocomplete: "off" });
    var summary = el("p", { class: "bk-summary", id: "bk-summary" });
    var slot = el("div", { class: "a-scroll" });
    var rows = [];
    p.body.appendChild(el("h2", { text: t("bk_list_title") }));
    p.body.appendChild(el("div", { class: "a-bar" }, [el("label", {}, [t("bk_day") + " ", day]),
      el("label", {}, [t("service") + " ", svc]), el("label", {}, [t("bk_search") + " ", search])]));
    p.body.appendChild(summary);
    p.body.appendChild(slot);
    function byId(id) { return services.filter(function (s) { return s.id === id; })[0]; }
    function draw(list, note) {
      var q = search.value.trim(), shown = list.filter(function (b) { return matches(b, q); });
      var counts = { booked: 0, checked_in: 0, missed: 0, cancelled: 0 };
      list.forEach(function (b) { counts[b.status] = (counts[b.status] || 0) + 1; });
      G.clear(summary);
      ["booked", "checked_in", "missed", "cancelled"].forEach(function (k) {
        summary.appendChild(el("span", { class: "bk-sum bk-" + k, "data-count": k },
                               [el("strong", { text: String(counts[k]) }), " " + t("bks_" + k)]));
      });
      G.clear(slot);
      if (note) { slot.appendChild(el("p", { class: "muted", text: note })); }
      var table = A.table([
        { label: t("bk_time"), cls: "num", cell: function (b) { return (b.service_day !== day.value ? b.service_day + " " : "") + G.formatTime(b.start); } },
        { label: t("code"), cell: function (b) { return el("code", { text: b.code }); } },
        { label: t("service"), cell: function (b) { var s = byId(b.service_id); return s ? s.prefix + " " + s.name : b.service_id; } },
        { label: t("name"), cell: function (b) { return b.name; } },
        { label: t("bk_phone"), cell: function (b) { return b.phone; } },
        { label: t("bk_nik"), cell: function (b) { return b.nik; } },
        { label: t("status"), cell: function (b) { return el("span", { class: "bk-st bk-" + b.status, text: t("bks_" + b.status) }); } },
        { label: t("ticket"), cell: function (b) { return b.ticket_number || null; } }
      ], shown, function (b) { return "bk-row bk-" + b.status; });
      table.id = "bookings-table";
      slot.appendChild(table);
    }
    function load() {
      var q = "/api/v1/bookings?date=" + day.value + (svc.value ? "&service_id=" + svc.value : "");
      G.api("GET", q).then(function (res) {
        if (!res.ok) { G.clear(slot); slot.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); return; }
        rows = res.data; draw(rows);
      });
    }
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var code = search.value.trim().toUpperCase().replace(/[\s\-]/g, "");
        var found = rows.filter(function (b) { return matches(b, search.value.trim()); });
        // A whole code of another day: look it up by itself.
        if (!found.length && /^[2-9A-HJKMNP-Z]{8}$/.test(code)) {
          G.api("GET", "/api/v1/bookings/" + code).then(function (r) {
            if (r.ok) { draw([r.data], t("bk_other_day")); } else { draw(rows); }
          });
          return;
        }
        draw(rows);
      }, 150);
    });
    [day, svc].forEach(function (n) { n.addEventListener("change", load); });
    load();
  }

  A.views.bookings = function (main) {
    var p = A.page(main, t("nav_bookings"));
    Promise.all([A.load("/api/v1/services", true), A.load("/api/v1/agencies"),
                 A.isAdmin ? G.api("GET", "/api/v1/booking-settings") : Promise.resolve(null)]).then(function (d) {
      var agencies = d[1] || [], me = A.me;
      var services = (d[0] || []).filter(function (s) { return A.isAdmin || s.agency_id === me.agency_id; });
      showBookings(p, services, agencies);
      showSettings(p, services, agencies);
      if (d[2] && d[2].ok) { mppForm(p.body, d[2].data); }
    });
  };

  // -- the report's channels ------------------------------------------------------------

  function pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 1000) / 10 + " %"; }
  function signed(s) {
    if (s === null || s === undefined) { return "–"; }
    return (s < 0 ? "−" : "") + A.minutesSeconds(Math.abs(s));
  }

  /* The channel table under the report: walk-in vs booking, check-in and missed rates, waits, punctuality. */
  A.bookingReport = function (body, data) {
    var rows = (data.rows || []).filter(function (r) { return r.booked || r.bookings; });
    body.appendChild(el("h2", { text: t("bk_report_title") }));
    if (!rows.length) { body.appendChild(el("p", { class: "muted", id: "no-bookings", text: t("bk_report_none") })); return; }
    var cols = [{ label: t("g_" + data.group_by), cell: function (r) { return r.label === null ? t("not_called") : r.label; } },
      { label: t("bkr_walk_in"), cls: "num", cell: function (r) { return r.walk_in; } },
      { label: t("bkr_booked"), cls: "num", cell: function (r) { return r.booked; } },
      { label: t("bkr_bookings"), cls: "num", cell: function (r) { return r.bookings; } },
      { label: t("bkr_check_in_rate"), cls: "num", cell: function (r) { return pct(r.check_in_rate); } },
      { label: t("bkr_missed_rate"), cls: "num", cell: function (r) { return pct(r.missed_rate); } },
      { label: t("bkr_wait_walk_in"), cls: "num", cell: function (r) { return A.minutesSeconds(r.wait_walk_in_median_s); } },
      { label: t("bkr_wait_booked"), cls: "num", cell: function (r) { return A.minutesSeconds(r.wait_booked_median_s); } },
      { label: t("bkr_punctuality"), cls: "num", cell: function (r) { return signed(r.punctuality_median_s); } },
      { label: t("bkr_punctuality_p90"), cls: "num", cell: function (r) { return signed(r.punctuality_p90_s); } }];
    var table = A.table(cols, rows);
    table.id = "channel-table";
    body.appendChild(el("div", { class: "a-scroll" }, [table]));
    body.appendChild(el("p", { class: "muted", text: t("bk_report_note") }));
  };
})();
