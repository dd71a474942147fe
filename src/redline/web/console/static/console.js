// Redline console: live updates, deadline countdowns, the FLASH alarm, compose helpers.
// Served by the station itself; no library, nothing from the internet.
"use strict";

(function () {
  let skewMs = 0; // server clock minus browser clock, from each live update
  let audio = null;
  let beepTimer = null;

  function pad(n) { return String(n).padStart(2, "0"); }

  function tickClock() {
    const el = document.getElementById("utc-clock");
    if (el) {
      const d = new Date(Date.now() + skewMs);
      el.textContent = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + "Z";
    }
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      const left = Date.parse(el.dataset.deadline) - (Date.now() + skewMs);
      if (left <= 0) {
        el.textContent = document.documentElement.lang === "zh-Hans" ? "已超时" : "OVERDUE";
        el.classList.add("overdue");
      } else {
        const s = Math.floor(left / 1000);
        const h = Math.floor(s / 3600);
        el.textContent = (h ? h + ":" : "") + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
        el.classList.toggle("soon", s < 60);
      }
    });
  }

  function beep() {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.35);
  }

  function setAlarm(count, html) {
    const box = document.getElementById("alarm");
    if (!box) return;
    const on = count > 0;
    if (html !== undefined) box.innerHTML = html;
    box.hidden = !on;
    document.body.classList.toggle("alarm-on", on);
    document.title = (on ? "⚠ FLASH · " : "") + document.title.replace(/^⚠ FLASH · /, "");
    if (on && !beepTimer) {
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        if (audio.state === "suspended") audio.resume();
      } catch (e) { audio = null; }
      beep();
      beepTimer = setInterval(beep, 1500);
      box.dataset.audible = audio && audio.state === "running" ? "on" : "blocked";
    } else if (!on && beepTimer) {
      clearInterval(beepTimer);
      beepTimer = null;
      delete box.dataset.audible;
    }
  }

  function live() {
    const what = document.body.dataset.live;
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
      if (data.alarm !== undefined) setAlarm(data.alarm, data.alarm_text);
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
        label.textContent = param.name + " ";
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
    const alarm = document.getElementById("alarm");
    if (alarm && alarm.textContent.trim()) setAlarm(1);
    document.addEventListener("click", function () {
      if (audio && audio.state === "suspended") audio.resume();
    });
    compose();
    live();
    tickClock();
    setInterval(tickClock, 1000);
  });
})();
