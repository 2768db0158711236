/* Webhooks: receivers (WhatsApp gateway, MPP Digital), the secret shown once, a test delivery,
 * recent deliveries with their tries and errors, redeliver, resume a paused one (shown in red). */
(function () {
  "use strict";
  var G = window.Giliran, A = window.Admin, el = G.el, t = G.t;
  var EVENTS = ["ticket.issued", "ticket.called", "ticket.done", "ticket.near", "booking.created",
                "booking.cancelled", "booking.checked_in", "booking.missed", "booking.reminder"];

  function when(iso) {
    if (!iso) { return null; }
    var d = new Date(iso);
    return d.toLocaleDateString(G.lang === "en" ? "en-GB" : "id-ID", { day: "numeric", month: "short",
      timeZone: (window.GILIRAN || {}).tz }) + " " + G.formatTime(iso);
  }

  function state(h) {
    if (h.paused) { return el("span", { class: "a-bad wh-paused", text: t("wh_paused") }); }
    if (!h.active) { return el("span", { class: "a-off", text: t("wh_off") }); }
    if (h.failing_since) { return el("span", { class: "a-bad", text: t("wh_failing", { since: when(h.failing_since) }) }); }
    return el("span", { class: "a-ok", text: t("wh_ok") });
  }

  function secretPanel(hook) {
    var input = el("input", { class: "a-pairlink", id: "wh-secret", readonly: "readonly", value: hook.secret });
    return el("section", { class: "a-form card a-pair" }, [
      el("h2", { text: t("wh_secret_title") }),
      el("p", { text: t("wh_secret_help") }), input,
      el("div", { class: "a-actions" }, [A.button(t("done"), function (e) { e.target.closest("section").remove(); })])]);
  }

  function deliveryStatus(d) {
    if (d.status === "delivered") { return el("span", { class: "a-ok", text: t("wd_delivered") }); }
    if (d.status === "sending") { return t("wd_sending"); }
    return el("span", { class: d.attempts ? "a-bad" : "", text: d.attempts ? t("wd_retrying") : t("wd_pending") });
  }

  function deliveriesCard(hook, slot) {
    var box = el("section", { class: "card a-form wh-deliveries", id: "wh-deliveries" });
    function refresh() {
      G.api("GET", "/api/v1/webhooks/" + hook.id + "/deliveries").then(function (res) {
        G.clear(box);
        box.appendChild(el("h2", { text: t("wh_deliveries", { url: hook.url }) }));
        box.appendChild(el("div", { class: "a-bar" }, [A.button(t("wh_refresh"), refresh)]));
        if (!res.ok) { box.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); return; }
        box.appendChild(el("div", { class: "a-scroll" }, [A.table([
          { label: "ID", cls: "num", cell: function (d) { return d.id; } },
          { label: t("wh_event"), cell: function (d) { return d.event; } },
          { label: t("status"), cell: deliveryStatus },
          { label: t("wh_attempts"), cls: "num", cell: function (d) { return d.attempts; } },
          { label: t("wh_last_error"), cell: function (d) { return d.last_error; } },
          { label: t("wh_response"), cls: "num", cell: function (d) {
            return d.response_ms === null ? null : (d.last_status ? d.last_status + " · " : "") + d.response_ms + " ms"; } },
          { label: t("wh_created"), cell: function (d) { return when(d.created_at); } },
          { label: "", cls: "a-act", cell: function (d) {
            if (d.status === "sending") { return null; }
            return A.button(t("wh_redeliver"), function () {
              G.api("POST", "/api/v1/webhooks/" + hook.id + "/deliveries/" + d.id + "/redeliver").then(function (r) {
                if (r.ok) { A.toast(t("wh_queued")); setTimeout(refresh, 800); } else { A.toast(A.errorText(r), true); }
              });
            });
          } }], res.data || [])]));
      });
    }
    G.clear(slot);
    slot.appendChild(box);
    refresh();
    return refresh;
  }

  function settingsCard() {
    var holder = el("div", { class: "wh-settings" });
    G.api("GET", "/api/v1/webhooks/settings").then(function (res) {
      if (!res.ok) { return; }
      var form = A.form(t("wh_settings"), [
        { name: "near_ahead", label: t("wh_near_ahead"), type: "number", min: 1, max: 50, help: t("wh_near_help") },
        { name: "reminder_minutes", label: t("wh_reminder_minutes"), type: "number", min: 5, max: 1440, help: t("wh_reminder_help") }],
        res.data, function (v) { return G.api("PUT", "/api/v1/webhooks/settings", v); });
      form.querySelector(".a-cancel").remove();
      form.setAttribute("data-keep", "");
      holder.appendChild(form);
    });
    return holder;
  }

  A.views.webhooks = function (main) {
    var p = A.page(main, t("nav_webhooks"));
    var formSlot = el("div", { class: "a-formslot" });
    var deliveriesSlot = el("div");
    p.main.insertBefore(formSlot, p.body);
    p.main.appendChild(deliveriesSlot);
    p.main.appendChild(settingsCard());
    p.bar.appendChild(el("p", { class: "muted", text: t("wh_intro") }));

    function refresh() {
      return G.api("GET", "/api/v1/webhooks").then(function (res) {
        G.clear(p.body);
        if (!res.ok) { p.body.appendChild(el("p", { class: "a-error", text: A.errorText(res) })); return; }
        p.body.appendChild(A.table([
          { label: "URL", cell: function (h) { return el("span", { class: "wh-url", text: h.url }); } },
          { label: t("wh_events"), cell: function (h) { return el("span", { class: "a-data", text: h.events.join(", ") }); } },
          { label: t("status"), cell: state },
          { label: t("wh_pending"), cls: "num", cell: function (h) { return h.pending; } },
          { label: "", cls: "a-act", cell: function (h) {
            var buttons = [A.button(t("wh_show_deliveries"), function () { deliveriesCard(h, deliveriesSlot); })];
            if (h.paused) {
              buttons.push(A.button(t("wh_resume"), function () {
                G.api("POST", "/api/v1/webhooks/" + h.id + "/resume").then(function (r) {
                  if (r.ok) { A.toast(t("saved")); refresh(); } else { A.toast(A.errorText(r), true); } });
              }, "primary"));
            } else if (h.active) {
              buttons.push(A.button(t("wh_test"), function () {
                G.api("POST", "/api/v1/webhooks/" + h.id + "/test").then(function (r) {
                  if (!r.ok) { A.toast(A.errorText(r), true); return; }
                  A.toast(t("wh_test_sent"));
                  var again = deliveriesCard(h, deliveriesSlot);
                  setTimeout(again, 1500);
                });
              }));
            }
            buttons.push(A.button(h.active ? t("wh_switch_off") : t("wh_switch_on"), function () {
              G.api("PATCH", "/api/v1/webhooks/" + h.id, { active: !h.active }).then(function (r) {
                if (r.ok) { refresh(); } else { A.toast(A.errorText(r), true); } });
            }));
            buttons.push(A.button(t("delete"), function () {
              if (!window.confirm(t("confirm"))) { return; }
              G.api("DELETE", "/api/v1/webhooks/" + h.id).then(function (r) {
                if (r.ok) { G.clear(deliveriesSlot); refresh(); } else { A.toast(A.errorText(r), true); } });
            }, "danger"));
            return el("span", {}, buttons);
          } }], res.data || [], function (h) { return h.paused ? "wh-row-paused" : ""; }));
      });
    }

    p.bar.insertBefore(A.button("+ " + t("wh_new"), function () {
      var defs = [{ name: "url", label: "URL", placeholder: "http://192.168.1.20:9000/giliran", help: t("wh_url_help") },
                  { name: "events", label: t("wh_events"), type: "checks", numeric: false,
                    options: EVENTS.map(function (e) { return [e, e + " — " + t("ev_" + e.replace(".", "_"))]; }) },
                  { name: "secret", label: t("wh_secret"), help: t("wh_secret_field_help"), nullable: true }];
      G.clear(formSlot);
      formSlot.appendChild(A.form(t("wh_new"), defs, { events: ["ticket.called", "booking.reminder"] }, function (v) {
        return G.api("POST", "/api/v1/webhooks", v).then(function (res) {
          if (res.ok) { refresh(); formSlot.appendChild(secretPanel(res.data)); }
          return res;
        });
      }));
    }, "primary"), p.bar.firstChild);
    refresh();
  };
})();
