// Redline console: file, amend and cancel our notices on the deconfliction map.
// Leaflet-Geoman (served from /vendor/geoman/, an npm package like Leaflet) draws the volumes:
// a polygon, a circle, or a line that becomes a corridor of the half-width in the form. The form
// posts to /deconfliction/notices (web/console/notice_forms.py) with the session's CSRF token; the
// answer is JSON, and an error naming a field is shown at that field (the drawing's at the map).
"use strict";

(function () {
  // Geoman edits only the layers that ask for it (ours, being drawn); map.js's notices stay still.
  if (window.L && L.PM) L.PM.setOptIn(true);

  let map = null;
  let drawn = null; // the volumes being drawn or amended
  let editing = null; // id of our notice being amended, or null for a new one
  let ours = {}; // id -> {notice: our notice's JSON, offset: whole turns map.js moved it by}

  function form() { return document.getElementById("notice-form"); }
  function input(name) { return form().elements.namedItem(name); }

  function wrapLon(lon) { return ((((lon + 180) % 360) + 360) % 360) - 180; }
  function lonLat(p) { return [wrapLon(p.lng), p.lat]; }
  // [lon, lat] points -> Leaflet's [lat, lng], moved by ``offset`` degrees and unwrapped along the
  // line, so a ring across the antimeridian stays one small shape (as map.js draws it).
  function placed(points, offset) {
    let previous = null;
    return points.map(function (p) {
      let lon = p[0] + offset;
      while (previous !== null && lon - previous > 180) lon -= 360;
      while (previous !== null && lon - previous < -180) lon += 360;
      previous = lon;
      return [p[1], lon];
    });
  }

  // map.js draws each notice moved by whole turns next to the others (across the antimeridian);
  // a notice put back for amending is moved alike, and wrapped into -180..180 again when sent.
  function turnOffset(n) {
    const shape = n.shapes[0];
    const drawnLon = (shape.path || shape.ring || shape.outline)[0][1];
    const v = n.notice.volumes[0];
    const rawLon = (v.polygon ? v.polygon[0] : v.circle ? v.circle.centre : v.corridor.path[0])[0];
    return 360 * Math.round((drawnLon - rawLon) / 360);
  }

  // -- the drawing ------------------------------------------------------------------

  function editable(layer) {
    layer.options.pmIgnore = false;
    L.PM.reInitLayer(layer);
    layer.on("pm:edit", changed);
    drawn.addLayer(layer);
  }

  function volumes() {
    const half = Number(input("corridor_half_width_m").value);
    return drawn.getLayers().map(function (layer) {
      if (layer instanceof L.Circle) {
        return { circle: { centre: lonLat(layer.getLatLng()), radius_m: layer.getRadius() } };
      }
      if (layer instanceof L.Polygon) {
        return { polygon: layer.getLatLngs()[0].map(lonLat) };
      }
      if (layer instanceof L.Polyline) {
        return { corridor: { path: layer.getLatLngs().map(lonLat), half_width_m: Number.isFinite(half) ? half : null } };
      }
      return null;
    }).filter(Boolean);
  }

  function changed() {
    const summary = document.getElementById("drawn-summary");
    const n = drawn ? drawn.getLayers().length : 0;
    summary.textContent = n ? summary.dataset.some.replace("{n}", String(n)) : summary.dataset.none;
    document.getElementById("notice-form-card").dataset.drawn = String(n);
  }

  function drawVolumes(notice, offset) {
    drawn.clearLayers();
    notice.volumes.forEach(function (v) {
      if (v.circle) {
        editable(L.circle(placed([v.circle.centre], offset)[0], { radius: v.circle.radius_m }));
      } else if (v.polygon) {
        editable(L.polygon(placed(v.polygon, offset)));
      } else if (v.corridor) {
        input("corridor_half_width_m").value = String(v.corridor.half_width_m);
        editable(L.polyline(placed(v.corridor.path, offset)));
      }
    });
    changed();
  }

  function setUpDrawing(leafletMap) {
    map = leafletMap;
    if (!map.pm) return; // Geoman missing: map.js has already said the map library is absent
    drawn = L.featureGroup().addTo(map);
    if ((document.documentElement.lang || "").startsWith("zh")) map.pm.setLang("zh");
    map.pm.addControls({
      position: "topleft",
      drawMarker: false, drawCircleMarker: false, drawRectangle: false, drawText: false,
      cutPolygon: false, rotateMode: false, dragMode: false,
      drawPolygon: true, drawCircle: true, drawPolyline: true, editMode: true, removalMode: true,
    });
    map.on("pm:create", function (e) {
      map.removeLayer(e.layer);
      editable(e.layer);
      changed();
    });
    map.on("pm:remove", function (e) {
      drawn.removeLayer(e.layer);
      changed();
    });
  }

  // -- the form ---------------------------------------------------------------------

  function clearErrors() {
    form().querySelectorAll("[data-error-for]").forEach(function (span) {
      span.hidden = true;
      span.textContent = "";
    });
    form().querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
    document.getElementById("notice-form-error").hidden = true;
    document.getElementById("notice-form-done").hidden = true;
  }

  // The error's field path ("altitude.lower", "volumes[0].polygon") -> the place that shows it.
  function errorPlace(field) {
    if (!field) return null;
    if (/corridor\.half_width_m$/.test(field)) field = "corridor_half_width_m";
    let best = null;
    form().querySelectorAll("[data-error-for]").forEach(function (span) {
      const p = span.dataset.errorFor;
      const fits = field === p || field.startsWith(p + ".") || field.startsWith(p + "[");
      if (fits && (!best || p.length > best.dataset.errorFor.length)) best = span;
    });
    return best;
  }

  function showError(error) {
    const place = errorPlace(error.field);
    if (!place) {
      const box = document.getElementById("notice-form-error");
      box.textContent = error.message;
      box.hidden = false;
      return;
    }
    place.textContent = error.message;
    place.hidden = false;
    const named = input(place.dataset.errorFor) || input(place.dataset.errorFor + ".value");
    if (named && named.setAttribute) named.setAttribute("aria-invalid", "true");
    if (place.dataset.errorFor === "volumes") document.getElementById("map").setAttribute("aria-invalid", "true");
  }

  function done(what) {
    const box = document.getElementById("notice-form-done");
    box.textContent = box.dataset[what];
    box.hidden = false;
    document.getElementById("map").removeAttribute("aria-invalid");
    document.dispatchEvent(new CustomEvent("redline:refresh"));
  }

  function post(url, body, what) {
    const submit = document.getElementById("notice-submit");
    submit.disabled = true;
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        return r.json().then(function (answer) { return { ok: r.ok, answer: answer }; });
      })
      .then(function (result) {
        if (!result.ok) {
          showError(result.answer.error);
          return;
        }
        startNew();
        done(what);
      })
      .catch(function (e) { showError({ field: null, message: String(e) }); })
      .finally(function () { submit.disabled = false; });
  }

  function submit(ev) {
    ev.preventDefault();
    clearErrors();
    input("volumes").value = drawn ? JSON.stringify(volumes()) : "";
    const body = new URLSearchParams(new FormData(form()));
    if (editing) {
      post("/deconfliction/notices/" + encodeURIComponent(editing), body, "amended");
    } else {
      post("/deconfliction/notices", body, "filed");
    }
  }

  function cancelNotice() {
    if (!editing) return;
    clearErrors();
    const body = new URLSearchParams();
    body.set("csrf", input("csrf").value);
    body.set("reason", input("reason").value);
    post("/deconfliction/notices/" + encodeURIComponent(editing) + "/cancel", body, "cancelled");
  }

  function utcInput(iso) { return iso ? iso.slice(0, 16) : ""; }

  function setMode(id) {
    editing = id;
    const title = document.getElementById("notice-form-title");
    const button = document.getElementById("notice-submit");
    title.textContent = id ? title.dataset.amend : title.dataset.file;
    button.textContent = id ? button.dataset.amend : button.dataset.file;
    document.getElementById("notice-cancel").hidden = !id;
    document.getElementById("notice-new").hidden = !id;
    document.getElementById("cancel-reason-label").hidden = !id;
    document.getElementById("notice-pick").value = id || "";
  }

  function startNew() {
    form().reset();
    const start = new Date(Date.now() + 10 * 60 * 1000);
    input("window.start").value = start.toISOString().slice(0, 16);
    input("window.end").value = new Date(start.getTime() + 3 * 3600 * 1000).toISOString().slice(0, 16);
    if (drawn) drawn.clearLayers();
    setMode(null);
    changed();
  }

  function loadNotice(entry) {
    const n = entry.notice;
    clearErrors();
    form().reset();
    ["activity", "title", "priority", "text"].forEach(function (k) { input(k).value = String(n[k]); });
    ["lower", "upper"].forEach(function (side) {
      const limit = n.altitude[side];
      input("altitude." + side + ".value").value = String(limit.value);
      input("altitude." + side + ".unit").value = limit.unit;
      input("altitude." + side + ".reference").value = limit.reference;
    });
    input("window.start").value = utcInput(n.window.start);
    input("window.end").value = utcInput(n.window.end);
    input("window.estimated_end").checked = n.window.estimated_end;
    input("window.permanent").checked = n.window.permanent;
    ["horizontal_m", "vertical_m", "time_s"].forEach(function (k) { input("buffers." + k).value = String(n.buffers[k]); });
    if (drawn) drawVolumes(n, entry.offset);
    setMode(n.id);
  }

  // Our notices, from each refresh of the map's data, to pick one to amend or cancel.
  function listOurs(data) {
    const pick = document.getElementById("notice-pick");
    const first = pick.options[0];
    ours = {};
    const options = [first];
    data.notices.forEach(function (n) {
      if (!n.notice) return;
      ours[n.id] = { notice: n.notice, offset: turnOffset(n) };
      const label = (n.title || n.id.slice(0, 8)) + " · " + n.notice.window.start.slice(0, 16).replace("T", " ") + "Z";
      const option = document.createElement("option");
      option.value = n.id;
      option.textContent = label;
      options.push(option);
    });
    pick.replaceChildren.apply(pick, options);
    pick.value = editing && ours[editing] ? editing : "";
    if (editing && !ours[editing]) startNew(); // cancelled or expired meanwhile
  }

  document.addEventListener("redline:map", function (e) { setUpDrawing(e.detail); });
  document.addEventListener("redline:map-data", function (e) { listOurs(e.detail); });
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("notice-form")) return;
    form().addEventListener("submit", submit);
    document.getElementById("notice-cancel").addEventListener("click", cancelNotice);
    document.getElementById("notice-new").addEventListener("click", startNew);
    document.getElementById("notice-pick").addEventListener("change", function (e) {
      const id = e.target.value;
      if (id && ours[id]) loadNotice(ours[id]);
      else startNew();
    });
    startNew();
  });
})();
