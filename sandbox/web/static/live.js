/* Live pages: Socket.IO (vendor/socket.io.min.js, served locally) tells a page that something
   it shows has changed; the page then re-reads itself and swaps the parts marked data-live.

   <script src="/static/vendor/socket.io.min.js"></script>
   <script src="/static/live.js" data-rooms="shop"></script>

   Rooms are named for the browser session ("shop": the merchant logged in, "beneficiary": the
   App' user); the server decides which shop or beneficiary that is. Once joined, <body> gets
   data-live="on". Any page may also listen: document.addEventListener("ancv:event", e => …). */
(function () {
  "use strict";
  var script = document.currentScript;
  var rooms = (script && script.dataset.rooms || "").split(",").filter(Boolean);
  if (!rooms.length || typeof io !== "function") return;

  var pending = null;
  function refresh() {
    // Many events arrive together (a payment changes two objects): re-read the page once.
    if (pending) return;
    pending = setTimeout(function () {
      fetch(location.href, {credentials: "same-origin", headers: {"X-Requested-With": "live"}})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          pending = null;
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (old) {
            var twin = fresh.querySelector('[data-live="' + old.dataset.live + '"]');
            if (twin && !old.contains(document.activeElement)) old.replaceWith(twin);
          });
          document.dispatchEvent(new CustomEvent("ancv:refreshed"));
        })
        .catch(function () { pending = null; });
    }, 150);
  }

  var socket = io({transports: ["websocket", "polling"]}), connected_before = false;
  socket.on("connect", function () {
    socket.emit("join", {rooms: rooms}, function (answer) {
      document.body.dataset.live = answer && answer.joined && answer.joined.length ? "on" : "off";
    });
    // Back after a cut: what was pushed meanwhile (a QR code that expired, a payment) is lost, re-read.
    if (connected_before) refresh();
    connected_before = true;
  });
  socket.on("disconnect", function () { document.body.dataset.live = "off"; });
  socket.on("event", function (event) {
    document.dispatchEvent(new CustomEvent("ancv:event", {detail: event}));
    refresh();
  });
})();
