/* The booking card: cancel, with a confirm step. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN;
  function $(id) { return document.getElementById(id); }
  var cancel = $("cancel");
  if (!cancel) { return; }
  cancel.addEventListener("click", function () {
    cancel.hidden = true; $("cancel-confirm").hidden = false; $("cancel-yes").focus();
  });
  $("cancel-no").addEventListener("click", function () {
    $("cancel-confirm").hidden = true; cancel.hidden = false; cancel.focus();
  });
  $("cancel-yes").addEventListener("click", function () {
    var yes = $("cancel-yes"), label = yes.textContent;
    yes.disabled = true; yes.textContent = G.t("cancelling");
    G.api("POST", "/api/v1/bookings/" + encodeURIComponent(cfg.code) + "/cancel").then(function (r) {
      if (r.ok) { window.location.replace(window.location.pathname); return; }
      yes.disabled = false; yes.textContent = label;
      $("cancel-error").hidden = false;
      $("cancel-error").textContent = r.offline ? G.t("error_offline") : (G.t("cancel_failed") + " " + (r.error.message || ""));
    });
  });
})();
