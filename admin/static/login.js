/* The admin's login form (no inline script: the CSP refuses it). */
(function () {
  var form = document.getElementById("login-form"), err = document.getElementById("login-error");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    err.textContent = "";
    Giliran.api("POST", "/api/v1/auth/login", { username: form.username.value.trim(), password: form.password.value })
      .then(function (res) {
        if (res.ok) { location.reload(); return; }
        var code = res.error && res.error.code;
        err.textContent = res.offline ? Giliran.t("error_offline")
          : (code === "validation_error" ? Giliran.t("f_required") : Giliran.errorText(res.error));
      });
  });
})();
