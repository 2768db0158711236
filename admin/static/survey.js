/* The SKM survey: nine answers 1-4 and a comment, sent once for a finished ticket. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN || {}, t = G.t;
  var form = document.getElementById("survey");
  if (!form) { return; }
  var error = document.getElementById("error"), state = document.getElementById("state");

  function finish(key) {
    form.remove();
    state.textContent = t(key);
    state.className = "s-state s-" + key;
    // The counter's tablet gets ready for the next citizen.
    if (cfg.source === "counter") { setTimeout(function () { history.back(); }, 8000); }
  }

  form.addEventListener("change", function () { error.textContent = ""; });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { comment: document.getElementById("comment").value.trim() || null, source: cfg.source };
    var missing = null;
    for (var i = 1; i <= 9; i++) {
      var picked = form.querySelector("input[name=u" + i + "]:checked");
      if (picked) { body["u" + i] = parseInt(picked.value, 10); } else if (!missing) { missing = i; }
    }
    if (missing) {
      error.textContent = t("missing");
      form.querySelector("fieldset[data-key=u" + missing + "]").scrollIntoView({ behavior: "smooth", block: "center" });
      return;
    }
    error.textContent = "";
    G.api("POST", "/api/v1/tickets/" + encodeURIComponent(cfg.code) + "/survey", body).then(function (res) {
      if (res.ok) { finish("thanks"); return; }
      var code = res.error && res.error.code;
      if (code === "survey_done") { finish("already"); return; }
      if (code === "ticket_not_done") { error.textContent = t("not_done"); return; }
      error.textContent = res.offline ? t("error_offline") : t("error_generic");
    });
  });
})();
