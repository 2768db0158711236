/* The booking card: cancel, with a confirm step. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, $ = G.$;
  if (!$("cancel")) { return; }
  G.confirmStep("cancel", G.t("cancelling"), function () {
    return G.api("POST", "/api/v1/bookings/" + encodeURIComponent(cfg.code) + "/cancel").then(function (r) {
      // Cancelled: the page comes back showing it (the buttons stay disabled meanwhile).
      if (r.ok) { window.location.replace(window.location.pathname); return new Promise(function () {}); }
      $("cancel-error").hidden = false;
      $("cancel-error").textContent = r.offline ? G.t("error_offline") : (G.t("cancel_failed") + " " + (r.error.message || ""));
    });
  });
})();
