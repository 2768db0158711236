/* The admin shell and helpers every admin section uses: forms, tables, errors, uploads.
 * A section script registers Admin.views[section] = function (main) { ... }. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN || {}, el = G.el, t = G.t;
  // An upload may take as long as the server waits for it: 5 s plus 1 s per 50 kB
  // (MPP_BODY_TIMEOUT_S, MPP_BODY_MIN_RATE), with a margin.
  var UPLOAD_BASE_MS = 15000, UPLOAD_MS_PER_BYTE = 1000 / 50000;

  // API field messages -> page strings (the API speaks English; the page the user's language).
  var FIELD_TEXT = {
    "Required.": "f_required", "Already taken.": "f_taken", "Already taken in this agency.": "f_taken",
    "Use HH:MM, e.g. 08:00.": "f_hhmm", "Must be after opens_at.": "f_after",
    "Closing must be after opening.": "f_after", "1 to 3 letters A-Z.": "f_prefix",
    "At least 8 characters.": "f_password", "3-40 letters, digits, '.', '-' or '_'.": "f_username",
    "Officers and supervisors belong to an agency.": "f_agency", "Not a valid integer.": "f_number",
    "[opens, closes] as HH:MM, or null for closed.": "f_day_half"
  };

  var Admin = {
    views: {},
    me: cfg.me || {},
    isAdmin: (cfg.me || {}).role === "admin",
    cache: {},

    /* GET a list once per page view (agencies, services, printers ...). */
    load: function (path, fresh) {
      if (!fresh && Admin.cache[path]) { return Promise.resolve(Admin.cache[path]); }
      return G.api("GET", path).then(function (res) {
        if (res.ok) { Admin.cache[path] = res.data; return res.data; }
        return null;
      });
    },

    /* A sentence in the user's language for a failed call. */
    errorText: function (res) {
      if (!res || res.offline) { return t("error_offline"); }
      if (res.status === 404 || res.status === 405) { return t("not_available"); }
      return G.errorText(res.error);
    },

    /* A time of day typed the Indonesian way ("08.00", "8:00", "0800") -> {value: "HH:MM" or
     * null when empty}, or {error: page key} for anything incomplete: never silently dropped. */
    parseTime: function (text) {
      var v = (text || "").trim();
      if (!v) { return { value: null }; }
      var m = /^(\d{1,2})[.:](\d{2})$/.exec(v) || /^(\d{2})(\d{2})$/.exec(v);
      if (!m || +m[1] > 23 || +m[2] > 59) { return { error: "f_time" }; }
      return { value: (m[1].length < 2 ? "0" : "") + m[1] + ":" + m[2] };
    },

    /* "08:00" -> "08.00" for showing. */
    showTime: function (value) { return value ? String(value).slice(0, 5).replace(":", ".") : ""; },

    fieldText: function (message) {
      var key = FIELD_TEXT[message];
      return key ? t(key) : t("f_invalid");
    },

    toast: function (text, bad) {
      var box = document.getElementById("toast");
      box.textContent = text;
      box.className = "a-toast" + (bad ? " bad" : "");
      box.hidden = false;
      clearTimeout(Admin._toastTimer);
      Admin._toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
    },

    /* One input for a field definition {name, label, type, options, help, required, min, max}. */
    input: function (def, value) {
      var input;
      if (def.type === "select") {
        input = el("select", { name: def.name, id: "f-" + def.name });
        def.options.forEach(function (o) {
          var opt = el("option", { value: o[0] === null ? "" : String(o[0]) }, [o[1]]);
          if (String(value === null || value === undefined ? "" : value) === String(o[0] === null ? "" : o[0])) { opt.selected = true; }
          input.appendChild(opt);
        });
      } else if (def.type === "textarea") {
        input = el("textarea", { name: def.name, id: "f-" + def.name, rows: 3 });
        input.value = value || "";
      } else if (def.type === "checkbox") {
        input = el("input", { type: "checkbox", name: def.name, id: "f-" + def.name });
        input.checked = !!value;
      } else if (def.type === "checks") {
        input = el("div", { class: "a-checks", id: "f-" + def.name, "data-name": def.name });
        def.options.forEach(function (o) {
          var box = el("input", { type: "checkbox", value: String(o[0]) });
          box.checked = (value || []).indexOf(o[0]) >= 0;
          input.appendChild(el("label", {}, [box, " " + o[1]]));
        });
      } else if (def.type === "time") {
        // 24-hour text, as Indonesia writes it (a browser time field may be 12-hour with AM/PM).
        input = el("input", { name: def.name, id: "f-" + def.name, type: "text", inputmode: "numeric",
                              placeholder: "08.00", maxlength: 5, autocomplete: "off", class: "a-time" });
        input.value = Admin.showTime(value);
      } else {
        input = el("input", { name: def.name, id: "f-" + def.name, type: def.type || "text",
                              min: def.min, max: def.max, step: def.step, placeholder: def.placeholder,
                              autocomplete: "off" });
        input.value = value === null || value === undefined ? "" : value;
      }
      return input;
    },

    /* Read a form's values back in the types the API takes. */
    read: function (form, defs) {
      var out = {};
      defs.forEach(function (def) {
        var node = form.querySelector("#f-" + def.name);
        if (!node || def.readonly) { return; }
        if (def.type === "checkbox") { out[def.name] = node.checked; return; }
        if (def.type === "checks") {
          out[def.name] = Array.prototype.map.call(node.querySelectorAll("input:checked"),
            function (b) { return def.numeric === false ? b.value : parseInt(b.value, 10); });
          return;
        }
        var v = node.value.trim();
        if (def.type === "time") {
          var parsed = Admin.parseTime(v);
          out[def.name] = parsed.error ? v : parsed.value;
          return;
        }
        if (def.type === "number" || def.numeric) {
          out[def.name] = v === "" ? null : (/^-?\d+$/.test(v) ? parseInt(v, 10) : v);
        } else {
          out[def.name] = v === "" && def.nullable ? null : v;
        }
      });
      return out;
    },

    /* A form: fields, a save button, and errors under each field. submit(values) -> api result. */
    form: function (title, defs, values, submit, extra) {
      // A form with data-keep stays after saving (settings); others close (add/edit).
      var form = el("form", { class: "a-form card", novalidate: "novalidate" });
      form.appendChild(el("h2", { text: title }));
      defs.forEach(function (def) {
        var wrap = el("div", { class: "a-field a-" + (def.type || "text") });
        wrap.appendChild(el("label", { for: "f-" + def.name, text: def.label }));
        wrap.appendChild(Admin.input(def, values[def.name]));
        if (def.help) { wrap.appendChild(el("small", { class: "muted", text: def.help })); }
        wrap.appendChild(el("small", { class: "a-error", id: "e-" + def.name }));
        form.appendChild(wrap);
      });
      if (extra) { form.appendChild(extra); }
      var general = el("p", { class: "a-error", role: "alert" });
      var save = el("button", { class: "btn", type: "submit", text: t("save") });
      var cancel = el("button", { class: "btn secondary a-cancel", type: "button", text: t("cancel"),
                                  onclick: function () { form.remove(); } });
      form.appendChild(general);
      form.appendChild(el("div", { class: "a-actions" }, [save, cancel]));
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        form.querySelectorAll(".a-error").forEach(function (n) { n.textContent = ""; });
        // Incomplete times are refused here with a sentence; nothing is sent, nothing dropped.
        var bad = defs.filter(function (def) {
          var node = def.type === "time" && form.querySelector("#f-" + def.name);
          return node && Admin.parseTime(node.value).error;
        });
        form.querySelectorAll("input.a-time").forEach(function (node) {
          if (Admin.parseTime(node.value).error && !node.name && !node.closest("[hidden]")) { bad.push(node); }
        });
        if (bad.length) {
          bad.forEach(function (def) {
            var slot = form.querySelector("#e-" + (def.name || "hours"));
            if (slot) { slot.textContent = t("f_time"); }
          });
          general.textContent = t("not_saved");
          return;
        }
        save.disabled = true;
        Promise.resolve(submit(Admin.read(form, defs), form)).then(function (res) {
          save.disabled = false;
          if (res && res.ok) {
            if (!form.hasAttribute("data-keep")) { form.remove(); }
            Admin.toast(t("saved")); return;
          }
          general.textContent = Admin.errorText(res);
          var fields = (res && res.error && res.error.fields) || {};
          Object.keys(fields).forEach(function (name) {
            var slot = form.querySelector("#e-" + name.split(".")[0]);
            if (slot) { slot.textContent = Admin.fieldText(fields[name]); }
          });
        });
      });
      return form;
    },

    /* A table: columns [{label, cell(row) -> text|node, cls}], rows. */
    table: function (columns, rows, rowClass) {
      var head = el("tr", {}, columns.map(function (c) { return el("th", { text: c.label, class: c.cls }); }));
      var body = el("tbody", {}, rows.map(function (row) {
        return el("tr", { class: rowClass ? rowClass(row) : null }, columns.map(function (c) {
          var v = c.cell(row);
          return el("td", { class: c.cls }, [v === null || v === undefined ? "–" : v]);
        }));
      }));
      if (!rows.length) {
        body.appendChild(el("tr", {}, [el("td", { colspan: columns.length, class: "muted", text: t("empty") })]));
      }
      return el("table", { class: "a-table" }, [el("thead", {}, [head]), body]);
    },

    button: function (label, onclick, cls) {
      return el("button", { type: "button", class: "btn small " + (cls || "secondary"), text: label, onclick: onclick });
    },

    /* multipart upload (files) through Giliran.api, given time by the files' size. */
    upload: function (path, formData) {
      var bytes = 0;
      formData.forEach(function (v) { if (v && v.size) { bytes += v.size; } });
      return G.api("POST", path, formData, null, UPLOAD_BASE_MS + bytes * UPLOAD_MS_PER_BYTE);
    },

    /* The section's heading and a toolbar; returns {main, bar, body}. */
    page: function (main, title) {
      G.clear(main);
      var bar = el("div", { class: "a-bar" });
      var body = el("div", { class: "a-body" });
      main.appendChild(el("h1", { text: title }));
      main.appendChild(bar);
      main.appendChild(body);
      return { main: main, bar: bar, body: body };
    },

    /* A duration as minutes:seconds, e.g. 754 -> "12:34" ("–" for none). */
    minutesSeconds: function (seconds) {
      if (seconds === null || seconds === undefined) { return "–"; }
      var m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
      return m + ":" + (s < 10 ? "0" : "") + s;
    },

    /* A table column showing a field of the row as it is: column("name"), column("code"). */
    column: function (key, field, cls) {
      return { label: t(key), cls: cls, cell: function (r) { return r[field || key]; } };
    },

    /* The column of a row's agency, by its code. */
    agencyColumn: function (agencies) {
      return { label: t("agency"), cell: function (r) { return Admin.agencyName(agencies, r.agency_id); } };
    },

    agencyName: function (agencies, id) {
      var a = (agencies || []).filter(function (x) { return x.id === id; })[0];
      return a ? a.code : "–";
    }
  };

  document.getElementById("logout").addEventListener("click", function () {
    G.api("POST", "/api/v1/auth/logout").then(function () { location.href = "/admin"; });
  });
  window.Admin = Admin;
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("view"), view = Admin.views[cfg.section];
    if (view) { view(main); }
  });
})();
