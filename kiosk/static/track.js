/* The citizen's tracking page: place in line live, and the call with vibration and sound.
 * Kept small for cheap phones; resyncs after the phone sleeps. */
(function () {
  "use strict";
  var G = window.Giliran, cfg = window.GILIRAN, t = G.t;
  var view = cfg.view, code = cfg.code, socket = null, refreshTimer = null, audio = null;
  var lastCalls = view.ticket.status === "called" ? view.ticket.call_count : 0;
  var $ = G.$;

  function counterLabel() {
    var c = view.counter;
    return c ? t("counter_name", { n: c.number }) : "";
  }

  /* Why the estimate is longer than the people ahead suggest (the kiosk says the same). */
  function waitStory(tk) {
    var others = tk.ahead_other_services || 0;
    if (others > 0) { return others === 1 ? t("others_1") : t("others_n", { n: others }); }
    if (!tk.ahead && tk.estimated_wait_s >= 60) { return t("counter_busy_now"); }
    return "";
  }

  function render() {
    var tk = view.ticket;
    $("track").setAttribute("data-status", tk.status);
    $("number").textContent = tk.number;
    $("service").textContent = view.service_name;
    $("status").textContent = t("status_" + tk.status);
    var call = $("call");
    call.hidden = !(tk.status === "called" || tk.status === "serving") || !view.counter;
    call.textContent = tk.status === "called" ? t("go_to", { counter: counterLabel() })
                                              : t("at_counter", { counter: counterLabel() });
    $("facts").hidden = tk.status !== "waiting";
    // Nobody ahead in its own line, but other services' citizens first: not "you are next".
    $("ahead").textContent = tk.ahead === 0 && tk.ahead_other_services ? t("first_in_service") :
                             tk.ahead === 0 ? t("you_are_next") :
                             tk.ahead === 1 ? t("ahead_1") : t("ahead_n", { n: tk.ahead });
    $("estimate").textContent = G.formatWait(tk.estimated_wait_s);
    $("story").textContent = waitStory(tk);
    // Nothing more will be called: no sound to turn on.
    $("sound").hidden = ["done", "cancelled", "expired"].indexOf(tk.status) >= 0;
    $("survey").hidden = tk.status !== "done";
    $("help").textContent = tk.status === "no_show" ? t("no_show_help") :
                            tk.status === "cancelled" ? t("cancelled_help") : t("keep_open");
    $("help").hidden = ["done", "expired"].indexOf(tk.status) >= 0;
    // Only a waiting ticket can be withdrawn: the button (or its open question) goes otherwise.
    if (tk.status !== "waiting") { $("cancel").hidden = true; $("cancel-confirm").hidden = true; }
    $("updated").textContent = t("updated", { time: G.formatTime(new Date().toISOString()) });
    document.title = tk.number + " — " + t("status_" + tk.status);
  }

  /* Called (or called again): buzz and beep where the phone allows it. */
  function alertCall() {
    if (navigator.vibrate) { try { navigator.vibrate([400, 150, 400, 150, 600]); } catch (e) { /* not allowed */ } }
    if (!audio) { return; }
    [0, 0.35, 0.7].forEach(function (at) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.3;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.22);
    });
  }

  function maybeAlert() {
    var tk = view.ticket;
    if (tk.status === "called" && tk.call_count > lastCalls) { alertCall(); }
    lastCalls = tk.status === "called" ? tk.call_count : 0;
  }

  function refetch() {
    G.api("GET", "/api/v1/tickets/" + encodeURIComponent(code) + "/track").then(function (r) {
      if (!r.ok) { return; }
      var moved = r.data.ticket.service_id !== view.ticket.service_id;
      view = r.data;
      render(); maybeAlert();
      // A transfer: reconnect so that the server puts us in the new service's room.
      if (moved && socket) { socket.disconnect(); socket.connect(); }
    });
  }

  /* Many phones hear the same queue_changed: spread their requests over 1.5 s. */
  function refetchSoon() {
    if (refreshTimer) { return; }
    refreshTimer = setTimeout(function () { refreshTimer = null; refetch(); },
                              200 + Math.random() * 1500);
  }

  function applyTicket(ticket) {
    if (!ticket || ticket.id !== view.ticket.id) { return; }
    if (ticket.service_id !== view.ticket.service_id || ticket.counter_id !== view.ticket.counter_id) {
      view.ticket = ticket; refetch(); return;
    }
    view.ticket = ticket;
    render(); maybeAlert();
  }

  socket = G.live({ ticket: code }, {
    snapshot: applyTicket,
    ticket_changed: applyTicket,
    ticket_called: function (call) {
      if (call.ticket_id !== view.ticket.id) { return; }
      view.counter = { id: call.counter_id, number: call.counter_number, name: null };
      view.ticket.status = "called"; view.ticket.counter_id = call.counter_id;
      view.ticket.call_count = Math.max(view.ticket.call_count + 1, lastCalls + 1);
      render(); maybeAlert();
    },
    queue_changed: function (ev) {
      if (ev.service_id === view.ticket.service_id && view.ticket.status === "waiting") { refetchSoon(); }
    }
  });

  // Back from sleep: the socket may have missed events; ask for the truth once.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refetch(); } });

  $("sound").addEventListener("click", function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) { audio = new Ctx(); }
    if (audio && audio.state === "suspended") { audio.resume(); }
    if (navigator.vibrate) { try { navigator.vibrate(100); } catch (e) { /* not allowed */ } }
    $("sound").textContent = t("sound_is_on");
    $("sound").setAttribute("aria-pressed", "true");
  });

  /* The citizen gives up: a confirm step, then the page says the ticket is cancelled. */
  G.confirmStep("cancel", t("cancelling"), function () {
    $("cancel-error").hidden = true;
    return G.api("POST", "/api/v1/tickets/" + encodeURIComponent(code) + "/cancel").then(function (r) {
      if (r.ok) { view.ticket.status = r.data.status; render(); return; }
      $("cancel-error").hidden = false;
      $("cancel-error").textContent = r.offline ? t("error_offline") : G.errorText(r.error);
      if (r.status === 409) { refetch(); }  // called meanwhile, or over: show what it is now
    });
  });

  render();
  window.Track = { refetch: refetch };
})();
