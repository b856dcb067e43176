(function () {
  "use strict";
  var table = document.querySelector("table.conns");
  if (table) {
    var body = table.tBodies[0];
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-v") || a.cells[col].textContent;
          var y = b.cells[col].getAttribute("data-v") || b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    var tools = document.querySelector(".table-tools");
    var filter = document.getElementById("outcome-filter");
    var count = document.getElementById("shown-count");
    var apply = function () {
      var wanted = filter.value, shown = 0;
      Array.prototype.forEach.call(body.rows, function (row) {
        var show = !wanted || row.getAttribute("data-class") === wanted || row.getAttribute("data-outcome") === wanted;
        if (row.hidden === show) { row.hidden = !show; }  // untouched rows cost the browser nothing
        if (show) { shown += 1; }
      });
      count.textContent = shown + " of " + body.rows.length + " shown";
    };
    tools.hidden = false;
    filter.addEventListener("change", apply);
    apply();
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("data-print-opened", "");
      d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
      d.open = false;
      d.removeAttribute("data-print-opened");
    });
  });
})();
