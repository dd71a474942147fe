// Redline console: live updates, the UTC clock, compose helpers (the alarms and deadlines: watch.js).
// Served by the station itself; no library, nothing from the internet.
"use strict";

(function () {
  let skewMs = 0; // server clock minus browser clock, from each live update

  function pad(n) { return String(n).padStart(2, "0"); }

  function tickClock() {
    const el = document.getElementById("utc-clock");
    if (el) {
      const d = new Date(Date.now() + skewMs);
      el.textContent = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + "Z";
    }
    window.redlineWatch.tick(Date.now() + skewMs);
  }

  function live() {
    // Every logged-in page listens: the watch (needs action, links, alarms) is on each of them.
    const what = document.body.dataset.live || (document.getElementById("needs") ? "watch" : "");
    if (!what || !window.EventSource) return;
    const status = document.getElementById("live-status");
    const source = new EventSource("/events?page=" + encodeURIComponent(what));
    source.addEventListener("open", function () {
      if (status) { status.textContent = status.dataset.connected; status.dataset.state = "live"; }
    });
    source.addEventListener("error", function () {
      if (status) { status.textContent = status.dataset.disconnected; status.dataset.state = "down"; }
    });
    source.addEventListener("logout", function () { window.location.assign("/login"); });
    source.addEventListener("update", function (event) {
      const data = JSON.parse(event.data);
      if (data.now) skewMs = Date.parse(data.now) - Date.now();
      ["inbox", "outbox", "escalations", "links"].forEach(function (id) {
        const el = document.getElementById(id);
        if (el && data[id] !== undefined) el.innerHTML = data[id];
      });
      window.redlineWatch.update(data);
      tickClock();
    });
  }

  function compose() {
    const form = document.getElementById("compose-form");
    const data = document.getElementById("phrase-data");
    if (!form || !data) return;
    const phrases = JSON.parse(data.textContent);
    const select = document.getElementById("phrase-code");
    const holder = document.getElementById("phrase-params");
    function showMode() {
      const mode = form.querySelector("input[name=mode]:checked").value;
      ["text", "phrase"].forEach(function (name) {
        const part = form.querySelector(".mode-" + name);
        part.hidden = mode !== name;
        // A hidden part's fields are neither checked nor sent.
        part.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = mode !== name; });
      });
    }
    function showParams() {
      const phrase = phrases.find(function (p) { return p.code === select.value; });
      holder.replaceChildren();
      (phrase ? phrase.params : []).forEach(function (param) {
        const label = document.createElement("label");
        label.textContent = (param.label || param.name) + " ";
        const input = document.createElement("input");
        input.name = "param." + param.name;
        input.required = true;
        input.placeholder = param.expected;
        input.title = param.expected;
        label.appendChild(input);
        holder.appendChild(label);
      });
    }
    form.querySelectorAll("input[name=mode]").forEach(function (r) { r.addEventListener("change", showMode); });
    select.addEventListener("change", function () { showParams(); showMode(); });
    showParams();
    showMode();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select.autosubmit").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    compose();
    live();
    tickClock();
    setInterval(tickClock, 1000);
  });
})();
