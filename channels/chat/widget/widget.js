/* omniroute live-chat widget: plain JS, no dependencies, no build step.
 * Embed: <script src="https://<gateway>/chat/<tenant>/widget.js" async></script>  (data-open="true" starts open)
 * Visitor and agent text is always rendered as text (textContent), never as markup.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var src = new URL(script.src);
  var match = src.pathname.match(/^\/chat\/([^\/]+)\/widget\.js$/);
  if (!match) { return; }
  var tenant = decodeURIComponent(match[1]);
  var base = src.origin + "/chat/" + encodeURIComponent(tenant) + "/";
  var wsBase = (src.protocol === "https:" ? "wss://" : "ws://") + src.host + "/chat/" + encodeURIComponent(tenant) + "/ws";
  var storeKey = "omniroute-chat:" + tenant;
  var RENEW_BEFORE_MS = 5 * 60 * 1000;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }
  function save() {
    try { window.sessionStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var state = load() || {session: null, transcript: []};
  var socket = null, retryMs = 500, typingTimer = null, ended = false;

  // -- the DOM, inside a shadow root so the host page's styles and ours never mix --------------------------
  var host = el("div", {"data-omniroute-chat": tenant});
  var root = host.attachShadow({mode: "open"});
  root.appendChild(el("link", {rel: "stylesheet", href: base + "widget.css"}));
  var launcher = el("button", {type: "button", "class": "launcher", "aria-expanded": "false"}, "Chat with us");
  var panel = el("section", {"class": "panel", hidden: "", "aria-label": "Live chat"});
  var header = el("header", {"class": "header"});
  var title = el("h2", {"class": "title"}, "Live chat");
  var close = el("button", {type: "button", "class": "close", "aria-label": "Close chat"}, "\u00d7");
  header.appendChild(title);
  header.appendChild(close);
  var status = el("p", {"class": "status", "data-role": "status"}, "Loading our hours\u2026");
  var hours = el("ul", {"class": "hours", "data-role": "hours"});
  var who = el("div", {"class": "who"});
  var nameInput = el("input", {type: "text", maxlength: "100", placeholder: "Your name (optional)", autocomplete: "name"});
  var emailInput = el("input", {type: "email", maxlength: "320", placeholder: "Email (optional)", autocomplete: "email"});
  who.appendChild(nameInput);
  who.appendChild(emailInput);
  var log = el("ol", {"class": "log", role: "log", "aria-live": "polite", "data-role": "log"});
  var typing = el("p", {"class": "typing", hidden: ""}, "An agent is typing\u2026");
  var form = el("form", {"class": "compose"});
  var input = el("textarea", {rows: "2", maxlength: "4000", placeholder: "Write a message\u2026",
                              "aria-label": "Message", "data-role": "input"});
  var send = el("button", {type: "submit", "class": "send", "data-role": "send"}, "Send");
  var restart = el("button", {type: "button", "class": "restart", hidden: ""}, "Start a new chat");
  form.appendChild(input);
  form.appendChild(send);
  [header, status, hours, who, log, typing, form, restart].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function entry(kind, text, note) {
    var item = el("li", {"class": "msg " + kind, "data-kind": kind});
    item.appendChild(el("span", {"class": "text"}, text));
    var small = el("small", {"class": "note"}, note || "");
    item.appendChild(small);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return small;
  }
  function remember(kind, text) {
    state.transcript.push({kind: kind, text: text});
    state.transcript = state.transcript.slice(-100);
    save();
  }
  state.transcript.forEach(function (t) { entry(t.kind, t.text); });

  function setOpen(open) {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { showHours(); if (state.session) { connect(); } input.focus(); }
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  close.addEventListener("click", function () { setOpen(false); });

  function showHours() {
    fetch(base + "hours", {mode: "cors", credentials: "omit"}).then(function (r) { return r.json(); }).then(function (h) {
      title.textContent = (h.name || tenant) + " live chat";
      status.textContent = h.status;
      status.setAttribute("data-open", String(!!h.open));
      while (hours.firstChild) { hours.removeChild(hours.firstChild); }
      (h.hours || []).forEach(function (line) { hours.appendChild(el("li", {}, line)); });
      if (h.closed_on_public_holidays) { hours.appendChild(el("li", {}, "Closed on public holidays")); }
    }).catch(function () { status.textContent = "Our hours could not be loaded."; });
  }

  // -- HTTP ----------------------------------------------------------------------------------------------
  function post(path, body, token) {
    var headers = {"Content-Type": "application/json"};
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(base + path, {method: "POST", mode: "cors", credentials: "omit", headers: headers,
                               body: JSON.stringify(body)}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return {status: r.status, data: data}; });
    });
  }

  function session() {
    var s = state.session;
    if (s && Date.parse(s.expires_at) - Date.now() > RENEW_BEFORE_MS) { return Promise.resolve(s); }
    var renewing = s && Date.parse(s.expires_at) > Date.now() ? s.token : null;
    var body = renewing ? {} : {name: nameInput.value || null, email: emailInput.value || null};
    return post("sessions", body, renewing).then(function (answer) {
      if (answer.status === 401 && renewing) { state.session = null; save(); return session(); }
      if (answer.status !== 201) { throw new Error(answer.data.error || "the chat is unavailable"); }
      var fresh = answer.data;
      var keep = s && s.session_id === fresh.session_id ? s.last_seq : 0;
      state.session = {session_id: fresh.session_id, token: fresh.token, expires_at: fresh.expires_at, last_seq: keep};
      save();
      who.hidden = true;
      connect();
      return state.session;
    });
  }

  function deliver(text, clientId, note) {
    note.textContent = "sending\u2026";
    session().then(function (s) {
      return post("messages", {client_message_id: clientId, text: text}, s.token);
    }).then(function (answer) {
      if (answer.status === 202) { note.textContent = "sent"; note.parentNode.setAttribute("data-state", "sent"); return; }
      if (answer.status === 401) { state.session = null; save(); }
      var why = answer.status === 429 ? "too many messages, wait a little" : (answer.data.error || "not sent");
      failed(note, text, clientId, why);
    }).catch(function (err) { failed(note, text, clientId, err.message || "not sent"); });
  }
  function failed(note, text, clientId, why) {
    note.textContent = why + " \u2014 ";
    note.parentNode.setAttribute("data-state", "failed");
    var again = el("button", {type: "button", "class": "retry"}, "retry");
    again.addEventListener("click", function () { deliver(text, clientId, note); });  // same id: never twice
    note.appendChild(again);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || ended) { return; }
    input.value = "";
    remember("visitor", text);
    deliver(text, newId(), entry("visitor", text));
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  restart.addEventListener("click", function () {
    state = {session: null, transcript: []};
    save();
    ended = false;
    while (log.firstChild) { log.removeChild(log.firstChild); }
    restart.hidden = true; form.hidden = false; who.hidden = false;
  });

  // -- the WebSocket: authenticate in the first frame, then numbered frames ------------------------------
  function connect() {
    if (socket || !state.session || ended) { return; }
    var ws = socket = new WebSocket(wsBase);
    ws.onopen = function () {
      retryMs = 500;
      ws.send(JSON.stringify({type: "auth", token: state.session.token, last_seq: state.session.last_seq || 0}));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      var last = state.session ? state.session.last_seq || 0 : 0;
      if (frame.type === "typing") {  // live-only: it repeats the latest seq and is never replayed
        if (frame.seq === last) { show(frame); }
        return;
      }
      if (typeof frame.seq !== "number" || frame.seq <= last) { return; }
      if (frame.seq > last + 1) { ws.close(); return; }  // a gap: reconnect, the server replays from last_seq
      state.session.last_seq = frame.seq;
      save();
      show(frame);
    };
    ws.onclose = function (event) {
      socket = null;
      if (ended || event.code === 4401 || event.code === 4400) { return; }  // a new session starts on the next send
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    };
  }

  function show(frame) {
    var text = typeof frame.text === "string" ? frame.text : "";
    if (frame.type === "agent_reply") {
      typing.hidden = true;
      remember("agent", text);
      entry("agent", text);
    } else if (frame.type === "typing") {
      typing.hidden = false;
      window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(function () { typing.hidden = true; }, 6000);
    } else if (frame.type === "system") {
      remember("system", text);
      entry("system", text);
    } else if (frame.type === "session_ended") {
      ended = true;
      var reason = typeof frame.reason === "string" ? frame.reason : "This chat has ended.";
      entry("system", reason);
      state = {session: null, transcript: []};
      save();
      form.hidden = true; restart.hidden = false;
    }
  }

  function mount() {
    document.body.appendChild(host);
    if (script.getAttribute("data-open") === "true") { setOpen(true); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
