// Keyboard shortcuts for the review pages (progressive enhancement: every action is also a plain button).
// A key press clicks the element carrying the matching data-key; keys typed into fields are left alone.
(function () {
  "use strict";
  var busy = false;
  function keyName(e) {
    if (e.ctrlKey && e.key === "Enter") { return "ctrl+enter"; }
    return e.key.toLowerCase();
  }
  document.addEventListener("keydown", function (e) {
    var name = keyName(e);
    var inField = e.target.closest && e.target.closest("input, textarea, select, [contenteditable]");
    if (inField) {
      if (name === "escape") { e.target.blur(); }
      if (name !== "ctrl+enter") { return; }
    } else if (e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    var el = document.querySelector('[data-key="' + name + '"]');
    if (!el || busy) { return; }
    e.preventDefault();
    // one decision per page: a second key press before the next page loads must not decide twice
    if (el.tagName === "BUTTON") { busy = true; }
    el.click();
  });
  // Clicking a box on the page image selects it in the "correct any box" form.
  document.addEventListener("click", function (e) {
    var box = e.target.closest && e.target.closest("[data-box]");
    var select = document.getElementById("fix-box");
    if (!box || !select) { return; }
    select.value = box.getAttribute("data-box");
    select.focus();
  });
  window.addEventListener("pageshow", function () { busy = false; });
})();
