// Redline console: the deconfliction map (Leaflet) and timeline (SVG), refreshed every 5 s.
// Everything comes from the station: Leaflet, topojson-client and the Natural Earth coastline
// under /vendor/ (npm packages installed by `make setup`), the data from /deconfliction/data.
// The server has done the geodesy: shapes arrive as [lat, lon] rings, longitudes already
// unwrapped and moved next to each other across the antimeridian.
"use strict";

(function () {
  const POLL_MS = 5000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const CONFLICT_RED = "#e5484d"; // web/console/colours.py: CONFLICT_COLOUR
  const HOUR = 3600 * 1000;
  let strings = {};
  let map = null;
  let noticeLayer = null;
  let conflictLayer = null;
  let fitted = false;
  let lastText = null;
  const noticeLayers = {}; // notice id -> its Leaflet layers
  const conflictMarkers = {}; // conflict key -> marker

  function t(key, vars) {
    let s = strings[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.replace("{" + k + "}", vars[k]); });
    return s;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") + "Z" : "…"; }

  function windowText(start, end, permanent, estimated) {
    const tail = permanent ? t("permanent") : when(end) + (estimated ? " (" + t("estimated") + ")" : "");
    return when(start) + " – " + tail;
  }

  function metres(m) { return t("metres", { m: Math.round(m).toLocaleString("en-US") }); }

  function short(id) { return id.slice(0, 8); }

  function activity(code) { return t("activity." + code); }

  function warn(text) {
    const box = document.getElementById("map-warning");
    box.textContent = box.hidden ? text : box.textContent + " " + text;
    box.hidden = false;
  }

  // -- the map ----------------------------------------------------------------------

  function initMap() {
    if (!window.L) {
      warn(t("noMap"));
      document.getElementById("map").hidden = true;
      return;
    }
    // pmIgnore false: Leaflet-Geoman (opt-in, static/notices.js) may draw on this map, not edit its layers.
    map = L.map("map", {
      minZoom: 1, maxZoom: 12, zoomSnap: 0.5, worldCopyJump: false, pmIgnore: false, zoomControl: false,
    });
    // Leaflet's own zoom buttons, their titles (and so their aria-labels) in the page's language.
    L.control.zoom({ zoomInTitle: t("zoomIn"), zoomOutTitle: t("zoomOut") }).addTo(map);
    map.attributionControl.setPrefix(false); // the prefix is a link with an inline flag; keep it plain
    map.attributionControl.addAttribution("Leaflet · Natural Earth (world-atlas)");
    map.createPane("basemap"); // below the overlay pane (map.css): coastline under the notices
    map.setView([20, 0], 2);
    noticeLayer = L.featureGroup().addTo(map);
    conflictLayer = L.featureGroup().addTo(map);
    loadBasemap();
    // static/notices.js (filing on the map) adds its drawing tools to this map.
    document.dispatchEvent(new CustomEvent("redline:map", { detail: map }));
  }

  // A ring crossing the antimeridian comes from world-atlas split at ±180; unwrapping its
  // longitudes keeps it whole. Rings that go right round a pole (Antarctica) stay as they are.
  function unwrapRing(ring) {
    const out = [ring[0].slice()];
    for (let i = 1; i < ring.length; i++) {
      let lon = ring[i][0];
      const prev = out[i - 1][0];
      while (lon - prev > 180) lon -= 360;
      while (lon - prev < -180) lon += 360;
      out.push([lon, ring[i][1]]);
    }
    return Math.abs(out[out.length - 1][0] - out[0][0]) > 180 ? ring : out;
  }

  function unwrapGeometry(geometry) {
    if (geometry.type === "Polygon") {
      geometry.coordinates = geometry.coordinates.map(unwrapRing);
    } else if (geometry.type === "MultiPolygon") {
      geometry.coordinates = geometry.coordinates.map(function (p) { return p.map(unwrapRing); });
    }
  }

  function loadBasemap() {
    fetch("/vendor/world-atlas/land-50m.json", { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("coastline: HTTP " + r.status);
        return r.json();
      })
      .then(function (topo) {
        if (!window.topojson) throw new Error("topojson-client is missing");
        const land = topojson.feature(topo, topo.objects.land);
        (land.features || [land]).forEach(function (f) { unwrapGeometry(f.geometry); });
        const renderer = L.svg({ pane: "basemap" });
        // Three copies, so the coastline lies under shapes moved across the antimeridian.
        [-360, 0, 360].forEach(function (offset) {
          L.geoJSON(land, {
            pane: "basemap",
            renderer: renderer,
            interactive: false,
            style: { className: "land", color: "#4d6275", weight: 0.7, fillColor: "#1e2833", fillOpacity: 1 },
            coordsToLatLng: function (c) { return L.latLng(c[1], c[0] + offset); },
          }).addTo(map);
        });
        document.getElementById("map").dataset.basemap = "drawn";
      })
      .catch(function (e) {
        console.error(e);
        warn(t("noBasemap"));
      });
  }

  function noticePopup(n) {
    const box = el("div", "popup");
    box.appendChild(el("strong", "", noticeName(n, partyName(n.party)) + (n.ours ? " · " + t("ours") : "")));
    const facts = el("dl", "facts");
    [
      ["ID", n.id + " v" + n.version],
      [t("window"), windowText(n.start, n.end, n.permanent, n.estimated_end)],
      [t("altitude"), n.lower + " – " + n.upper],
    ].forEach(function (row) {
      facts.appendChild(el("dt", "", row[0]));
      facts.appendChild(el("dd", "", row[1]));
    });
    box.appendChild(facts);
    if (n.text) box.appendChild(el("p", "small", n.text));
    return box;
  }

  function conflictText(c) {
    if (c.overlap) {
      const area = c.overlap_area_m2 === null ? "" : ", " + t("overlapArea", { km2: km2(c.overlap_area_m2) });
      return t("overlap") + area;
    }
    return t("separation", { distance: distance(c.separation_m) });
  }

  // Square kilometres to 0.1, grouped like the server's pages ("4,746.2").
  function km2(m2) {
    return (m2 / 1e6).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  // Metres below a kilometre, else kilometres; nautical miles alongside (1 NM = 1852 m).
  function distance(m) {
    const main = m < 1000 ? t("metres", { m: Math.round(m) }) : t("kilometres", { km: (m / 1000).toFixed(2) });
    return main + " (" + t("nauticalMiles", { nm: (m / 1852).toFixed(2) }) + ")";
  }

  // Parties by the name this console gives them (redline peer rename), else their station id.
  const partyNames = JSON.parse((document.getElementById("party-names") || {}).textContent || "{}");
  function partyName(id) { return partyNames[id] || id; }

  // A notice as people name it: activity, title, party (never its id).
  function noticeName(name, party) {
    return activity(name.activity) + (name.title ? " “" + name.title + "”" : "") + " (" + party + ")";
  }

  function conflictNames(c) {
    return noticeName(c.names[0], partyName(c.parties[0])) + " × " + noticeName(c.names[1], partyName(c.parties[1]));
  }

  function conflictPopup(c) {
    const box = el("div", "popup");
    box.appendChild(el("strong", "conflict-title", t("conflict")));
    const facts = el("dl", "facts");
    [
      [t("notices"), conflictNames(c)],
      [t("horizontal"), conflictText(c)],
      [t("window"), windowText(c.start, c.end, c.end === null, false)],
      [t("altitude"), metres(c.lower_m) + " – " + metres(c.upper_m)],
    ].forEach(function (row) {
      facts.appendChild(el("dt", "", row[0]));
      facts.appendChild(el("dd", "", row[1]));
    });
    box.appendChild(facts);
    return box;
  }

  function drawMap(data) {
    if (!map) return;
    noticeLayer.clearLayers();
    conflictLayer.clearLayers();
    Object.keys(noticeLayers).forEach(function (k) { delete noticeLayers[k]; });
    Object.keys(conflictMarkers).forEach(function (k) { delete conflictMarkers[k]; });
    data.notices.forEach(function (n) {
      const cls = "notice " + (n.ours ? "ours" : "peer") + (n.conflicting ? " conflicting" : "");
      const style = {
        className: cls,
        color: n.conflicting ? CONFLICT_RED : n.colour,
        weight: n.conflicting ? 3 : 2,
        fillColor: n.colour,
        fillOpacity: n.in_force ? 0.3 : 0.12,
        dashArray: n.in_force ? null : "6 4",
      };
      noticeLayers[n.id] = n.shapes.map(function (s) {
        let layer;
        if (s.kind === "corridor") {
          layer = L.featureGroup([
            L.polygon(s.outline, style),
            L.polyline(s.path, { className: "notice-path", color: n.colour, weight: 1, dashArray: "4 4", interactive: false }),
          ]);
        } else {
          layer = L.polygon(s.ring, style);
        }
        layer.bindPopup(function () { return noticePopup(n); });
        layer.addTo(noticeLayer);
        return layer;
      });
    });
    data.conflicts.forEach(function (c) {
      const marker = L.marker(c.where, {
        icon: L.divIcon({ className: "conflict-marker", iconSize: [18, 18], html: "" }),
        title: t("conflict") + ": " + conflictNames(c),
        alt: t("conflict"),
        riseOnHover: true,
      });
      marker.bindPopup(function () { return conflictPopup(c); });
      marker.addTo(conflictLayer);
      conflictMarkers[c.key] = marker;
    });
    if (!fitted && data.notices.length) {
      fitted = true;
      map.fitBounds(noticeLayer.getBounds().pad(0.3), { maxZoom: 7 });
    }
  }

  function focusNotice(id) {
    const layers = noticeLayers[id];
    if (!map || !layers || !layers.length) return;
    const group = L.featureGroup(layers);
    map.fitBounds(group.getBounds().pad(0.5), { maxZoom: 9 });
    layers[0].openPopup();
  }

  function focusConflict(key) {
    const marker = conflictMarkers[key];
    if (!map || !marker) return;
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 7));
    marker.openPopup();
  }

  // -- side lists -------------------------------------------------------------------

  function swatch(colour) {
    const s = svg("svg", { width: 12, height: 12, class: "swatch", "aria-hidden": "true" });
    s.appendChild(svg("rect", { width: 12, height: 12, rx: 2, fill: colour }));
    return s;
  }

  function drawLegend(data) {
    const legend = document.getElementById("map-legend");
    legend.replaceChildren();
    data.parties.forEach(function (p) {
      const li = el("li");
      li.appendChild(swatch(p.colour));
      li.appendChild(document.createTextNode(" " + partyName(p.id) + " (" + (p.ours ? t("ours") : t("peer")) + ")"));
      li.title = p.id;
      legend.appendChild(li);
    });
    const li = el("li", "legend-conflict");
    li.appendChild(swatch(data.conflict_colour));
    li.appendChild(document.createTextNode(" " + t("conflict")));
    legend.appendChild(li);
  }

  function drawConflictList(data) {
    const list = document.getElementById("conflict-list");
    list.replaceChildren();
    if (!data.conflicts.length) {
      list.appendChild(el("li", "small", t("noConflicts")));
      return;
    }
    data.conflicts.forEach(function (c) {
      const li = el("li", "conflict");
      li.dataset.key = c.key;
      const button = el("button", "link-button", conflictNames(c));
      button.type = "button";
      button.addEventListener("click", function () { focusConflict(c.key); });
      li.appendChild(button);
      li.appendChild(el("div", "small", conflictText(c)));
      li.appendChild(el("div", "small", windowText(c.start, c.end, c.end === null, false) + " · " +
        metres(c.lower_m) + " – " + metres(c.upper_m)));
      list.appendChild(li);
    });
  }

  function drawNoticeList(data) {
    const holder = document.getElementById("notice-list");
    holder.replaceChildren();
    if (!data.notices.length) {
      holder.appendChild(el("p", "small", t("noNotices")));
      return;
    }
    data.parties.forEach(function (p) {
      const mine = data.notices.filter(function (n) { return n.party === p.id; });
      if (!mine.length) return;
      const head = el("h3", "party");
      head.appendChild(swatch(p.colour));
      head.appendChild(document.createTextNode(" " + partyName(p.id) + " (" + (p.ours ? t("ours") : t("peer")) + ") · " + mine.length));
      head.title = p.id;
      holder.appendChild(head);
      const ul = el("ul", "notice-list");
      mine.forEach(function (n) {
        const li = el("li", "notice-item" + (n.conflicting ? " conflicting" : ""));
        li.dataset.id = n.id;
        const button = el("button", "link-button", activity(n.activity) + " · " + (n.title || short(n.id)));
        button.type = "button";
        button.addEventListener("click", function () { focusNotice(n.id); });
        li.appendChild(button);
        li.appendChild(el("span", "tag " + (n.in_force ? "in-force" : "planned"), n.in_force ? t("inForce") : t("planned")));
        if (n.conflicting) li.appendChild(el("span", "tag conflicting", t("conflicting")));
        li.appendChild(el("div", "small", windowText(n.start, n.end, n.permanent, n.estimated_end)));
        li.appendChild(el("div", "small", n.lower + " – " + n.upper));
        ul.appendChild(li);
      });
      holder.appendChild(ul);
    });
  }

  // -- the timeline -----------------------------------------------------------------

  const STEPS = [0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168].map(function (h) { return h * HOUR; });

  function drawTimeline(data) {
    const holder = document.getElementById("timeline");
    holder.replaceChildren();
    if (!data.notices.length) {
      holder.appendChild(el("p", "small", t("noNotices")));
      return;
    }
    const now = Date.parse(data.now);
    const starts = data.notices.map(function (n) { return Date.parse(n.start); });
    const ends = data.notices.filter(function (n) { return n.end; }).map(function (n) { return Date.parse(n.end); });
    let t0 = Math.min(now, Math.min.apply(null, starts));
    let t1 = Math.max(now + HOUR, ends.length ? Math.max.apply(null, ends) : now + 24 * HOUR);
    const pad = (t1 - t0) * 0.04;
    t0 -= pad;
    t1 += pad;
    const rows = data.notices.slice().sort(function (a, b) {
      return (a.ours === b.ours ? 0 : a.ours ? -1 : 1) || a.party.localeCompare(b.party) || a.start.localeCompare(b.start);
    });
    const rowOf = {};
    rows.forEach(function (n, i) { rowOf[n.id] = i; });
    const width = Math.max(480, holder.clientWidth || 900);
    const label = 240, top = 26, rowH = 22;
    const height = top + rows.length * rowH + 8;
    const x = function (ms) { return label + ((ms - t0) / (t1 - t0)) * (width - label - 10); };
    const root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", class: "timeline-svg" });

    const step = STEPS.find(function (s) { return (t1 - t0) / s <= 10; }) || STEPS[STEPS.length - 1];
    for (let tick = Math.ceil(t0 / step) * step; tick <= t1; tick += step) {
      const d = new Date(tick);
      const text = step >= 24 * HOUR ? d.toISOString().slice(5, 10) : d.toISOString().slice(11, 16) + "Z";
      root.appendChild(svg("line", { x1: x(tick), x2: x(tick), y1: top - 6, y2: height, class: "tick" }));
      root.appendChild(svg("text", { x: x(tick) + 3, y: top - 10, class: "tick-label" }, text));
    }
    rows.forEach(function (n, i) {
      const y = top + i * rowH;
      const g = svg("g", { class: "row" + (n.conflicting ? " conflicting" : ""), "data-id": n.id });
      g.appendChild(svg("text", { x: 4, y: y + 15, class: "row-label" }, partyName(n.party) + " · " + (n.title || activity(n.activity) + " " + short(n.id))));
      const a = x(Date.parse(n.start));
      const b = n.end ? x(Date.parse(n.end)) : x(t1);
      const bar = svg("rect", {
        x: a, y: y + 4, width: Math.max(2, b - a), height: rowH - 8, rx: 3, fill: n.colour,
        class: "bar" + (n.permanent ? " permanent" : "") + (n.in_force ? "" : " planned"),
      });
      bar.appendChild(svg("title", {}, windowText(n.start, n.end, n.permanent, n.estimated_end)));
      bar.addEventListener("click", function () { focusNotice(n.id); });
      g.appendChild(bar);
      root.appendChild(g);
    });
    // Conflicting windows: the overlap of the grown windows, marked on both notices' rows.
    data.conflicts.forEach(function (c) {
      const a = x(Date.parse(c.start));
      const b = c.end ? x(Date.parse(c.end)) : x(t1);
      c.pair.forEach(function (id) {
        if (rowOf[id] === undefined) return;
        const mark = svg("rect", {
          x: a, y: top + rowOf[id] * rowH + 1, width: Math.max(2, b - a), height: rowH - 2, class: "conflict-window",
        });
        mark.appendChild(svg("title", {}, t("conflict") + ": " + conflictNames(c)));
        root.appendChild(mark);
      });
    });
    root.appendChild(svg("line", { x1: x(now), x2: x(now), y1: top - 6, y2: height, class: "now" }));
    root.appendChild(svg("text", { x: x(now) + 3, y: height - 2, class: "now-label" }, t("now")));
    holder.appendChild(root);
  }

  // -- refresh ----------------------------------------------------------------------

  function render(data) {
    drawMap(data);
    drawLegend(data);
    drawConflictList(data);
    drawNoticeList(data);
    drawTimeline(data);
    if (data.truncated) warn(t("truncated"));
    const page = document.getElementById("deconfliction");
    document.dispatchEvent(new CustomEvent("redline:map-data", { detail: data }));
    page.dataset.notices = String(data.notices.length);
    page.dataset.conflicts = String(data.conflicts.length);
  }

  function refresh() {
    const status = document.getElementById("map-status");
    fetch("/deconfliction/data", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) {
          window.location.assign("/login");
          return null;
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        if (data === null) return;
        status.textContent = t("updated", { time: data.now.slice(11, 19) + "Z" });
        status.dataset.state = "live";
        const now = data.now;
        data.now = null; // compare without the clock; redraw only on change
        const text = JSON.stringify(data);
        data.now = now;
        if (text !== lastText) {
          lastText = text;
          render(data);
        } else {
          drawTimeline(data); // only the "now" line moves
        }
      })
      .catch(function () {
        status.textContent = t("stale");
        status.dataset.state = "down";
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("deconfliction")) return;
    strings = JSON.parse(document.getElementById("map-strings").textContent);
    initMap();
    refresh();
    setInterval(refresh, POLL_MS);
    document.addEventListener("redline:refresh", refresh); // static/notices.js filed or changed one
    window.addEventListener("resize", function () { lastText = null; });
  });
})();
