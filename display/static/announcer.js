/* The lobby display's announcer: calls queue in order and are spoken one at a time.
 * Each call's clips (URLs composed by the server) are decoded once, cached, and
 * scheduled back to back on one AudioContext, so words follow without gaps.
 * Observable for tests and diagnostics through GiliranAnnouncer.state. */
(function () {
  "use strict";

  var MAX_QUEUE = 200;          // far beyond any real burst; past it the oldest go
  var MAX_LOG = 50;             // bounded history of what was announced
  var MAX_BUFFERS = 300;        // decoded clips kept (a pack has 50)
  var STALE_MS = 5 * 60 * 1000; // a call that waited this long (sound blocked) is no longer news
  var GAP_MS = 600;             // pause between two announcements
  var FETCH_TIMEOUT_MS = 8000;

  var ctx = null, gain = null;
  var buffers = new Map();
  var queue = [];
  var hooks = { start: null, end: null, blocked: null };
  var state = {
    announced: [],   // ticket numbers, in the order their announcement finished
    log: [],         // {number, start, end, clips, ok}
    playing: null,   // the number being announced, or null
    skipped: 0,      // stale or overflowing calls not spoken
    sound: "unknown" // "on", "blocked" or "unsupported"
  };

  function push(list, item, max) { list.push(item); while (list.length > max) { list.shift(); } }

  function ensureContext() {
    if (ctx) { return ctx; }
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { state.sound = "unsupported"; return null; }
    ctx = new AC();
    gain = ctx.createGain();
    gain.connect(ctx.destination);
    ctx.onstatechange = function () { checkSound(); };
    return ctx;
  }

  /* Is sound allowed? Resolves to "on" or "blocked" (and tells the page). */
  function checkSound() {
    var c = ensureContext();
    if (!c) { pump(); return Promise.resolve(state.sound); }
    var resumed = c.state === "running" ? Promise.resolve() : c.resume().catch(function () {});
    var wait = new Promise(function (resolve) { setTimeout(resolve, 400); });
    return Promise.race([resumed, wait]).then(function () {
      var was = state.sound;
      state.sound = c.state === "running" ? "on" : "blocked";
      if (state.sound !== was && hooks.blocked) { hooks.blocked(state.sound === "blocked"); }
      if (state.sound === "on") { pump(); }
      return state.sound;
    });
  }

  /* From a user's tap: browsers allow resuming audio inside the gesture. */
  function unlock() {
    var c = ensureContext();
    if (!c) { return Promise.resolve("unsupported"); }
    // A silent one-sample sound inside the gesture unlocks older WebKit too.
    try {
      var src = c.createBufferSource();
      src.buffer = c.createBuffer(1, 1, 22050);
      src.connect(c.destination);
      src.start(0);
    } catch (e) { /* nothing to unlock */ }
    return c.resume().catch(function () {}).then(checkSound);
  }

  function fetchWithTimeout(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(url, controller ? { signal: controller.signal } : {}).then(function (resp) {
      if (timer) { clearTimeout(timer); }
      if (!resp.ok) { throw new Error("clip " + resp.status); }
      return resp.arrayBuffer();
    });
  }

  function load(url) {
    var hit = buffers.get(url);
    if (hit) { return hit; }
    var p = fetchWithTimeout(url).then(function (data) {
      return new Promise(function (resolve, reject) { ctx.decodeAudioData(data, resolve, reject); });
    });
    p.catch(function () { buffers.delete(url); });
    buffers.set(url, p);
    if (buffers.size > MAX_BUFFERS) { buffers.delete(buffers.keys().next().value); }
    return p;
  }

  /* Play the clips back to back; resolves when the last one has sounded. */
  function speak(clips) {
    if (!clips || !clips.length || !ensureContext()) { return Promise.resolve(false); }
    return Promise.all(clips.map(load)).then(function (decoded) {
      var t = ctx.currentTime + 0.05, start = t;
      decoded.forEach(function (buffer) {
        var src = ctx.createBufferSource();
        src.buffer = buffer;
        src.connect(gain);
        src.start(t);
        t += buffer.duration;
      });
      return new Promise(function (resolve) {
        setTimeout(function () { resolve(true); }, Math.max(0, (t - start) * 1000 + 80));
      });
    });
  }

  function pump() {
    // "unsupported": no Web Audio at all; calls still pass through (shown, not spoken).
    if (state.playing !== null || !queue.length || state.sound === "blocked" || state.sound === "unknown") { return; }
    var item = queue.shift();
    if (Date.now() - item.queuedAt > STALE_MS) { state.skipped += 1; pump(); return; }
    state.playing = item.number;
    var entry = { number: item.number, start: Date.now(), end: null, clips: item.clips.length, ok: false };
    if (hooks.start) { hooks.start(item); }
    speak(item.clips).then(function (ok) { entry.ok = ok; }, function () { entry.ok = false; })
      .then(function () {
        entry.end = Date.now();
        push(state.log, entry, MAX_LOG);
        push(state.announced, item.number, MAX_LOG);
        state.playing = null;
        if (hooks.end) { hooks.end(item, queue.length); }
        setTimeout(pump, queue.length ? GAP_MS : 0);
      });
  }

  window.GiliranAnnouncer = {
    state: state,
    queueLength: function () { return queue.length; },
    /* Queue a call {number, clips}; it is spoken after every call queued before it. */
    enqueue: function (call) {
      if (queue.length >= MAX_QUEUE) { queue.shift(); state.skipped += 1; }
      queue.push({ number: call.number, clips: (call.clips || []).slice(0, 40), queuedAt: Date.now() });
      pump();
    },
    /* Decode a call's clips ahead of time (the pack is then warm for the first call). */
    preload: function (clips) { if (ensureContext()) { (clips || []).forEach(function (u) { load(u).catch(function () {}); }); } },
    busy: function () { return state.playing !== null || queue.length > 0; },
    checkSound: checkSound,
    unlock: unlock,
    on: function (name, fn) { hooks[name] = fn; }
  };
})();
