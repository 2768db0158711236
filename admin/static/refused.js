/* The refusal page's log-out link. */
document.getElementById("logout").addEventListener("click", function (e) {
  e.preventDefault();
  Giliran.api("POST", "/api/v1/auth/logout").then(function () { location.href = "/admin"; });
});
