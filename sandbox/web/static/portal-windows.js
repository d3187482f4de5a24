/* The Espace dédié's windows (seeds 001/002, "Choix 1" / "Choix 2"): a link marked data-window opens
   the page it points to ("VALIDER LA PRÉ-RÉSERVATION", "ANNULER L'OPÉRATION") as a modal <dialog> over
   the current page; its [data-close] link ("Fermer sans valider", "NON") closes it. Without JavaScript,
   or when that page cannot be read, the link simply opens the page, which works on its own.
   Listeners only, no inline handler: no form field can shadow what this script calls. */
(function () {
  "use strict";
  if (typeof HTMLDialogElement !== "function") return;  // an old browser: the pages themselves
  var opening = false;

  function show(link, html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var content = page.querySelector(".window");
    if (!content) throw new Error("no window in " + link.href);
    var dialog = document.createElement("dialog");
    dialog.className = "window-dialog";
    var title = content.querySelector(".window-title");
    if (title) dialog.setAttribute("aria-labelledby", title.id);
    dialog.appendChild(document.importNode(content, true));
    dialog.addEventListener("close", function () { dialog.remove(); });
    document.body.appendChild(dialog);
    dialog.showModal();
    var field = dialog.querySelector("input[type=text]");
    if (field) field.select();
  }

  function open(link) {
    if (opening) return;
    opening = true;
    fetch(link.href, {credentials: "same-origin"})
      .then(function (reply) {
        if (!reply.ok || reply.redirected) throw new Error("HTTP " + reply.status);
        return reply.text();
      })
      .then(function (html) { show(link, html); })
      .catch(function () { window.location.assign(link.href); })
      .then(function () { opening = false; });
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var closer = event.target.closest("dialog.window-dialog [data-close]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    var link = event.target.closest("a[data-window]");
    if (!link) return;
    event.preventDefault();
    open(link);
  });
})();
