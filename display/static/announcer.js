/* The lobby display's announcer: calls queue in order and are spoken one at a time.
 *
 * Each call's clips (URLs composed by the server, in a full and a short form)
 * are fetched and decoded as soon as the call arrives, cached, trimmed of the
 * silence at their ends, and scheduled back to back on one AudioContext.
 * The next announcement is planned a moment before the current one ends and
 * starts a fixed gap after it on the audio clock, so two never overlap and no
 * timer's lateness adds up.
 *
 * Keeping up (docs/display.md): the full sentence when the announcer is idle,
 * the short form ("A nol nol satu, loket tiga") while other calls wait; a call
 * is dropped unspoken when its counter no longer holds its ticket (finished,
 * no-show, transferred, the next one called) or when the same ticket is
 * called again (the recall is spoken instead). What happened to every call is
 * kept in GiliranAnnouncer.state.calls for tests and diagnostics. */
(function () {
  "use strict";

  var MAX_QUEUE = 200;          // far beyond any real burst; past it the oldest go
  var MAX_LOG = 50;             // bounded history of what was announced
  var MAX_CALLS = 100;          // bounded record of every call received
  var MAX_BUFFERS = 300;        // decoded clips kept (a pack has 50)
  var STALE_MS = 5 * 60 * 1000; // a call that waited this long (sound blocked) is no longer news
  var GAP_MS = 350;             // pause before a full announcement, or after one
  var SHORT_GAP_MS = 120;       // pause between two short ones in a backlog
  var BACKLOG_WAIT_MS = 4000;   // a call that waited longer than this is said short
  var PLAN_AHEAD_MS = 150;      // plan the next announcement this long before the current ends
  var START_DELAY_S = 0.03;     // from scheduling to sound when idle
  var SILENCE = 0.01;           // trim what is quieter than 1 % of a clip's peak (-40 dB) at its ends
  var KEEP_START_S = 0.005;     // ... keeping this much before the sound, so no word starts with a click,
  var KEEP_END_S = 0.015;       // ... and this much after it: a breath between two words
  var FETCH_TIMEOUT_MS = 8000;

  var ctx = null, gain = null;
  var buffers = new Map();      // url -> Promise of {buffer, offset, duration}
  var ready = new Map();        // url -> {buffer, offset, duration}, once decoded
  var queue = [];               // calls waiting, oldest first
  var holds = new Map();        // counter id -> the ticket id it holds (null: none)
  var pending = null;           // the announcement scheduled or sounding: {item, sources, startAt, endAt}
  var lastEndAt = 0, lastForm = null, planning = null, planTimer = null;  // planning: the call whose clips load
  var hooks = { start: null, end: null, blocked: null };
  var state = {
    announced: [],   // ticket numbers, in the order their announcement finished
    log: [],         // {number, start, end, clips, ok, form, planned_ms}
    calls: [],       // every call received: see record()
    playing: null,   // the number being announced, or null
    skipped: 0,      // stale or overflowing calls not spoken
    dropped: 0,      // calls dropped because their ticket moved on or was called again
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

  // -- clips --------------------------------------------------------------------------------

  function fetchWithTimeout(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(url, controller ? { signal: controller.signal } : {}).then(function (resp) {
      if (timer) { clearTimeout(timer); }
      if (!resp.ok) { throw new Error("clip " + resp.status); }
      return resp.arrayBuffer();
    });
  }

  /* The part of a decoded clip between its first and last sound: a recorded clip with
   * silence at its ends (an uploaded pack, whatever its format) is played without it. */
  function audible(buffer) {
    var peak = 0, ch, data, i, n = buffer.length, first = n, last = -1;
    for (ch = 0; ch < buffer.numberOfChannels; ch++) {
      data = buffer.getChannelData(ch);
      for (i = 0; i < n; i++) { var a = Math.abs(data[i]); if (a > peak) { peak = a; } }
    }
    var limit = peak * SILENCE;
    for (ch = 0; ch < buffer.numberOfChannels && peak > 0; ch++) {
      data = buffer.getChannelData(ch);
      for (i = 0; i < first; i++) { if (Math.abs(data[i]) > limit) { first = i; break; } }
      for (i = n - 1; i > last; i--) { if (Math.abs(data[i]) > limit) { last = i; break; } }
    }
    if (last < first) { return { buffer: buffer, offset: 0, duration: buffer.duration }; }
    var offset = Math.max(0, first / buffer.sampleRate - KEEP_START_S);
    var end = Math.min(buffer.duration, (last + 1) / buffer.sampleRate + KEEP_END_S);
    return { buffer: buffer, offset: offset, duration: end - offset };
  }

  function load(url) {
    var hit = buffers.get(url);
    if (hit) { return hit; }
    var p = fetchWithTimeout(url).then(function (data) {
      return new Promise(function (resolve, reject) { ctx.decodeAudioData(data, resolve, reject); });
    }).then(function (buffer) {
      var part = audible(buffer);
      if (buffers.get(url) === p) { ready.set(url, part); }
      return part;
    });
    p.catch(function () { buffers.delete(url); });
    buffers.set(url, p);
    if (buffers.size > MAX_BUFFERS) {
      var oldest = buffers.keys().next().value;
      buffers.delete(oldest);
      ready.delete(oldest);
    }
    return p;
  }

  function loadAll(urls) { return Promise.all((urls || []).map(load)); }

  // -- the queue ------------------------------------------------------------------------------

  /* One record per call received, kept in state.calls: what the tests measure.
   * Times are Date.now() milliseconds; `start` and `end` are when its sound begins and
   * ends (mapped from the audio clock: `audio_start`, `audio_end`, in its seconds),
   * `planned_ms` the length of the composed clips
   * (`clip_ms` each, as played: trimmed). `outcome`: queued, scheduled, playing, spoken,
   * failed, dropped (`reason` ticket_left or called_again) or skipped (stale, overflow). */
  function record(call) {
    var calledAt = Date.parse(call.called_at);
    return {
      ticket_id: call.ticket_id, number: call.number, counter_id: call.counter_id,
      recall: !!call.recall, called_at: isNaN(calledAt) ? null : calledAt, received: Date.now(),
      outcome: "queued", reason: null, form: null, start: null, end: null, planned_ms: null, clip_ms: [],
      clips: 0, audio_start: null, audio_end: null
    };
  }

  function drop(item, reason) {
    item.rec.outcome = "dropped";
    item.rec.reason = reason;
    state.dropped += 1;
  }

  function stillWanted(item) {
    // Unknown counter (an older server, a call from a snapshot): speak it.
    if (item.counterId === null || !holds.has(item.counterId)) { return true; }
    return holds.get(item.counterId) === item.ticketId;
  }

  /* Drop queued calls whose counter has moved on; cancel one scheduled but not yet sounding. */
  function prune() {
    queue = queue.filter(function (item) {
      if (stillWanted(item)) { return true; }
      drop(item, "ticket_left");
      return false;
    });
    if (pending && !stillWanted(pending.item)) { cancelPending("ticket_left"); }
  }

  function cancelPending(reason) {
    // Only before its sound begins: an announcement that has started is never cut off.
    if (!pending || !ctx || ctx.currentTime >= pending.startAt - 0.01) { return false; }
    pending.sources.forEach(function (src) { try { src.stop(); } catch (e) { /* not started */ } });
    clearTimeout(pending.startTimer);
    clearTimeout(pending.endTimer);
    clearTimeout(planTimer);
    drop(pending.item, reason);
    lastEndAt = pending.prevEndAt;
    lastForm = pending.prevForm;
    pending = null;
    pump();
    return true;
  }

  function canPlay() {
    // "unsupported": no Web Audio at all; calls still pass through (shown, not spoken).
    return state.sound === "on" || state.sound === "unsupported";
  }

  /* Plan the next announcement: called when idle, and a moment before the current one ends. */
  function pump() {
    if (planning || !queue.length || !canPlay()) { return; }
    if (pending && ctx && pending.endAt - ctx.currentTime > PLAN_AHEAD_MS / 1000 + 0.02) { return; }
    var item = queue.shift();
    if (Date.now() - item.rec.received > STALE_MS) {
      item.rec.outcome = "skipped"; item.rec.reason = "stale"; state.skipped += 1;
      pump(); return;
    }
    if (!stillWanted(item)) { drop(item, "ticket_left"); pump(); return; }
    // The short form while other calls wait, or for a call that has waited long already.
    var backlog = queue.length > 0 || Date.now() - item.rec.received > BACKLOG_WAIT_MS;
    var form = backlog && item.short.length ? "short" : "full";
    var clips = form === "short" ? item.short : item.clips;
    if (!clips.length || !ensureContext()) { finish(item, form, false, null); return; }
    // Decoded already (the usual case): scheduled at once, not a promise turn later.
    if (clips.every(function (u) { return ready.has(u); })) {
      schedule(item, form, clips.map(function (u) { return ready.get(u); }));
      return;
    }
    planning = item;
    loadAll(clips).then(function (parts) {
      planning = null;
      // It may have been finished or called again while its clips loaded.
      if (item.rec.outcome === "dropped") { pump(); return; }
      if (!stillWanted(item)) { drop(item, "ticket_left"); pump(); return; }
      schedule(item, form, parts);
    }, function () {
      planning = null;
      finish(item, form, false, null);
    });
  }

  function schedule(item, form, parts) {
    var gap = (form === "short" && lastForm === "short") ? SHORT_GAP_MS : GAP_MS;
    var now = ctx.currentTime;
    var startAt = Math.max(now + START_DELAY_S, lastEndAt ? lastEndAt + gap / 1000 : 0);
    var t = startAt, sources = [];
    parts.forEach(function (part) {
      var src = ctx.createBufferSource();
      src.buffer = part.buffer;
      src.connect(gain);
      src.start(t, part.offset, part.duration);
      sources.push(src);
      t += part.duration;
    });
    var wall = Date.now() - now * 1000;  // audio clock -> Date.now()
    var rec = item.rec;
    rec.form = form;
    rec.clips = parts.length;
    rec.planned_ms = Math.round((t - startAt) * 1000);
    rec.clip_ms = parts.map(function (part) { return Math.round(part.duration * 1000); });
    rec.start = Math.round(wall + startAt * 1000);
    rec.end = Math.round(wall + t * 1000);
    rec.outcome = "scheduled";
    pending = { item: item, sources: sources, startAt: startAt, endAt: t, prevEndAt: lastEndAt, prevForm: lastForm };
    lastEndAt = t;
    lastForm = form;
    var p = pending;
    rec.audio_start = startAt;
    rec.audio_end = t;
    // The audio clock can drift from Date.now() (a busy CPU starves the audio thread): the
    // times are mapped again when the sound begins and ends, from the clock as it is then.
    function wallOf(at) { return Math.round(Date.now() - (ctx.currentTime - at) * 1000); }
    p.startTimer = setTimeout(function () {
      rec.start = wallOf(startAt);
      rec.outcome = "playing";
      state.playing = item.number;
      if (hooks.start) { hooks.start(item); }
    }, Math.max(0, (startAt - ctx.currentTime) * 1000));
    p.endTimer = setTimeout(function () {
      rec.end = wallOf(t);
      if (pending === p) { pending = null; }
      finish(item, form, true, rec);
    }, Math.max(0, (t - ctx.currentTime) * 1000));
    clearTimeout(planTimer);
    planTimer = setTimeout(pump, Math.max(0, (t - ctx.currentTime) * 1000 - PLAN_AHEAD_MS));
  }

  function finish(item, form, ok, rec) {
    var r = item.rec;
    r.outcome = ok ? "spoken" : "failed";
    if (!ok) { r.form = form; r.start = r.start || Date.now(); r.end = Date.now(); }
    push(state.log, { number: item.number, start: r.start, end: r.end, clips: r.clips || item.clips.length,
                      ok: ok, form: form, planned_ms: r.planned_ms,
                      audio_start: r.audio_start, audio_end: r.audio_end }, MAX_LOG);
    push(state.announced, item.number, MAX_LOG);
    state.playing = null;  // the next one, planned already, sets it when its sound begins
    if (hooks.end) { hooks.end(item, queue.length + (pending ? 1 : 0)); }
    pump();
  }

  window.GiliranAnnouncer = {
    state: state,
    queueLength: function () { return queue.length; },
    /* Queue a call {ticket_id, counter_id, number, clips, clips_short, recall, called_at};
     * it is spoken after every call queued before it, unless its ticket moves on first. */
    enqueue: function (call) {
      var item = {
        ticketId: call.ticket_id === undefined ? null : call.ticket_id,
        counterId: call.counter_id === undefined ? null : call.counter_id,
        number: call.number,
        clips: (call.clips || []).slice(0, 40),
        short: (call.clips_short || []).slice(0, 40),
        rec: record(call)
      };
      push(state.calls, item.rec, MAX_CALLS);
      if (item.ticketId !== null) {
        // Called again (a recall, or at another counter): the newer call replaces the older.
        queue = queue.filter(function (old) {
          if (old.ticketId !== item.ticketId) { return true; }
          drop(old, "called_again");
          return false;
        });
        if (pending && pending.item.ticketId === item.ticketId) { cancelPending("called_again"); }
        if (planning && planning.ticketId === item.ticketId) { drop(planning, "called_again"); }
        // A call means its counter now holds this ticket (counter_changed confirms it).
        if (item.counterId !== null) { holds.set(item.counterId, item.ticketId); }
      }
      if (queue.length >= MAX_QUEUE) {
        var old = queue.shift();
        old.rec.outcome = "skipped"; old.rec.reason = "overflow"; state.skipped += 1;
      }
      queue.push(item);
      // Fetch and decode now, so the clips are ready when its turn comes.
      if (ensureContext()) { loadAll(item.clips).catch(function () {}); loadAll(item.short).catch(function () {}); }
      pump();
    },
    /* A counter as counter_changed carries it: calls of a ticket it no longer holds are dropped. */
    counterChanged: function (counter) {
      if (!counter || counter.id === undefined) { return; }
      holds.set(counter.id, counter.ticket ? counter.ticket.id : null);
      prune();
    },
    /* Every counter at once (the snapshot). */
    counters: function (list) {
      (list || []).forEach(function (c) { holds.set(c.id, c.ticket ? c.ticket.id : null); });
      prune();
    },
    /* Decode a call's clips ahead of time (the pack is then warm for the first call). */
    preload: function (clips) { if (ensureContext()) { (clips || []).forEach(function (u) { load(u).catch(function () {}); }); } },
    busy: function () { return pending !== null || planning !== null || queue.length > 0; },
    checkSound: checkSound,
    unlock: unlock,
    on: function (name, fn) { hooks[name] = fn; }
  };
})();
