/* Log in, then choose one of the agency's counters and open it. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t, el = G.el;
  var $ = G.$;

  function showError(id, text) { var p = $(id); p.textContent = text; p.hidden = !text; }

  var form = $("login");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = $("login-button");
      if (button.disabled) { return; }
      button.disabled = true;
      showError("login-error", "");
      G.api("POST", "/api/v1/auth/login", { username: $("username").value.trim(), password: $("password").value })
        .then(function (r) {
          button.disabled = false;
          if (r.ok) { location.href = cfg.next || "/counter"; return; }
          var code = r.error && r.error.code;
          showError("login-error", r.offline ? t("error_offline")
            : code === "too_many_attempts" ? t("err_too_many")
            : code === "login_busy" ? t("err_login_busy")
            : (r.status === 401 || r.status === 400) ? t("err_bad_credentials") : t("error_generic"));
          $("password").select();
        });
    });
  }

  var logout = $("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      G.api("POST", "/api/v1/auth/logout").then(function () { location.href = "/counter"; });
    });
  }

  var box = $("counters");
  if (!box || !cfg.user) { return; }

  function open(counter, button) {
    if (button.disabled) { return; }
    button.disabled = true;
    G.api("POST", "/api/v1/counters/" + counter.id + "/open").then(function (r) {
      button.disabled = false;
      if (r.ok) {
        try { localStorage.setItem("giliran.counter", String(counter.id)); } catch (e) { /* private mode */ }
        location.href = "/counter/" + counter.id;
      } else {
        showError("choose-error", r.offline ? t("error_offline") : ((r.error && r.error.message) || t("error_generic")));
      }
    });
  }

  Promise.all([G.api("GET", "/api/v1/counters"), G.api("GET", "/api/v1/services"), G.api("GET", "/api/v1/agencies")])
    .then(function (res) {
      if (!res[0].ok) { showError("choose-error", res[0].offline ? t("error_offline") : t("error_generic")); return; }
      var services = {}, agencies = {};
      (res[1].data || []).forEach(function (s) { services[s.id] = s; });
      (res[2].data || []).forEach(function (a) { agencies[a.id] = a; });
      var mine = res[0].data.filter(function (c) {
        return cfg.user.role === "admin" || c.agency_id === cfg.user.agency_id;
      });
      if (!mine.length) { box.appendChild(el("p", { class: "muted", text: t("no_counters") })); return; }
      var last = null;
      try { last = localStorage.getItem("giliran.counter"); } catch (e) { /* private mode */ }
      var focus = null;
      mine.forEach(function (c) {
        var names = c.service_ids.map(function (id) { return services[id] ? services[id].prefix + " " + services[id].name : ""; });
        var who = c.state === "closed" || !c.user_id ? "" : (c.user_id === cfg.user.id ? t("yours") : t("in_use"));
        var button = el("button", { type: "button", class: "counter-pick card " + c.state, "data-counter": c.id }, [
          el("strong", { text: c.name || t("counter_n", { n: c.number }) }),
          cfg.user.role === "admin" && agencies[c.agency_id] ? el("span", { class: "muted", text: agencies[c.agency_id].name }) : null,
          el("span", { class: "pick-services", text: names.join(" · ") }),
          el("span", { class: "chip " + c.state, text: t("state_" + c.state) }),
          who ? el("span", { class: "pick-who", text: who }) : null
        ]);
        button.addEventListener("click", function () { open(c, button); });
        box.appendChild(button);
        if (!focus || String(c.id) === last) { focus = button; }
      });
      focus.focus();
    });

  // Arrow keys move between the counters (a keypad or keyboard alone is enough).
  box.addEventListener("keydown", function (e) {
    var all = Array.prototype.slice.call(box.querySelectorAll("button"));
    var i = all.indexOf(document.activeElement);
    if (i < 0) { return; }
    var step = { ArrowRight: 1, ArrowDown: 3, ArrowLeft: -1, ArrowUp: -3 }[e.key];
    if (step) { e.preventDefault(); all[Math.max(0, Math.min(all.length - 1, i + step))].focus(); }
  });
})();
