/* The site's own script: chart tooltips from each mark's description (no chart runtime), keyboard and touch
   access to the marks, legend highlighting, shareable links, sortable tables and the palette toggle. Everything works
   from the page itself; the only thing ever fetched is the chart runtime and a chart's Vega spec, from this
   site, when a reader clicks Zoom on a chart that declares it. */
(function () {
  "use strict";

  // A chart's marks are the SVG elements that carry a description: role "graphics-symbol" and an aria-label
  // holding one "Title: value" per line. Axes, legends and titles carry descriptions too, and are not marks.
  var NOT_MARKS = { axis: 1, legend: 1, title: 1 };
  var DESCRIBED = '[role="graphics-symbol"][aria-label]';
  function described(element) {
    return !NOT_MARKS[element.getAttribute("aria-roledescription")];
  }
  function isMark(element) {
    return element instanceof Element && element.matches("svg " + DESCRIBED) && described(element);
  }
  function markAt(element, box) {
    while (element && element !== box) {
      if (isMark(element)) return element;
      element = element.parentNode;
    }
    return null;
  }
  function shown(box) {
    return Array.prototype.filter.call(box.querySelectorAll("svg"), function (svg) {
      return svg.getBoundingClientRect().width > 0;
    })[0] || null;
  }
  function marksOf(svg) {
    return svg ? Array.prototype.filter.call(svg.querySelectorAll(DESCRIBED), described) : [];
  }

  // The tooltip is built and measured when it shows another mark; as the pointer moves over the same mark, it only moves.
  var tip = null;
  var tipMark = null;
  var tipSize = null;
  function showTip(mark, x, y) {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "report-tooltip";
      tip.id = "report-tooltip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    if (mark !== tipMark || tip.hidden) {
      fillTip(mark);
      tipMark = mark;
      tipSize = { width: tip.offsetWidth, height: tip.offsetHeight };
    }
    if (x === undefined) {
      var box = mark.getBoundingClientRect();
      x = box.right;
      y = box.bottom;
    }
    var left = Math.min(x + 12, window.innerWidth - tipSize.width - 8);
    var top = y + 12 + tipSize.height > window.innerHeight - 8 ? y - tipSize.height - 12 : y + 12;
    tip.style.left = Math.max(8, left) + "px";
    tip.style.top = Math.max(8, top) + "px";
  }
  function fillTip(mark) {
    var table = document.createElement("table");
    var label = mark.getAttribute("aria-label");
    // Our marks describe themselves one "Title: value" a line; a Vega-Lite chart written by hand, "Title: value; …".
    label.split(label.indexOf("\n") >= 0 ? "\n" : "; ").forEach(function (line) {
      var row = table.insertRow();
      var split = line.indexOf(": ");
      var key = document.createElement("th");
      key.textContent = split > 0 ? line.slice(0, split) : "";
      row.appendChild(key);
      row.insertCell().textContent = split > 0 ? line.slice(split + 2) : line;
    });
    tip.replaceChildren(table);
    tip.hidden = false;
  }
  function hideTip() {
    if (tip) tip.hidden = true;
    tipMark = null;
  }

  function colourOf(element) {
    var fill = element.getAttribute("fill");
    return fill && fill !== "none" && fill !== "transparent" ? fill : element.getAttribute("stroke");
  }

  // Hovering or clicking a legend entry shows its series alone (the others dimmed); clicking again shows all.
  function legends(svg) {
    var pinned = null;
    var show = function (colour) {
      svg.querySelectorAll(".role-mark > *").forEach(function (item) {
        var own = colourOf(item);
        item.classList.toggle("mark-dimmed", colour !== null && own !== colour && item.getAttribute("stroke") !== colour);
      });
    };
    svg.querySelectorAll(".role-legend-entry .role-scope > g").forEach(function (entry) {
      var symbol = entry.querySelector(".role-legend-symbol path");
      var label = entry.querySelector(".role-legend-label text");
      if (!symbol || !label || entry.classList.contains("legend-entry")) return;
      var colour = colourOf(symbol);
      var legend = entry.closest(".role-legend");
      if (legend) legend.setAttribute("role", "group"); // a graphics symbol's children are not reachable; a group's are
      entry.classList.add("legend-entry");
      entry.setAttribute("tabindex", "0");
      entry.setAttribute("role", "button");
      entry.setAttribute("aria-pressed", "false");
      entry.setAttribute("aria-label", "Show " + label.textContent + " alone");
      var toggle = function () {
        pinned = pinned === colour ? null : colour;
        svg.querySelectorAll(".legend-entry").forEach(function (other) {
          other.setAttribute("aria-pressed", String(pinned !== null && other === entry));
        });
        show(pinned);
      };
      entry.addEventListener("pointerenter", function () { show(colour); });
      entry.addEventListener("pointerleave", function () { show(pinned); });
      entry.addEventListener("click", toggle);
      entry.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle();
        }
      });
    });
  }

  // The chart is one stop for Tab (its current mark, at first the first); the arrow keys then move from mark to mark.
  function rove(marks, current) {
    marks.forEach(function (mark) { mark.setAttribute("tabindex", mark === current ? "0" : "-1"); });
  }
  function reachable(svg) {
    var marks = marksOf(svg);
    rove(marks, marks.filter(function (mark) { return mark.getAttribute("tabindex") === "0"; })[0] || marks[0]);
    marks.forEach(function (mark) { mark.setAttribute("aria-describedby", "report-tooltip"); });
    legends(svg);
  }

  // Each mark shows its tooltip on hover, on tap and on keyboard focus, Escape hides it. The listeners sit on the
  // chart's box, so that they serve a drawing that changes (a zoomed chart is redrawn as the reader zooms).
  function chart(box) {
    box.querySelectorAll("svg").forEach(reachable);
    var follow = function (event) {
      var mark = markAt(event.target, box);
      if (mark) showTip(mark, event.clientX, event.clientY);
    };
    box.addEventListener("pointerover", follow);
    box.addEventListener("pointermove", follow);
    box.addEventListener("pointerout", function (event) {
      var left = markAt(event.target, box);
      if (left && markAt(event.relatedTarget, box) !== left) hideTip();
    });
    box.addEventListener("click", function (event) {
      var mark = markAt(event.target, box);
      if (!mark) return;
      event.stopPropagation();
      showTip(mark, event.clientX, event.clientY);
    });
    box.addEventListener("focusin", function (event) {
      var mark = markAt(event.target, box);
      if (!mark) return;
      rove(marksOf(mark.ownerSVGElement), mark);
      showTip(mark);
    });
    box.addEventListener("focusout", hideTip);
    box.addEventListener("keydown", function (event) {
      var mark = markAt(event.target, box);
      if (!mark) return;
      var marks = marksOf(mark.ownerSVGElement);
      var index = marks.indexOf(mark);
      var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
      if (step) {
        event.preventDefault();
        marks[(index + step + marks.length) % marks.length].focus();
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        marks[event.key === "Home" ? 0 : marks.length - 1].focus();
      } else if (event.key === "Escape") {
        hideTip();
      }
    });
    box.setAttribute("data-interactive", "true");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hideTip();
  });
  document.addEventListener("click", hideTip);

  // Zoom: a chart that declares it is redrawn by the chart runtime (Vega), loaded from this site when a reader
  // first clicks Zoom, at the size of the drawing it replaces; clicking again puts the drawing back.
  var runtimeUrl = new URL("vendor/vega/vega.min.js", document.currentScript.src).href;
  var runtime = null;
  function loadRuntime() {
    if (!runtime) {
      runtime = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = runtimeUrl;
        script.onload = function () { resolve(window.vega); };
        script.onerror = function () { runtime = null; reject(new Error("the chart runtime did not load")); };
        document.head.appendChild(script);
      });
    }
    return runtime;
  }
  function zoomButtons() {
    document.querySelectorAll(".fig-zoom").forEach(function (button) {
      var box = button.closest("figure").querySelector(".report-chart");
      var zoomed = null;
      button.classList.add("fig-share--ready");
      button.addEventListener("click", function () {
        if (zoomed) {
          zoomed.view.finalize();
          zoomed.holder.remove();
          zoomed.drawing.style.display = "";
          zoomed = null;
          button.textContent = "Zoom";
          button.setAttribute("aria-pressed", "false");
          return;
        }
        var drawing = shown(box);
        if (!drawing) return;
        var narrow = drawing.classList.contains("chart-narrow");
        var url = new URL(box.getAttribute(narrow ? "data-vega-narrow" : "data-vega"), location.href).href;
        button.disabled = true;
        Promise.all([loadRuntime(), fetch(url).then(function (response) { return response.json(); })]).then(function (loaded) {
          var vega = loaded[0];
          var holder = document.createElement("div");
          holder.className = "report-zoomed " + ["chart-wide", "chart-narrow", "chart-only"].filter(function (name) { return drawing.classList.contains(name); }).join(" ");
          var view = new vega.View(vega.parse(loaded[1]), { renderer: "svg", container: holder, hover: true, tooltip: function () {} });
          return view.runAsync().then(function () {
            var svg = holder.querySelector("svg");
            svg.setAttribute("role", "group");
            svg.setAttribute("aria-label", drawing.getAttribute("aria-label") + " Zoomable: drag to pan, scroll to zoom.");
            drawing.parentNode.insertBefore(holder, drawing);
            drawing.style.display = "none";
            reachable(svg);
            view.runAfter(function () { reachable(svg); }, true);
            view.addSignalListener("zoom", function () { view.runAfter(function () { reachable(svg); }); });
            zoomed = { view: view, holder: holder, drawing: drawing };
            button.textContent = "Reset";
            button.setAttribute("aria-pressed", "true");
          });
        }).catch(function (error) {
          button.title = error.message;
        }).finally(function () {
          button.disabled = false;
        });
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
    document.querySelectorAll(".fig-share:not(.fig-zoom)").forEach(function (button) {
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

  // The palette toggle in the header. The theme's own (its palette component) restyles the whole page twice as it
  // starts, even when the palette does not change; this one does what it does, for a change only. Which palette shows
  // is decided by __report_palette (templates/theme/main.html), which the page also runs as it is parsed: until the
  // reader chooses, it follows the reader's system; the choice is kept where the theme keeps it, so that the theme's
  // script applies it on every page.
  function paletteToggle() {
    var form = document.querySelector("form[data-report-palette]");
    var shown = form && typeof __report_palette === "function" ? __report_palette() : null;
    if (!shown) return;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[name='__palette']"));
    var themeColour = document.createElement("meta");
    themeColour.name = "theme-color";
    var colourScheme = document.createElement("meta");
    colourScheme.name = "color-scheme";
    document.head.append(themeColour, colourScheme);
    var apply = function (palette, choice) {
      var index = palette.index, color = palette.color, input = inputs[index];
      // Only a change of colours restyles the page, at once (transitions off while the new styles are worked out).
      var changes = ["scheme", "primary", "accent"].filter(function (key) { return document.body.getAttribute("data-md-color-" + key) !== color[key]; });
      if (changes.length) document.body.setAttribute("data-md-color-switching", "");
      changes.forEach(function (key) { document.body.setAttribute("data-md-color-" + key, color[key]); });
      if (document.body.getAttribute("data-md-color-media") !== color.media) document.body.setAttribute("data-md-color-media", color.media);
      input.checked = true;  // the keyboard's stop in the toggle: Enter or Space goes on to the next palette
      inputs.forEach(function (other, i) {
        var label = other.nextElementSibling;
        if (label instanceof HTMLElement && label.hidden !== (i !== index)) label.hidden = i !== index;
      });
      if (choice) __md_set("__palette", { index: index, color: color });
      var browserColours = function () {  // the browser's own bar and controls, as the header
        var header = getComputedStyle(document.querySelector("header"));
        colourScheme.content = header.colorScheme;
        themeColour.content = "#" + (header.backgroundColor.match(/\d+/g) || []).slice(0, 3).map(function (c) { return (+c).toString(16).padStart(2, "0"); }).join("");
      };
      if (changes.length) {
        browserColours();  // the new styles, worked out now, while transitions are off
        requestAnimationFrame(function () { document.body.removeAttribute("data-md-color-switching"); });
      } else {
        requestAnimationFrame(browserColours);
      }
    };
    var current = shown.index;
    apply(shown, false);
    inputs.forEach(function (input, index) {
      input.addEventListener("change", function () { current = index; apply(__report_palette(index), true); });
    });
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      var next = inputs[(current + 1) % inputs.length];
      next.click();
      next.focus();
    });
    matchMedia("(prefers-color-scheme: light)").addEventListener("change", function () {  // followed unless the reader chose
      var stored = __md_get("__palette");
      if (stored && !(stored.color && stored.color.media === "(prefers-color-scheme)")) return;
      var palette = __report_palette();
      current = palette.index;
      apply(palette, false);
    });
  }

  function start() {
    paletteToggle();
    copyLinks();
    shareButtons();
    sortableTables();
    // One chart at a time, each in its own task, so that a page of charts never blocks the reader's input for long.
    var boxes = Array.prototype.slice.call(document.querySelectorAll(".report-chart"));
    var next = function () {
      var box = boxes.shift();
      if (!box) return;
      chart(box);
      setTimeout(next, 0);
    };
    next();
    zoomButtons();
  }

  // In a task of its own, after the theme's start-up (which runs as the page finishes parsing), so that neither
  // holds up the reader's input for long.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { setTimeout(start, 0); });
  else setTimeout(start, 0);
})();
