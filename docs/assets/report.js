/* Upgrade each static chart to an interactive Vega view, on pages that have charts only.
   Vega is served by the site itself; nothing is fetched from another host. */
(function () {
  "use strict";
  var script = document.currentScript;
  var vegaUrl = new URL("vendor/vega/vega.min.js", script ? script.src : location.href).href;

  function loadVega() {
    if (window.vega) return Promise.resolve(window.vega);
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = vegaUrl;
      tag.onload = function () { resolve(window.vega); };
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  var tip = null;
  function tooltip(handler, event, item, value) {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "report-tooltip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    if (value == null || value === "") {
      tip.hidden = true;
      return;
    }
    var table = document.createElement("table");
    var entries = typeof value === "object" ? Object.entries(value) : [["", value]];
    entries.forEach(function (entry) {
      var row = table.insertRow();
      var key = document.createElement("th");
      key.textContent = entry[0];
      row.appendChild(key);
      row.insertCell().textContent = String(entry[1]);
    });
    tip.replaceChildren(table);
    tip.hidden = false;
    var x = Math.min(event.clientX + 12, window.innerWidth - tip.offsetWidth - 8);
    var y = Math.min(event.clientY + 12, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = Math.max(8, x) + "px";
    tip.style.top = Math.max(8, y) + "px";
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && tip) tip.hidden = true;
  });

  function upgrade(vega, box) {
    return fetch(box.getAttribute("data-vega"))
      .then(function (response) {
        if (!response.ok) throw new Error(response.status + " " + response.url);
        return response.json();
      })
      .then(function (spec) {
        var holder = document.createElement("div");
        holder.className = "vega-view";
        var img = box.querySelector("img");
        if (img) holder.setAttribute("aria-label", img.alt);
        holder.setAttribute("role", "img");
        var view = new vega.View(vega.parse(spec), { renderer: "svg", container: holder, hover: true });
        view.tooltip(tooltip);
        return view.runAsync().then(function () {
          var svg = holder.querySelector("svg");
          if (svg && !svg.getAttribute("viewBox")) {
            svg.setAttribute("viewBox", "0 0 " + svg.getAttribute("width") + " " + svg.getAttribute("height"));
          }
          box.replaceChildren(holder);
          box.setAttribute("data-interactive", "true");
        });
      });
  }

  function copyLinks() {
    document.querySelectorAll(".claim-link, .fig-anchor").forEach(function (link) {
      link.addEventListener("click", function () {
        var url = new URL(link.getAttribute("href"), location.href).href;
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).catch(function () {});
      });
    });
  }

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { window.prompt("Copy this snippet:", text); });
    } else {
      window.prompt("Copy this snippet:", text);
    }
  }

  // "Share" under a figure: copies Markdown for a discussion, the PNG linked to the figure.
  function shareButtons() {
    document.querySelectorAll(".fig-share").forEach(function (button) {
      var figure = button.closest("figure");
      button.classList.add("fig-share--ready");
      button.addEventListener("click", function () {
        var page = location.href.split("#")[0].replace(/index\.html$/, "");
        var image = new URL(button.getAttribute("data-image"), page).href;
        var caption = button.getAttribute("data-caption");
        copyText("[![" + caption + "](" + image + ")](" + page + "#" + figure.id + ")\n*" + caption + "*", button);
      });
    });
  }

  // Click a column header to sort a table by it; numbers sort as numbers.
  function sortableTables() {
    document.querySelectorAll(".md-typeset table").forEach(function (table) {
      var body = table.tBodies[0];
      if (!table.tHead || !body || body.rows.length < 2) return;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        button.textContent = cell.textContent;
        button.title = "Sort by this column";
        cell.replaceChildren(button);
        button.addEventListener("click", function () {
          var ascending = cell.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
          cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          // Numbers sort before text, empty cells last, whatever the direction.
          var key = function (row) {
            var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
            var number = parseFloat(text.replace(/[,%~]/g, ""));
            if (text === "") return [2, ""];
            return isNaN(number) || !/^[~\d.,%+-]+$/.test(text) ? [1, text.toLowerCase()] : [0, number];
          };
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = key(a), y = key(b);
            if (x[0] !== y[0] || x[0] === 2) return x[0] - y[0];
            var order = x[0] === 0 ? x[1] - y[1] : x[1].localeCompare(y[1]);
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  function start() {
    copyLinks();
    shareButtons();
    sortableTables();
    var boxes = document.querySelectorAll(".report-chart[data-vega]");
    if (!boxes.length) return;
    // The static charts are complete; Vega (the page's heaviest file) loads only once a chart comes
    // near the screen or the reader interacts, so that it never delays the first view.
    var started = false;
    var go = function () {
      if (started) return;
      started = true;
      events.forEach(function (name) { document.removeEventListener(name, go, true); });
      if (observer) observer.disconnect();
      loadVega().then(function (vega) {
        boxes.forEach(function (box) {
          upgrade(vega, box).catch(function (error) {
            console.warn("Chart kept static:", error);
          });
        });
      }, function () {
        console.warn("Charts kept static: the chart library could not be loaded.");
      });
    };
    var events = ["pointerdown", "pointermove", "keydown", "touchstart", "focusin"];
    events.forEach(function (name) { document.addEventListener(name, go, { capture: true, passive: true }); });
    var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) go();
    }, { rootMargin: "300px 0px" }) : null;
    if (observer) boxes.forEach(function (box) { observer.observe(box); });
    else go();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
