/* Qalqan's one script (no inline script anywhere: the pages' CSP forbids it).
   - An upload form with a <progress data-upload-progress> shows the bytes sent (htmx's
     htmx:xhr:progress event).
   - A form with data-confirm asks before it is sent (remove, reject). */
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var form = evt.target.closest ? evt.target.closest("form") : null;
    var bar = form ? form.querySelector("progress[data-upload-progress]") : null;
    if (bar && evt.detail.lengthComputable) {
      bar.hidden = false;
      bar.max = evt.detail.total;
      bar.value = evt.detail.loaded;
    }
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);
})();
