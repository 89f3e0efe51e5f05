// govex pages work without this file; it only adds a live character count to text areas
// that carry data-maxlength (the server enforces the limit either way). Same origin only:
// the Content-Security-Policy allows no other script, and nothing here talks to the network.
(function () {
  "use strict";
  function count(text) { return Array.from(text.replace(/\r\n/g, "\n")).length; }
  document.querySelectorAll("textarea[data-maxlength]").forEach(function (area) {
    var max = parseInt(area.getAttribute("data-maxlength"), 10);
    var status = document.getElementById(area.id + "-count");
    if (!status || !max) return;
    var update = function () {
      var left = max - count(area.value);
      var over = left < 0;
      var template = status.getAttribute(over ? "data-over" : "data-left");
      var shown = Math.abs(left).toLocaleString(document.documentElement.lang || undefined);
      status.textContent = template.replace("{n}", shown);
      status.classList.toggle("error-message", over);
      status.classList.toggle("hint", !over);
    };
    area.addEventListener("input", update);
    update();
  });
})();
