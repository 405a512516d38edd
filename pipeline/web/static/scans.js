// The upload's page while its files are read in the background: ask for the state every 2 s and say it in the
// status line (role="status": screen readers hear it); when the run has ended, load the page once to show the
// results. Without JavaScript the page works the same with its "odśwież stan" link.
(function () {
  "use strict";
  var box = document.getElementById("upload-job");
  var url = box && box.getAttribute("data-state-url");
  if (!url) { return; }
  var line = document.getElementById("upload-status");
  function ask() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        if (s.status !== "running") { window.location.reload(); return; }
        line.textContent = "Trwa wczytywanie: plik " + s.files_done + " z " + s.files + ", stron przeczytanych " +
          s.pages_done + ".";
        window.setTimeout(ask, 2000);
      })
      .catch(function () { window.setTimeout(ask, 5000); });
  }
  window.setTimeout(ask, 2000);
}());
