/* Display and ticket (running text, voice pack, logo, media, footer, display filters),
 * holidays and backup, and the audit log. */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;

  function card(title, children) {
    return el("section", { class: "a-form card" }, [el("h2", { text: title })].concat(children));
  }

  function unavailable(body, res) { body.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); }

  function displaySettings(body) {
    Promise.all([G.api("GET", "/api/v1/settings/display"), G.api("GET", "/api/v1/voice-packs")]).then(function (r) {
      if (!r[0].ok) { unavailable(body, r[0]); return; }
      var packs = (r[1].data || []).filter(function (p) { return p.complete; }).map(function (p) { return [p.name, p.name]; });
      var defs = [{ name: "mpp_name", label: t("mpp_name") },
        { name: "running_text", label: t("running_text"), type: "textarea" },
        { name: "voice_pack", label: t("voice_pack"), type: "select", options: packs.length ? packs : [[r[0].data.voice_pack, r[0].data.voice_pack]] },
        { name: "announce_mode", label: t("announce_mode"), type: "select", options: [["digits", t("mode_digits")], ["number", t("mode_number")]] }];
      var saved = r[0].data;
      var form = A.form(t("lobby_display"), defs, saved, function (v) {
        // Only what changed: an unchanged field is never refused (e.g. a pack being rebuilt).
        var changes = {};
        Object.keys(v).forEach(function (k) { if (v[k] !== saved[k]) { changes[k] = v[k]; } });
        return G.api("PUT", "/api/v1/settings/display", changes).then(function (res) {
          if (res.ok) { saved = res.data; } return res; });
      });
      form.querySelector(".a-cancel").remove(); // a standing form: nothing to cancel
      form.setAttribute("data-keep", "");
      body.appendChild(form);
    });
  }

  function uploadCard(title, fields, path, after) {
    var file = el("input", { type: "file", id: "up-" + path.split("/").pop(), accept: fields.accept || "" });
    var name = fields.name ? el("input", { id: "up-name", placeholder: "rekaman-mpp" }) : null;
    var note = el("p", { class: "a-error", role: "alert" });
    var go = A.button(t("upload"), function () {
      if (!file.files.length) { note.textContent = t("f_required"); return; }
      var data = new FormData();
      data.append("file", file.files[0]);
      if (name) { data.append("name", name.value.trim()); }
      note.textContent = "";
      A.upload(path, data).then(function (res) {
        if (res.ok) { A.toast(t("uploaded")); file.value = ""; if (after) { after(res.data); } }
        else { note.textContent = A.errorText(res); }
      });
    }, "primary");
    return card(title, [file].concat(name ? [el("label", {}, [t("pack_name") + " ", name])] : []).concat([go, note]));
  }

  function media(body) {
    var list = el("div", { class: "a-media" });
    function refresh() {
      G.api("GET", "/api/v1/media").then(function (res) {
        G.clear(list);
        if (!res.ok) { unavailable(list, res); return; }
        (res.data || []).forEach(function (m) {
          var preview = m.kind === "image" ? el("img", { src: m.url, alt: m.name }) : el("video", { src: m.url, muted: "muted" });
          list.appendChild(el("figure", {}, [preview, el("figcaption", { text: m.name }),
            A.button(t("delete"), function () {
              if (!window.confirm(t("confirm"))) { return; }
              G.api("DELETE", "/api/v1/media/" + m.id).then(refresh);
            }, "danger")]));
        });
      });
    }
    body.appendChild(uploadCard(t("media"), { accept: "image/*,video/mp4,video/webm" }, "/api/v1/media", refresh));
    body.appendChild(list);
    refresh();
  }

  function footer(body) {
    G.api("GET", "/api/v1/settings/printing").then(function (res) {
      if (!res.ok) { unavailable(body, res); return; }
      var form = A.form(t("ticket_footer"), [{ name: "ticket_footer", label: t("ticket_footer"), type: "textarea" }],
        res.data, function (v) { return G.api("PUT", "/api/v1/settings/printing", { ticket_footer: v.ticket_footer }); });
      form.querySelector(".a-cancel").remove();
      form.setAttribute("data-keep", "");
      body.appendChild(form);
    });
  }

  function filters(body) {
    Promise.all([A.load("/api/v1/devices"), A.load("/api/v1/admin/agencies")]).then(function (r) {
      var displays = (r[0] || []).filter(function (d) { return d.kind === "display" && d.active; });
      body.appendChild(card(t("display_filters"), [A.table([
        { label: t("name"), cell: function (d) { return d.name; } },
        { label: t("shows_agencies"), cell: function (d) {
          return d.agency_ids && d.agency_ids.length ? d.agency_ids.map(function (id) { return A.agencyName(r[1], id); }).join(", ") : t("all_agencies"); } },
        { label: "", cell: function () { return el("a", { href: "/admin/devices", text: t("edit") }); } }
      ], displays)]));
    });
  }

  A.views.display = function (main) {
    var p = A.page(main, t("nav_display"));
    var logo = el("img", { class: "a-logo", src: "/media/logo?" + Date.now(), alt: "" });
    logo.addEventListener("error", function () { logo.hidden = true; });
    // Slots in page order: the parts load at their own pace.
    var slots = ["settings", "uploads", "footer", "media", "filters"].map(function (name) {
      var box = el("div", { class: name === "uploads" ? "a-grid" : "", "data-slot": name });
      p.body.appendChild(box);
      return box;
    });
    displaySettings(slots[0]);
    var uploads = slots[1];
    var logoCard = uploadCard(t("logo"), { accept: "image/*" }, "/api/v1/settings/logo", function (d) {
      logo.hidden = false; logo.src = d.url + (d.url.indexOf("?") < 0 ? "?" : "&") + Date.now(); });
    logoCard.insertBefore(logo, logoCard.children[1]);
    uploads.appendChild(logoCard);
    uploads.appendChild(uploadCard(t("upload_pack"), { accept: ".zip", name: true }, "/api/v1/voice-packs"));
    footer(slots[2]);
    media(slots[3]);
    filters(slots[4]);
  };

  /* How long a called (not started) ticket is held before it can be finished (db/tickets.py). */
  function counterRules(body) {
    G.api("GET", "/api/v1/settings/counter").then(function (res) {
      if (!res.ok) { unavailable(body, res); return; }
      var form = A.form(t("counter_rules"), [{ name: "finish_min_called_s", label: t("finish_hold"),
        type: "number", min: 0, max: 600, help: t("finish_hold_help") }], res.data, function (v) {
        return G.api("PUT", "/api/v1/settings/counter", v);
      });
      form.id = "counter-rules";
      form.querySelector(".a-cancel").remove();
      form.setAttribute("data-keep", "");
      body.appendChild(form);
    });
  }

  A.views.settings = function (main) {
    var p = A.page(main, t("nav_settings"));
    var list = el("div");
    function refresh() {
      G.api("GET", "/api/v1/holidays").then(function (res) {
        G.clear(list);
        if (!res.ok) { unavailable(list, res); return; }
        list.appendChild(A.table([{ label: t("day"), cell: function (h) { return h.day; } },
          { label: t("name"), cell: function (h) { return h.name; } },
          { label: "", cell: function (h) { return A.button(t("delete"), function () {
            G.api("DELETE", "/api/v1/holidays/" + h.day).then(refresh); }, "danger"); } }], res.data));
      });
    }
    var add = A.form(t("holidays"), [{ name: "day", label: t("day"), type: "date" }, { name: "name", label: t("name") }], {},
      function (v) { return G.api("POST", "/api/v1/holidays", v).then(function (res) { if (res.ok) { refresh(); } return res; }); });
    add.querySelector(".a-cancel").remove();
    add.setAttribute("data-keep", "");
    p.body.appendChild(add);
    p.body.appendChild(list);
    counterRules(p.body);
    p.body.appendChild(card(t("backup"), [el("p", { text: t("backup_help") }),
      el("a", { class: "btn", id: "backup", href: "/api/v1/backup", download: "", text: t("download_backup") })]));
    refresh();
  };

  A.views.audit = function (main) {
    var p = A.page(main, t("nav_audit")), body = el("div"), before = null;
    var more = A.button(t("more"), load);
    function load() {
      G.api("GET", "/api/v1/audit?limit=100" + (before ? "&before_id=" + before : "")).then(function (res) {
        if (!res.ok) { unavailable(body, res); return; }
        var rows = res.data;
        if (rows.length) { before = rows[rows.length - 1].id; }
        more.hidden = rows.length < 100;
        body.appendChild(A.table([
          { label: t("when"), cell: function (r) { return new Date(r.ts * 1000).toLocaleString(G.lang === "en" ? "en-GB" : "id-ID", { timeZone: (window.GILIRAN || {}).tz }); } },
          { label: t("who"), cell: function (r) { return r.username || (r.device_id ? "device " + r.device_id : "system"); } },
          { label: t("action"), cell: function (r) { return r.action; } },
          { label: t("target_col"), cell: function (r) { return r.target; } },
          { label: "", cls: "a-data", cell: function (r) { return r.data ? JSON.stringify(r.data) : ""; } }], rows));
      });
    }
    p.body.appendChild(body);
    p.body.appendChild(more);
    load();
  };
})();
