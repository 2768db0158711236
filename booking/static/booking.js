/* The booking page: agency -> service -> day -> slot -> details -> confirm, one step a screen.
 * Every refusal is a plain sentence; the details typed are kept; the next free times are offered. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t;
  var S = { services: [], agency: null, service: null, days: [], day: null, slots: [], slot: null, timer: null };
  var STEPS = ["agency", "service", "day", "slot", "form", "confirm"];
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function show(step) {
    STEPS.forEach(function (s) { $("step-" + s).hidden = s !== step; });
    if (S.timer) { clearInterval(S.timer); S.timer = null; }
    if (step === "slot") { S.timer = setInterval(refreshSlots, 15000); }
    var h = $("h-" + step);
    if (h) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }
  function error(text) { $("error").hidden = !text; $("error").textContent = text || ""; }

  var lang = G.lang === "en" ? "en-GB" : "id-ID";
  function localDate(day) { return new Date(day + "T12:00:00"); }
  function time(iso) { return iso.slice(11, 16).replace(":", G.lang === "en" ? ":" : "."); }
  function dayLong(day) {
    return localDate(day).toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  }
  function addDays(day, n) {
    var d = new Date(day + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function seatsLeft(n) { return n === 1 ? t("seats_left_1") : t("seats_left_n", { n: n }); }

  /* -- agencies and services -- */
  function loadServices() {
    G.api("GET", "/api/v1/booking/services").then(function (r) {
      var box = $("agencies"); box.textContent = "";
      if (!r.ok) { box.appendChild(el("p", "bk-muted", r.offline ? t("error_offline") : t("error_generic"))); return; }
      S.services = r.data;
      var agencies = [];
      r.data.forEach(function (s) {
        if (!agencies.some(function (a) { return a.id === s.agency_id; })) { agencies.push({ id: s.agency_id, name: s.agency_name }); }
      });
      if (!agencies.length) { box.appendChild(el("p", "bk-muted", t("no_services"))); return; }
      agencies.forEach(function (a) {
        var b = el("button", "bk-choice"); b.type = "button"; b.dataset.agency = a.id;
        b.appendChild(el("strong", "", a.name));
        var n = S.services.filter(function (s) { return s.agency_id === a.id; });
        b.appendChild(el("span", "", n.map(function (s) { return s.name; }).join(" · ")));
        b.addEventListener("click", function () { pickAgency(a); });
        box.appendChild(b);
      });
    });
  }

  function pickAgency(a) {
    S.agency = a; error("");
    $("chosen-agency").textContent = a.name;
    var box = $("services"); box.textContent = "";
    S.services.filter(function (s) { return s.agency_id === a.id; }).forEach(function (s) {
      var b = el("button", "bk-choice"); b.type = "button"; b.dataset.service = s.id;
      b.appendChild(el("strong", "", s.name));
      if (s.requirements) { b.appendChild(el("span", "", t("bring") + ": " + s.requirements)); }
      if (s.nik_required) { b.appendChild(el("span", "bk-tag", t("nik_needed"))); }
      b.addEventListener("click", function () { pickService(s); });
      box.appendChild(b);
    });
    show("service");
  }

  /* -- days: only those with a free seat, within days_ahead -- */
  function slotsOf(day) {
    return G.api("GET", "/api/v1/services/" + S.service.id + "/slots?date=" + day).then(function (r) {
      return r.ok ? r.data.filter(function (x) { return x.open; }) : [];
    });
  }

  function pickService(s) {
    S.service = s; error("");
    $("chosen-service").textContent = s.name + " — " + S.agency.name;
    $("nik-field").hidden = !s.nik_required;
    $("nik").required = !!s.nik_required;
    var box = $("days"); box.textContent = "";
    $("days-note").textContent = t("loading");
    show("day");
    var days = [];
    for (var i = 0; i <= s.days_ahead; i++) { days.push(addDays(cfg.today, i)); }
    Promise.all(days.map(slotsOf)).then(function (all) {
      S.days = [];
      days.forEach(function (day, i) {
        var free = all[i].filter(function (x) { return x.left > 0; });
        if (free.length) { S.days.push({ day: day, slots: all[i], free: free.length }); }
      });
      $("days-note").textContent = S.days.length ? "" : t("no_days");
      S.days.forEach(function (d) {
        var b = el("button", "bk-day"); b.type = "button"; b.dataset.day = d.day;
        var date = localDate(d.day);
        var top = d.day === cfg.today ? t("today") : (d.day === addDays(cfg.today, 1) ? t("tomorrow")
          : date.toLocaleDateString(lang, { weekday: "short" }));
        b.appendChild(el("small", "", top));
        b.appendChild(el("b", "", String(date.getDate())));
        b.appendChild(el("small", "", date.toLocaleDateString(lang, { month: "short" })));
        b.appendChild(el("span", "bk-sr", dayLong(d.day)));
        b.addEventListener("click", function () { pickDay(d.day); });
        box.appendChild(b);
      });
    });
  }

  /* -- slots of the day, refreshed while the step is open -- */
  function renderSlots(box, slots, onPick) {
    box.textContent = "";
    slots.forEach(function (x) {
      var b = el("button", "bk-slot"); b.type = "button"; b.dataset.start = x.start;
      b.appendChild(el("b", "", time(x.start)));
      b.appendChild(el("small", "", x.left > 0 ? seatsLeft(x.left) : t("full")));
      b.disabled = x.left <= 0;
      b.addEventListener("click", function () { onPick(x); });
      box.appendChild(b);
    });
  }

  function pickDay(day) {
    S.day = day; error("");
    $("chosen-day").textContent = dayLong(day);
    show("slot");
    refreshSlots();
  }

  function refreshSlots() {
    var day = S.day;
    return slotsOf(day).then(function (slots) {
      if (day !== S.day) { return; }
      S.slots = slots;
      renderSlots($("slots"), slots, pickSlot);
      if (!slots.some(function (x) { return x.left > 0; })) { $("slots").appendChild(el("p", "bk-muted", t("no_slots"))); }
    });
  }

  function slotText(x) { return dayLong(x.start.slice(0, 10)) + ", " + time(x.start) + "–" + time(x.end); }

  function pickSlot(x) {
    S.slot = x; error("");
    $("chosen-slot").textContent = slotText(x);
    $("other-slots").hidden = true;
    show("form");
  }

  /* -- details, checked here first (the server checks again) -- */
  var FIELD_ERRORS = { name: "err_name", phone: "err_phone", nik: "err_nik" };
  function fieldError(name, text) {
    $(name + "-error").textContent = text || "";
    $(name).setAttribute("aria-invalid", text ? "true" : "false");

  }
  function checkForm() {
    var ok = true;
    var name = $("name").value.trim(), phone = $("phone").value.replace(/[\s.\-()]/g, ""), nik = $("nik").value.replace(/\s/g, "");
    fieldError("name", name ? "" : t("err_name")); ok = ok && !!name;
    var phoneOk = /^(\+?62|0)8\d{7,12}$/.test(phone);
    fieldError("phone", phoneOk ? "" : t("err_phone")); ok = ok && phoneOk;
    if (S.service.nik_required || nik) {
      var nikOk = /^\d{16}$/.test(nik);
      fieldError("nik", nikOk ? "" : (nik ? t("err_nik") : t("err_nik_missing"))); ok = ok && nikOk;
    } else { fieldError("nik", ""); }
    return ok;
  }

  $("form").addEventListener("submit", function (e) {
    e.preventDefault(); error("");
    if (!checkForm()) {
      var bad = document.querySelector('#form [aria-invalid="true"]');
      if (bad) { bad.focus(); }
      return;
    }
    var box = $("summary"); box.textContent = "";
    [[t("service"), S.service.name], [t("agency"), S.agency.name], [t("when"), slotText(S.slot)],
     [t("name"), $("name").value.trim()], [t("phone"), $("phone").value.trim()]]
      .concat($("nik").value.trim() ? [[t("nik"), $("nik").value.trim()]] : [])
      .forEach(function (row) {
        var d = el("div"); d.appendChild(el("dt", "", row[0])); d.appendChild(el("dd", "", row[1])); box.appendChild(d);
      });
    show("confirm");
  });

  /* After slot_full or booking_closed: the next free times, this day then the next ones. */
  function offerOthers() {
    var from = S.slot ? S.slot.start : "";
    var days = S.days.map(function (d) { return d.day; }).filter(function (d) { return d >= S.day; });
    Promise.all(days.slice(0, 3).map(slotsOf)).then(function (all) {
      var free = [];
      all.forEach(function (slots) { slots.forEach(function (x) { if (x.left > 0 && x.start > from) { free.push(x); } }); });
      free = free.slice(0, 6);
      renderSlots($("other-list"), free, function (x) {
        S.day = x.start.slice(0, 10); pickSlot(x);
      });
      $("other-list").querySelectorAll(".bk-slot").forEach(function (b, i) {
        if (free[i].start.slice(0, 10) !== S.day) { b.querySelector("b").textContent = dayLong(free[i].start.slice(0, 10)).split(",")[0] + " " + time(free[i].start); }
      });
      $("other-slots").hidden = !free.length;
    });
  }

  $("book").addEventListener("click", function () {
    var btn = $("book"), label = btn.textContent;
    btn.disabled = true; btn.textContent = t("booking");
    var body = { service_id: S.service.id, start: S.slot.start, name: $("name").value.trim(),
                 phone: $("phone").value.trim() };
    if ($("nik").value.trim()) { body.nik = $("nik").value.replace(/\s/g, ""); }
    G.api("POST", "/api/v1/bookings", body).then(function (r) {
      btn.disabled = false; btn.textContent = label;
      if (r.ok) { window.location.assign("/b/" + encodeURIComponent(r.data.code) + "?new=1"); return; }
      var code = r.error.code;
      show("form");
      if (r.offline) { error(t("error_offline")); return; }
      if (code === "validation_error") {
        var fields = r.error.fields || {};
        Object.keys(FIELD_ERRORS).forEach(function (f) {
          fieldError(f, fields[f] ? t(f === "nik" && !$("nik").value.trim() ? "err_nik_missing" : FIELD_ERRORS[f]) : "");
        });
        if (fields.start) { error(t("err_closed")); offerOthers(); }
        return;
      }
      if (code === "slot_full") { error(t("err_slot_full")); offerOthers(); return; }
      if (code === "booking_closed") { error(t("err_closed")); offerOthers(); return; }
      if (code === "booking_limit") { error(t("err_limit")); return; }
      if (r.status === 429) { error(t("err_too_many")); return; }
      error(t("error_generic"));
    });
  });

  document.querySelectorAll("[data-back]").forEach(function (b) {
    b.addEventListener("click", function () {
      error("");
      var to = b.getAttribute("data-back");
      show(to);
      if (to === "slot") { refreshSlots(); }
    });
  });

  loadServices();
  window.Booking = { state: S };
})();
