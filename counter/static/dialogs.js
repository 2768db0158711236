/* The console's dialogs: transfer, call a number, pause, close, cancel a waiting ticket. Each is driven by the
 * keyboard alone (type to search, ↑↓ to choose, Enter to confirm, Esc to cancel). */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t, el = G.el, K = window.Console;
  var $ = G.$;
  var agencies = null;

  /* A searchable list in a dialog: items [{id, label, detail, search, disabled}]. */
  function Picker(input, list, onPick) {
    var items = [], shown = [], index = 0, empty = "";
    function draw() {
      var q = input.value.trim().toLowerCase();
      var words = q.split(/\s+/).filter(Boolean);  // every word, in any order
      shown = items.filter(function (it) {
        return words.every(function (w) { return it.search.indexOf(w) >= 0; });
      });
      // An exact number typed wins the first place.
      shown.sort(function (a, b) { return (b.exact === q) - (a.exact === q); });
      index = Math.min(index, Math.max(0, shown.length - 1));
      G.clear(list);
      if (!shown.length) { list.appendChild(el("li", { class: "empty muted", text: empty })); }
      shown.slice(0, 60).forEach(function (it, i) {
        var li = el("li", { role: "option", "aria-selected": i === index ? "true" : "false",
                            class: (i === index ? "sel " : "") + (it.cls || "") }, [
          el("strong", { text: it.label }), el("span", { class: "muted", text: it.detail })]);
        li.addEventListener("click", function () { index = i; draw(); });
        li.addEventListener("dblclick", function () { index = i; onPick(shown[index]); });
        list.appendChild(li);
      });
      var sel = list.querySelector(".sel");
      if (sel && sel.scrollIntoView) { sel.scrollIntoView({ block: "nearest" }); }
    }
    input.addEventListener("input", function () { index = 0; draw(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { index = Math.min(index + 1, shown.length - 1); draw(); e.preventDefault(); }
      if (e.key === "ArrowUp") { index = Math.max(index - 1, 0); draw(); e.preventDefault(); }
    });
    return {
      set: function (list_, emptyText) { items = list_; empty = emptyText; index = 0; draw(); },
      current: function () { return shown[index] || null; }
    };
  }

  function wire(dialog, form, onSubmit) {
    form.addEventListener("submit", function (e) { e.preventDefault(); onSubmit(); });
    dialog.querySelectorAll("[data-cancel]").forEach(function (b) {
      b.addEventListener("click", function () { dialog.close(); });
    });
  }

  // -- transfer ----------------------------------------------------------------

  var transferThen = null;
  var transferPicker = Picker($("transfer-search"), $("transfer-list"), function () { submitTransfer(); });
  wire($("dlg-transfer"), $("form-transfer"), submitTransfer);

  function submitTransfer() {
    var pick = transferPicker.current();
    if (!pick) { return; }
    var position = $("form-transfer").querySelector("input[name=position]:checked").value;
    var then = transferThen;
    $("dlg-transfer").close();
    K.send("transfer", "transfer", { service_id: pick.id, position: position }, function (r) {
      K.S.counter.ticket = null;
      K.say(t("msg_transferred", { number: r.data.number, service: pick.label }), "ok");
      K.loadStats();
      if (then) { then(); }
    });
  }

  function transfer(then) {
    var tk = K.S.counter.ticket;
    transferThen = then || null;
    $("transfer-title").textContent = t("transfer_title", { number: tk.number });
    $("transfer-search").value = "";
    $("form-transfer").querySelector("input[value=first]").checked = true;
    transferPicker.set([], "…");
    $("dlg-transfer").showModal();
    $("transfer-search").focus();
    var pending = [G.api("GET", "/api/v1/services")];
    pending.push(agencies ? Promise.resolve({ ok: true, data: agencies }) : G.api("GET", "/api/v1/agencies"));
    Promise.all(pending).then(function (res) {
      if (!res[0].ok || !res[1].ok) { transferPicker.set([], t("error_offline")); return; }
      agencies = res[1].data;
      var names = {};
      agencies.forEach(function (a) { names[a.id] = a; });
      var own = cfg.agency.id;
      var items = res[0].data.map(function (s) {
        var a = names[s.agency_id] || { name: "", code: "" };
        return { id: s.id, label: s.prefix + " · " + s.name, own: s.agency_id === own,
                 detail: a.name + (s.is_open ? "" : " · " + t("closed_service")),
                 search: (s.prefix + " " + s.name + " " + a.name + " " + a.code).toLowerCase() };
      });
      // The officer's own agency first: most transfers stay in the house.
      items.sort(function (x, y) { return y.own - x.own; });
      transferPicker.set(items, t("transfer_none"));
    });
  }

  // -- call a number out of turn ----------------------------------------------

  var callPicker = Picker($("callnum-search"), $("callnum-list"), function () { submitCall(); });
  wire($("dlg-callnum"), $("form-callnum"), submitCall);

  function submitCall() {
    var pick = callPicker.current();
    if (!pick) { return; }
    $("dlg-callnum").close();
    K.send("callnum", "call", { ticket_id: pick.id }, function (r) {
      K.S.counter.ticket = r.data; K.S.counter.state = "open";
      K.say(t("msg_called", { number: r.data.number }), "ok");
    });
  }

  function callNumber() {
    $("callnum-search").value = "";
    callPicker.set([], "…");
    $("dlg-callnum").showModal();
    $("callnum-search").focus();
    G.api("GET", "/api/v1/counters/" + cfg.counter_id + "/callable").then(function (r) {
      if (!r.ok) { callPicker.set([], t("error_offline")); return; }
      callPicker.set(r.data.map(function (x) {
        return { id: x.id, label: x.number, exact: x.number.toLowerCase(), cls: x.status,
                 detail: K.serviceName(x.service_id) + " · " + t("status_" + x.status),
                 search: x.number.toLowerCase() };
      }), t("callnum_none"));
    });
  }

  // -- pause -------------------------------------------------------------------

  var reasons = Array.prototype.slice.call(document.querySelectorAll("#dlg-pause [data-reason]"));
  function doPause(reason) {
    $("dlg-pause").close();
    K.send("pause", "pause", { reason: reason }, function (r) { K.S.counter = r.data; K.say(t("msg_paused"), "ok"); });
  }
  reasons.forEach(function (b) { b.addEventListener("click", function () { doPause(b.getAttribute("data-reason")); }); });
  wire($("dlg-pause"), $("form-pause"), function () {
    var text = $("pause-other").value.trim();
    if (!text) { $("pause-error").textContent = t("reason_other_missing"); $("pause-error").hidden = false; return; }
    doPause(text);
  });
  $("dlg-pause").addEventListener("keydown", function (e) {
    if (e.target === $("pause-other")) { return; }
    var n = parseInt(e.key, 10);
    if (n >= 1 && n <= reasons.length) { e.preventDefault(); doPause(reasons[n - 1].getAttribute("data-reason")); }
    if (n === reasons.length + 1) { e.preventDefault(); $("pause-other").focus(); }
  });
  function pause() {
    $("pause-other").value = "";
    $("pause-error").hidden = true;
    $("dlg-pause").showModal();
    reasons[0].focus();
  }

  // -- close -------------------------------------------------------------------

  function doClose() {
    K.send("close", "close", null, function (r) { K.S.counter = r.data; K.say(t("msg_closed"), "ok"); });
  }
  var closeButtons = {};
  document.querySelectorAll("#dlg-close [data-close]").forEach(function (b) {
    closeButtons[b.getAttribute("data-close")] = b;
    b.addEventListener("click", function () { closeChoice(b.getAttribute("data-close")); });
  });
  function closeChoice(choice) {
    if (closeButtons[choice].hidden || closeButtons[choice].disabled) { return; }
    $("dlg-close").close();
    if (choice === "close") { doClose(); }
    if (choice === "finish") { K.actions.finish(doClose); }
    if (choice === "noshow") { K.actions.noshow(doClose); }
    if (choice === "transfer") { transfer(doClose); }
  }
  wire($("dlg-close"), $("form-close"), function () {});
  $("dlg-close").addEventListener("keydown", function (e) {
    var map = { "1": "finish", "2": "transfer", "3": "noshow" };
    var focused = document.activeElement && document.activeElement.getAttribute("data-close");
    if (e.key === "Enter" && document.activeElement.hasAttribute("data-cancel")) { return; }
    if (e.key === "Enter") { e.preventDefault(); closeChoice(focused || "close"); }
    else if (map[e.key]) { e.preventDefault(); closeChoice(map[e.key]); }
  });
  function close() {
    var tk = K.S.counter.ticket;
    $("close-title").textContent = t("close_title", { n: K.S.counter.number });
    $("close-held").textContent = tk ? t("close_held", { number: tk.number }) : "";
    $("close-held").hidden = !tk;
    closeButtons.close.hidden = !!tk;
    closeButtons.finish.hidden = closeButtons.transfer.hidden = closeButtons.noshow.hidden = !tk;
    closeButtons.noshow.disabled = !!K.blocked("noshow");
    closeButtons.finish.disabled = !!K.blocked("finish");
    $("dlg-close").showModal();
    (tk ? closeButtons.finish : closeButtons.close).focus();
  }

  // -- cancel a waiting ticket (the citizen left, or gave up at the counter) -----

  var cancelling = null;  // {id, number}
  wire($("dlg-cancel"), $("form-cancel"), function () {
    var w = cancelling;
    $("dlg-cancel").close();
    if (!w) { return; }
    // Its own action name per ticket: a retried cancel reuses its key, another ticket gets a new one.
    K.send("cancel:" + w.id, "cancel", { ticket_id: w.id }, function () {
      K.S.waiting = K.S.waiting.filter(function (x) { return x.id !== w.id; });
      K.say(t("msg_cancelled", { number: w.number }), "ok");
      K.loadWaiting();
    });
  });
  function cancelTicket(id, number) {
    cancelling = { id: id, number: number };
    $("cancel-title").textContent = t("cancel_title", { number: number });
    $("dlg-cancel").showModal();
    $("form-cancel").querySelector("[type=submit]").focus();
  }
  $("waiting-list").addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".w-cancel");
    if (b) { cancelTicket(Number(b.getAttribute("data-ticket")), b.getAttribute("data-number")); }
  });

  window.ConsoleDialogs = { transfer: transfer, callNumber: callNumber, pause: pause, close: close };
})();
