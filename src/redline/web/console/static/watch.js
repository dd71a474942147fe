// Redline console: the watch on every page (web/console/attention.py). Deadlines counting down with
// their UTC time, acknowledging from the needs-action panel, the FLASH and link alarms with their
// tones, and the armed-sound check: a browser may keep the page's audio suspended until a click,
// and then the header says so ("alarm sound off — click to arm") until it is armed.
// console.js calls tick() every second and update() with each live update.
"use strict";

window.redlineWatch = (function () {
  let audio = null;
  let flashTimer = null;
  let linkTimer = null;
  let strings = { dueIn: "due in", overdueBy: "OVERDUE by", dueAt: "due {at}" };

  function pad(n) { return String(n).padStart(2, "0"); }

  function span(ms) {
    const s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600);
    return (h ? h + ":" : "") + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }

  function setText(root, selector, text) {
    const el = root.querySelector(selector);
    if (el && el.textContent !== text) el.textContent = text;
  }

  // Every deadline: "due in 04:58 · 11:32:10Z", or "OVERDUE by 02:10 · due 11:30:00Z".
  function tick(nowMs) {
    document.querySelectorAll(".due[data-deadline]").forEach(function (el) {
      const left = Date.parse(el.dataset.deadline) - nowMs;
      const overdue = left < 0;
      el.classList.toggle("overdue", overdue);
      el.classList.toggle("soon", !overdue && left < 60000);
      setText(el, ".due-label", overdue ? strings.overdueBy : strings.dueIn);
      setText(el, ".countdown", span(left));
      setText(el, ".due-at", overdue ? strings.dueAt.replace("{at}", el.dataset.at) : el.dataset.at);
    });
  }

  // -- sound ------------------------------------------------------------------------------------

  function context() {
    if (!audio) {
      try {
        audio = new (window.AudioContext || window.webkitAudioContext)();
        audio.addEventListener("statechange", showArmed);
      } catch (e) {
        audio = null;
      }
    }
    return audio;
  }

  function armed() { return audio !== null && audio.state === "running"; }

  function showArmed() {
    const on = armed();
    const button = document.getElementById("arm-sound");
    if (button) button.hidden = on;
    document.body.dataset.audible = on ? "on" : "blocked";
    [["alarm", flashTimer], ["link-banner", linkTimer]].forEach(function (pair) {
      const box = document.getElementById(pair[0]);
      if (box && pair[1]) box.dataset.audible = on ? "on" : "blocked";
    });
  }

  // Resuming needs the right to start audio, which a click gives: only clicks call this. (A context
  // created on a page the browser lets start audio, e.g. the one a login click leads to, runs at once.)
  function arm() {
    const a = context();
    if (a && a.state !== "running") a.resume().then(showArmed, showArmed);
    showArmed();
  }

  function tone(frequency, type, start, length) {
    if (!armed()) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = frequency;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + length);
  }

  function flashTone() { tone(880, "square", 0, 0.35); }
  function linkTone() { tone(523, "sine", 0, 0.18); tone(392, "sine", 0.25, 0.3); } // falling, softer

  // One alarm: a banner shown while count > 0, a tone repeated while it shows.
  function alarm(id, count, html, timer, sound, every) {
    const box = document.getElementById(id);
    if (!box) return timer;
    const on = count > 0;
    if (html !== undefined) box.innerHTML = html;
    box.hidden = !on;
    if (on && !timer) {
      sound();
      timer = setInterval(sound, every);
    } else if (!on && timer) {
      clearInterval(timer);
      timer = null;
      delete box.dataset.audible;
    }
    return timer;
  }

  // The title carries every alarm that is on: "⚠ FLASH · ⚠ LINK DOWN · Traffic · Washington", in the
  // page's language ("⚠ 特急 · …"), so a console in a background tab still shows it on the tab.
  // The page's own title is kept apart.
  let baseTitle = null;
  let flashOn = false;
  let linkTitle = "";

  function retitle() {
    if (baseTitle === null) baseTitle = document.title;
    document.title = (flashOn ? "⚠ " + (strings.flash || "FLASH") + " · " : "") + (linkTitle ? "⚠ " + linkTitle + " · " : "") + baseTitle;
  }

  function setFlash(count, html) {
    flashTimer = alarm("alarm", count, html, flashTimer, flashTone, 1500);
    flashOn = count > 0;
    document.body.classList.toggle("alarm-on", flashOn);
    retitle();
    showArmed();
  }

  function setLink(count, html, title) {
    linkTimer = alarm("link-banner", count, html, linkTimer, linkTone, 3000);
    document.body.classList.toggle("link-alarm-on", count > 0);
    const box = document.getElementById("link-banner");
    if (box && title !== undefined) box.dataset.title = title;
    linkTitle = count > 0 ? (box && box.dataset.title) || "LINK" : "";
    retitle();
    showArmed();
  }

  function update(data) {
    [["needs", "needs"], ["lights", "link-lights"], ["on_watch", "on-watch"]].forEach(function (pair) {
      const el = document.getElementById(pair[1]);
      if (el && data[pair[0]] !== undefined && el.innerHTML !== data[pair[0]]) el.innerHTML = data[pair[0]];
    });
    if (data.alarm !== undefined) setFlash(data.alarm, data.alarm_text);
    if (data.link_alarm !== undefined) setLink(data.link_alarm, data.link_banner, data.link_title);
  }

  // Acknowledge from the panel without leaving the page; the live stream then redraws it.
  function acknowledge(event) {
    const form = event.target;
    if (!form.classList || !form.classList.contains("ack-now")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then(function (answer) {
      if (!answer.ok) { form.submit(); return; } // show the console's error page for it
      const row = form.closest("li");
      if (row) row.remove(); // done here; the next live update redraws the counts
    }, function () { form.submit(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("needs")) return; // not logged in: no watch
    const given = document.getElementById("watch-strings");
    if (given) strings = JSON.parse(given.textContent);
    document.addEventListener("submit", acknowledge);
    document.addEventListener("click", arm);
    context();
    showArmed();
    const flash = document.getElementById("alarm");
    if (flash && !flash.hidden) setFlash(1);
    const link = document.getElementById("link-banner");
    if (link && !link.hidden) setLink(1);
  });

  return { tick: tick, update: update };
})();
