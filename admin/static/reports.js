/* Reports (figures, SVG charts, CSV/XLSX downloads) and the SKM satisfaction index (IKM). */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;

  function today() {
    // The MPP's date, not the browser's: en-CA formats as YYYY-MM-DD.
    return new Date().toLocaleDateString("en-CA", { timeZone: (window.GILIRAN || {}).tz || "Asia/Jakarta" });
  }

  /* The from/to/group/agency toolbar; onShow(query) runs with the chosen values. */
  function toolbar(bar, withGroup, onShow) {
    var from = el("input", { type: "date", id: "r-from", value: today() });
    var to = el("input", { type: "date", id: "r-to", value: today() });
    var group = el("select", { id: "r-group" }, ["service", "agency", "counter", "officer", "day", "total"].map(function (g) {
      return el("option", { value: g, text: t("g_" + g) }); }));
    var agency = el("select", { id: "r-agency" }, [el("option", { value: "", text: t("all_agencies") })]);
    if (A.isAdmin) {
      A.load("/api/v1/admin/agencies").then(function (list) {
        (list || []).forEach(function (a) { agency.appendChild(el("option", { value: a.id, text: a.code + " — " + a.name })); });
      });
    }
    function query() {
      var q = "from=" + from.value + "&to=" + (to.value || from.value);
      if (withGroup) { q += "&group_by=" + group.value; }
      if (agency.value) { q += "&agency_id=" + agency.value; }
      return q;
    }
    function show() { onShow(query()); }
    bar.appendChild(el("label", {}, [t("from") + " ", from]));
    bar.appendChild(el("label", {}, [t("to") + " ", to]));
    if (withGroup) { bar.appendChild(el("label", {}, [t("group_by") + " ", group])); }
    if (A.isAdmin) { bar.appendChild(el("label", {}, [t("agency") + " ", agency])); }
    bar.appendChild(A.button(t("show"), show, "primary"));
    bar.appendChild(A.button(t("today"), function () { from.value = to.value = today(); show(); }));
    bar.appendChild(A.button(t("this_month"), function () { from.value = today().slice(0, 8) + "01"; to.value = today(); show(); }));
    [from, to, group, agency].forEach(function (n) { n.addEventListener("change", show); });
    show();
  }

  function pct(v) { return v === null || v === undefined ? "–" : Math.round(v * 1000) / 10 + " %"; }

  function showReport(body, q) {
    G.clear(body);
    body.appendChild(el("p", { class: "muted", text: t("loading") }));
    G.api("GET", "/api/v1/reports?" + q).then(function (res) {
      G.clear(body);
      if (!res.ok) { body.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); return; }
      var rows = res.data.rows;
      body.appendChild(el("div", { class: "a-downloads" }, [
        el("a", { class: "btn small secondary", id: "dl-csv", href: "/api/v1/reports.csv?" + q, download: "", text: t("download_csv") }),
        el("a", { class: "btn small secondary", id: "dl-xlsx", href: "/api/v1/reports.xlsx?" + q, download: "", text: t("download_xlsx") })]));
      if (!rows.length) { body.appendChild(el("p", { class: "muted", id: "no-data", text: t("no_data") })); return; }
      var lang = "&lang=" + G.lang;
      body.appendChild(el("div", { class: "a-charts" }, ["counts", "waits", "arrivals"].map(function (c) {
        return el("img", { class: "a-chart", alt: c, src: "/api/v1/reports/chart.svg?" + q + "&chart=" + c + lang });
      })));
      var cols = [{ label: t("g_" + res.data.group_by), cell: function (r) { return r.label === null ? t("not_called") : r.label; } }];
      ["issued", "transferred_in", "called", "served", "no_show", "cancelled", "expired", "transferred_out"].forEach(function (k) {
        cols.push({ label: t("c_" + k), cls: "num", cell: function (r) { return r[k]; } });
      });
      [["wait_median_s", "c_wait_median"], ["wait_p90_s", "c_wait_p90"], ["service_median_s", "c_service_median"],
       ["service_p90_s", "c_service_p90"]].forEach(function (k) {
        cols.push({ label: t(k[1]), cls: "num", cell: function (r) { return A.minutesSeconds(r[k[0]]); } });
      });
      cols.push({ label: t("c_compliance"), cls: "num", cell: function (r) { return pct(r.target_compliance); } });
      var table = A.table(cols, rows);
      table.id = "report-table";
      body.appendChild(el("div", { class: "a-scroll" }, [table]));
      body.appendChild(el("p", { class: "muted", text: t("report_note") }));
      if (A.bookingReport) { A.bookingReport(body, res.data); }  // walk-in / booking (bookings.js)
    });
  }

  A.views.reports = function (main) {
    var p = A.page(main, t("nav_reports"));
    toolbar(p.bar, true, function (q) { showReport(p.body, q); });
  };

  function band(b) {
    if (!b) { return "–"; }
    return el("span", { class: "a-band band-" + b.letter }, [b.letter + " · " + (G.lang === "en" ? b.quality_en : b.quality_id)]);
  }

  function showIkm(body, q) {
    G.clear(body);
    G.api("GET", "/api/v1/survey/report?" + q).then(function (res) {
      G.clear(body);
      if (!res.ok) { body.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); return; }
      var d = res.data, total = d.total;
      if (!total.respondents) { body.appendChild(el("p", { class: "muted", id: "no-data", text: t("no_answers") })); return; }
      body.appendChild(el("div", { class: "a-ikm card", id: "ikm-total" }, [
        el("div", { class: "a-ikm-value", text: total.ikm.toFixed(2) }), band(total.band),
        el("div", { class: "muted", text: t("respondents") + ": " + total.respondents })]));
      if (total.small_sample) { body.appendChild(smallSample(total)); }
      var elements = A.table([
        { label: t("element"), cell: function (e) { return e.key.toUpperCase() + " " + (G.lang === "en" ? e.name_en : e.name_id); } },
        { label: t("nrr"), cls: "num", cell: function (e) { var v = total.nrr[e.key]; return v === null ? "–" : v.toFixed(2); } }
      ], d.elements);
      elements.classList.add("a-narrow");
      body.appendChild(el("div", { class: "a-scroll" }, [elements]));
      var cols = [{ label: t("name"), cell: function (r) { return r.label; } },
                  { label: t("respondents"), cls: "num", cell: function (r) {
                    return r.small_sample ? el("span", { class: "a-warn", title: t("small_sample_short", { need: r.min_sample }),
                                                         text: "⚠ " + r.respondents }) : r.respondents; } }]
        .concat(d.elements.map(function (e) { return { label: e.key.toUpperCase(), cls: "num", cell: function (r) { return r.nrr[e.key].toFixed(2); } }; }))
        .concat([{ label: t("ikm"), cls: "num", cell: function (r) { return r.ikm.toFixed(2); } }, { label: t("band"), cell: function (r) { return band(r.band); } }]);
      body.appendChild(el("h2", { text: t("per_agency") }));
      body.appendChild(el("div", { class: "a-scroll" }, [A.table(cols, d.agencies)]));
      body.appendChild(el("h2", { text: t("per_service") }));
      var services = A.table(cols, d.services);
      services.id = "ikm-services";
      body.appendChild(el("div", { class: "a-scroll" }, [services]));
      if (d.comments.length) {
        body.appendChild(el("h2", { text: t("comments") }));
        body.appendChild(el("ul", { class: "a-comments" }, d.comments.map(function (c) {
          return el("li", {}, [el("span", { class: "muted", text: c.day + " " }), c.comment]); })));
      }
      body.appendChild(el("p", { class: "muted", text: t("ikm_note") }));
    });
  }

  /* Fewer respondents than Permenpan RB 14/2017's minimum sample: the IKM is only indicative. */
  function smallSample(r) {
    return el("p", { class: "a-caution", id: "ikm-small-sample", role: "note",
                     text: "⚠ " + t("small_sample", { n: r.respondents, pop: r.population, need: r.min_sample }) });
  }

  A.views.ikm = function (main) {
    var p = A.page(main, t("ikm_title"));
    toolbar(p.bar, false, function (q) { showIkm(p.body, q); });
  };
})();
