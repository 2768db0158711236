/* Devices (kiosks, displays: pairing link and QR shown once, revoke) and printers (test print, state). */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, M = window.AdminManage, el = G.el, t = G.t;

  function printerOptions(printers) {
    return [[null, t("none")]].concat((printers || []).map(function (p) { return [p.id, p.name]; }));
  }

  function pairingPanel(device) {
    var link = location.origin + "/" + device.kind + "?token=" + encodeURIComponent(device.token);
    var img = el("img", { class: "a-qr", alt: "QR", width: 220, height: 220 });
    fetch("/api/v1/admin/qr", { method: "POST", credentials: "same-origin",
                                headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: link }) })
      .then(function (r) { return r.ok ? r.blob() : null; })
      .then(function (blob) { if (blob) { img.src = URL.createObjectURL(blob); } });
    var input = el("input", { class: "a-pairlink", id: "pair-link", readonly: "readonly", value: link });
    return el("section", { class: "a-form card a-pair" }, [
      el("h2", { text: t("pair_title", { name: device.name }) }),
      el("p", { text: t("pair_help") }), input, img,
      el("div", { class: "a-actions" }, [A.button(t("done"), function (e) { e.target.closest("section").remove(); })])]);
  }

  /* When the device last called or connected: the time today, the day and time before. */
  function lastSeen(r) {
    if (!r.last_seen_at) { return el("span", { class: "muted", text: t("never_seen") }); }
    var seen = new Date(r.last_seen_at), locale = G.lang === "en" ? "en-GB" : "id-ID";
    var day = seen.toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
    var today = new Date().toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
    return (day === today ? "" : day + " ") + G.formatTime(r.last_seen_at);
  }

  A.views.devices = function (main) {
    M.resource(main, {
      section: "devices", newKey: "new_device",
      fetch: function () { return M.both(["/api/v1/devices", "/api/v1/printers", "/api/v1/admin/agencies"]); },
      rows: function (d) { return d[0] || []; },
      rowClass: function (r) { return r.active ? "" : "a-dim"; },
      columns: function (d) {
        return [{ label: t("name"), cell: function (r) { return r.name; } },
                { label: t("kind"), cell: function (r) { return t("kind_" + r.kind); } },
                { label: t("printer"), cell: function (r) {
                  var p = (d[1] || []).filter(function (x) { return x.id === r.printer_id; })[0];
                  return p ? p.name : null; } },
                { label: t("shows_agencies"), cell: function (r) {
                  return r.agency_ids && r.agency_ids.length ? r.agency_ids.map(function (id) { return A.agencyName(d[2], id); }).join(", ") : t("all_agencies"); } },
                { label: t("last_seen"), cell: lastSeen },
                { label: t("status"), cell: function (r) { return r.active ? t("active") : el("span", { class: "a-off", text: t("revoked") }); } }];
      },
      fields: function (d, row) {
        var printer = { name: "printer_id", label: t("printer"), type: "select", options: printerOptions(d[1]), numeric: true };
        if (!row) {
          return [{ name: "kind", label: t("kind"), type: "select", options: [["kiosk", t("kind_kiosk")], ["display", t("kind_display")]] },
                  { name: "name", label: t("name") }, printer];
        }
        return [{ name: "name", label: t("name") }, printer,
                { name: "agency_ids", label: t("shows_agencies"), type: "checks",
                  help: t("all_agencies") + ": –",
                  options: (d[2] || []).map(function (a) { return [a.id, a.code + " — " + a.name]; }) }];
      },
      defaults: { kind: "kiosk" },
      create: function (v) { return G.api("POST", "/api/v1/devices", v); },
      created: function (device, show) { show(pairingPanel(device)); },
      update: function (row, v) {
        if (v.agency_ids && !v.agency_ids.length) { v.agency_ids = null; }
        return G.api("PATCH", "/api/v1/devices/" + row.id, v);
      },
      actions: function (row, refresh) {
        if (!row.active) { return []; }
        return [A.button(t("revoke"), function () {
          if (!window.confirm(t("confirm"))) { return; }
          G.api("POST", "/api/v1/devices/" + row.id + "/revoke").then(function (res) {
            if (res.ok) { refresh(); A.toast(t("saved")); } else { A.toast(A.errorText(res), true); }
          });
        }, "danger")];
      }
    });
  };

  var TRANSPORT_FIELDS = { network: ["host", "port"], serial: ["device", "baudrate"],
                           usb: ["vendor_id", "product_id"], file: ["path"], agent: [] };

  function printerState(p) {
    var trouble = p.status !== "online" && p.status !== "unknown";
    return el("span", { class: trouble ? "a-bad" : "" }, [t("pst_" + p.status) + (p.status_detail ? " — " + p.status_detail : "")]);
  }

  A.views.printers = function (main) {
    M.resource(main, {
      section: "printers", newKey: "new_printer", noEdit: true,
      fetch: function () { return M.both(["/api/v1/printers"]); },
      rows: function (d) { return d[0] || []; },
      columns: function () {
        return [{ label: t("name"), cell: function (r) { return r.name; } },
                { label: t("transport"), cell: function (r) {
                  var c = r.config || {};
                  return r.transport + " " + (TRANSPORT_FIELDS[r.transport] || []).map(function (k) { return c[k]; }).join(":"); } },
                { label: t("paper"), cell: function (r) { return r.paper_mm + " mm"; } },
                { label: t("status"), cell: printerState }];
      },
      fields: function () {
        return [{ name: "name", label: t("name") },
          { name: "transport", label: t("transport"), type: "select",
            options: [["network", "Network (TCP 9100)"], ["serial", "Serial"], ["usb", "USB"], ["agent", "Print agent"], ["file", "File"]] },
          { name: "host", label: t("host") }, { name: "port", label: t("port"), type: "number" },
          { name: "device", label: t("device_path"), placeholder: "/dev/ttyUSB0" },
          { name: "baudrate", label: t("baudrate"), type: "number" },
          { name: "vendor_id", label: t("vendor_id"), type: "number" },
          { name: "product_id", label: t("product_id"), type: "number" },
          { name: "path", label: t("file_path") },
          { name: "paper_mm", label: t("paper"), type: "select", options: [[80, "80 mm"], [58, "58 mm"]], numeric: true }];
      },
      defaults: { transport: "network", port: 9100, baudrate: 9600, paper_mm: 80 },
      create: function (v) {
        var body = { name: v.name, transport: v.transport, paper_mm: v.paper_mm };
        (TRANSPORT_FIELDS[v.transport] || []).forEach(function (k) { if (v[k] !== null && v[k] !== "") { body[k] = v[k]; } });
        return G.api("POST", "/api/v1/printers", body);
      },
      actions: function (row, refresh) {
        return [A.button(t("test_print"), function () {
          G.api("POST", "/api/v1/printers/" + row.id + "/test").then(function (res) {
            A.toast(res.ok ? t("test_sent") : A.errorText(res), !res.ok);
          });
        }), A.button(t("check_state"), function () {
          G.api("GET", "/api/v1/printers/" + row.id + "/status").then(function (res) {
            if (res.ok) { refresh(); A.toast(t("pst_" + (res.data.status || "unknown"))); } else { A.toast(A.errorText(res), true); }
          });
        })];
      }
    });
  };
})();
