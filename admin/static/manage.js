/* Agencies, services, counters, users, devices and printers: a list, a form to add, a form to edit. */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;

  function agencyOptions(agencies, withNone) {
    var opts = agencies.map(function (a) { return [a.id, a.code + " — " + a.name]; });
    return withNone ? [[null, t("none")]].concat(opts) : opts;
  }

  /* The table of what belongs to an agency (services, counters): its agency first, then the
   * fields shown as they are (`keys`), then the columns `more`. */
  function agencyColumns(agencies, keys, more) {
    return [A.agencyColumn(agencies)].concat(keys.map(function (key) { return A.column(key); }), more);
  }

  /* The form's agency field: a new service or counter chooses its agency, an existing one keeps it. */
  function agencyChoice(agencies, row) {
    return row ? [] : [{ name: "agency_id", label: t("agency"), type: "select",
                         options: agencyOptions(agencies || []), numeric: true }];
  }

  function activeCell(row) { return row.active ? t("active") : el("span", { class: "a-off", text: t("inactive") }); }

  /* The list-and-form pattern: spec {section, addLabel, paths, columns(data), fields(data, row),
   * create, update}. `data` holds the answers of `paths` in order; the table lists data[0]. */
  function resource(main, spec) {
    var loadAll = function () { return both(spec.paths); };
    var p = A.page(main, t("nav_" + spec.section));
    var slot = el("div", { class: "a-formslot" });
    function show(form) { G.clear(slot); slot.appendChild(form); form.scrollIntoView({ block: "nearest" }); }
    function refresh() {
      return loadAll().then(function (data) {
        G.clear(p.body);
        var columns = spec.columns(data).concat([{ label: "", cls: "a-act", cell: function (row) {
          var buttons = spec.noEdit ? [] : [A.button(t("edit"), function () { edit(data, row); })];
          return el("span", {}, buttons.concat(spec.actions ? spec.actions(row, refresh, show) : []));
        } }]);
        p.body.appendChild(A.table(columns, data[0] || [], spec.rowClass));
      });
    }
    function edit(data, row) {
      show(A.form(t("edit") + ": " + (row.name || row.username || row.number), spec.fields(data, row), row,
        function (values, form) { return spec.update(row, values, form).then(function (res) { if (res.ok) { refresh(); } return res; }); },
        spec.extra ? spec.extra(data, row) : null));
    }
    p.bar.appendChild(A.button("+ " + t(spec.addLabel), function () {
      loadAll().then(function (data) {
        show(A.form(t(spec.addLabel), spec.fields(data, null), spec.defaults || {}, function (values, form) {
          return spec.create(values, form).then(function (res) { if (res.ok) { refresh(); if (spec.created) { spec.created(res.data, show); } } return res; });
        }, spec.extra ? spec.extra(data, null) : null));
      });
    }, "primary"));
    p.main.insertBefore(slot, p.body);
    refresh();
    return refresh;
  }

  function both(paths) { return Promise.all(paths.map(function (x) { return A.load(x, true); })); }

  A.views.agencies = function (main) {
    resource(main, {
      section: "agencies", addLabel: "new_agency",
      paths: ["/api/v1/admin/agencies"],
      columns: function () {
        return [A.column("code"),
                A.column("name"),
                { label: t("color"), cell: function (r) { return r.color ? el("span", { class: "a-swatch", style: "background:" + r.color, title: r.color }) : null; } },
                { label: t("status"), cell: activeCell }];
      },
      fields: function (d, row) {
        var f = [{ name: "code", label: t("code") }, { name: "name", label: t("name") },
                 { name: "color", label: t("color"), type: "color" }];
        return row ? f.concat([{ name: "active", label: t("active"), type: "checkbox" }]) : f;
      },
      defaults: { color: "#0b4f9c" },
      create: function (v) { return G.api("POST", "/api/v1/agencies", v); },
      update: function (row, v) { return G.api("PATCH", "/api/v1/agencies/" + row.id, v); }
    });
  };

  function hoursText(s) {
    if (s.hours) {
      return [1, 2, 3, 4, 5, 6, 7].map(function (d) {
        var h = s.hours[String(d)];
        return t("wd_" + d).slice(0, 3) + " " + (h ? h[0] + "–" + h[1] : t("closed_day"));
      }).join(", ");
    }
    if (s.opens_at || s.closes_at) { return (s.opens_at || "00:00") + "–" + (s.closes_at || "24:00"); }
    return t("every_day");
  }

  /* A 24-hour time box ("08.00"), like the form's own time fields. */
  function timeBox(id, value) {
    var box = el("input", { type: "text", id: id, inputmode: "numeric", placeholder: "08.00",
                            maxlength: 5, autocomplete: "off", class: "a-time" });
    box.value = A.showTime(value);
    return box;
  }

  /* Seven rows of opening/closing times; both empty = closed that day. */
  function weekGrid(hours) {
    var grid = el("fieldset", { class: "a-week" }, [el("legend", { text: t("weekly") })]);
    var toggle = el("input", { type: "checkbox", id: "f-weekly" });
    toggle.checked = !!hours;
    grid.appendChild(el("label", {}, [toggle, " " + t("weekly")]));
    var rows = el("div", { class: "a-week-rows" });
    [1, 2, 3, 4, 5, 6, 7].forEach(function (d) {
      var h = hours && hours[String(d)];
      rows.appendChild(el("div", { class: "a-week-row" }, [
        el("span", { text: t("wd_" + d) }),
        timeBox("w-open-" + d, h ? h[0] : (d <= 5 && !hours ? "08:00" : "")),
        timeBox("w-close-" + d, h ? h[1] : (d <= 5 && !hours ? "15:00" : ""))]));
    });
    rows.appendChild(el("small", { class: "a-error", id: "e-hours" }));
    rows.hidden = !toggle.checked;
    toggle.addEventListener("change", function () { rows.hidden = !toggle.checked; });
    grid.appendChild(rows);
    return grid;
  }

  /* The week's hours, or {error} when a day has only one of its two times: a half-filled day
   * is refused with a sentence, never saved as "closed". */
  function readWeek(form) {
    if (!form.querySelector("#f-weekly").checked) { return { hours: null }; }
    var out = {}, error = null;
    [1, 2, 3, 4, 5, 6, 7].forEach(function (d) {
      var o = A.parseTime(form.querySelector("#w-open-" + d).value).value;
      var c = A.parseTime(form.querySelector("#w-close-" + d).value).value;
      if (!o !== !c) { error = error || t("f_day_half") + " (" + t("wd_" + d) + ")"; }
      out[String(d)] = o && c ? [o, c] : null;
    });
    return error ? { error: error } : { hours: out };
  }

  /* A refusal shaped like the API's, so the form shows it under the week. */
  function weekRefused(form, text) {
    form.querySelector("#e-hours").textContent = text;
    return { ok: false, status: 400, error: { code: "validation_error" } };
  }

  /* How many counters serve a service: none means the kiosk cannot offer it. */
  function countersCell(counters, s) {
    var n = (counters || []).filter(function (c) { return (c.service_ids || []).indexOf(s.id) >= 0; }).length;
    if (n || !s.active) { return String(n); }
    return el("span", { class: "a-warn", "data-warn": "no-counter", text: "⚠ " + t("no_counter_warn") });
  }

  A.views.services = function (main) {
    var refresh = resource(main, {
      section: "services", addLabel: "new_service",
      paths: ["/api/v1/admin/services", "/api/v1/admin/agencies", "/api/v1/counters"],
      columns: function (d) {
        return agencyColumns(d[1], ["prefix", "name"], [
          { label: t("daily_quota"), cell: function (r) { return r.daily_quota === null ? t("none") : r.daily_quota; } },
          { label: t("hours"), cell: hoursText },
          { label: t("target"), cell: function (r) { return t("minutes", { n: r.target_wait_min }); } },
          { label: t("counters_col"), cell: function (r) { return countersCell(d[2], r); } },
          { label: t("status"), cell: activeCell }]);
      },
      fields: function (d, row) {
        var f = agencyChoice(d[1], row).concat([{ name: "prefix", label: t("prefix"), placeholder: "A" },
          { name: "name", label: t("name") },
          { name: "requirements", label: t("requirements"), type: "textarea" },
          { name: "daily_quota", label: t("daily_quota"), type: "number", min: 1, help: t("quota_help") },
          { name: "opens_at", label: t("opens_at"), type: "time", nullable: true },
          { name: "closes_at", label: t("closes_at"), type: "time", nullable: true },
          { name: "target_wait_min", label: t("target_wait"), type: "number", min: 1 },
          { name: "default_service_s", label: t("service_time"), type: "number", min: 1 }]);
        return row ? f.concat([{ name: "active", label: t("active"), type: "checkbox" }]) : f;
      },
      defaults: { target_wait_min: 15, default_service_s: 300 },
      extra: function (d, row) { return weekGrid(row ? row.hours : null); },
      create: function (v, form) {
        var week = readWeek(form);
        if (week.error) { return Promise.resolve(weekRefused(form, week.error)); }
        return G.api("POST", "/api/v1/services", v).then(function (res) {
          if (!res.ok || !week.hours) { return res; }
          return G.api("PATCH", "/api/v1/services/" + res.data.id, { hours: week.hours });
        });
      },
      update: function (row, v, form) {
        var week = readWeek(form);
        if (week.error) { return Promise.resolve(weekRefused(form, week.error)); }
        v.hours = week.hours;
        return G.api("PATCH", "/api/v1/services/" + row.id, v);
      }
    });
    return refresh;
  };

  A.views.counters = function (main) {
    resource(main, {
      section: "counters", addLabel: "new_counter",
      paths: ["/api/v1/counters", "/api/v1/admin/agencies", "/api/v1/admin/services"],
      columns: function (d) {
        return agencyColumns(d[1], ["number", "name"], [
          { label: t("services"), cell: function (r) {
            return (d[2] || []).filter(function (s) { return r.service_ids.indexOf(s.id) >= 0; })
              .map(function (s) { return s.prefix + " " + s.name; }).join(", "); } },
          { label: t("status"), cell: function (r) { return t("state_" + r.state); } }]);
      },
      fields: function (d, row) {
        var services = (d[2] || []).filter(function (s) { return !row || s.agency_id === row.agency_id; })
          .map(function (s) { return [s.id, A.agencyName(d[1], s.agency_id) + " · " + s.prefix + " " + s.name]; });
        return agencyChoice(d[1], row).concat([{ name: "number", label: t("number"), type: "number", min: 1 },
          { name: "name", label: t("name"), nullable: true },
          { name: "service_ids", label: t("services"), type: "checks", options: services },
          { name: "kind", label: t("counter_kind"), type: "select",
            options: [["", "–"], ["loket", t("kind_loket")], ["meja", t("kind_meja")], ["ruang", t("kind_ruang")]] }]);
      },
      create: function (v) {
        var kind = v.kind; delete v.kind;
        return G.api("POST", "/api/v1/counters", v).then(function (res) {
          if (!res.ok || !kind) { return res; }
          return G.api("PUT", "/api/v1/counters/" + res.data.id + "/kind", { kind: kind }).then(function () { return res; });
        });
      },
      update: function (row, v) {
        var kind = v.kind; delete v.kind;
        return G.api("PATCH", "/api/v1/counters/" + row.id, v).then(function (res) {
          if (!res.ok || !kind) { return res; }
          return G.api("PUT", "/api/v1/counters/" + row.id + "/kind", { kind: kind }).then(function () { return res; });
        });
      }
    });
  };

  A.views.users = function (main) {
    resource(main, {
      section: "users", addLabel: "new_user",
      paths: ["/api/v1/users", "/api/v1/admin/agencies"],
      columns: function (d) {
        return [A.column("username"),
                A.column("full_name"),
                { label: t("role"), cell: function (r) { return t("role_" + r.role); } },
                A.agencyColumn(d[1]),
                { label: t("status"), cell: activeCell }];
      },
      fields: function (d, row) {
        var roles = [["officer", t("role_officer")], ["supervisor", t("role_supervisor")], ["admin", t("role_admin")]];
        var f = row ? [] : [{ name: "username", label: t("username") },
                            { name: "password", label: t("password"), type: "password" }];
        f = f.concat([{ name: "full_name", label: t("full_name"), nullable: true },
          { name: "role", label: t("role"), type: "select", options: roles },
          { name: "agency_id", label: t("agency"), type: "select", options: agencyOptions(d[1] || [], true), numeric: true }]);
        return row ? f.concat([{ name: "active", label: t("active"), type: "checkbox" }]) : f;
      },
      defaults: { role: "officer" },
      actions: function (row, refresh, show) {
        return [A.button(t("reset_password"), function () {
          show(A.form(t("reset_password") + ": " + row.username,
            [{ name: "password", label: t("new_password"), type: "password" }], {},
            function (v) { return G.api("POST", "/api/v1/users/" + row.id + "/password", v).then(function (res) {
              if (res.ok) { A.toast(t("password_set")); } return res; }); }));
        })];
      },
      create: function (v) { return G.api("POST", "/api/v1/users", v); },
      update: function (row, v) { return G.api("PATCH", "/api/v1/users/" + row.id, v); }
    });
  };

  window.AdminManage = { resource: resource, agencyOptions: agencyOptions, both: both, activeCell: activeCell };
})();
