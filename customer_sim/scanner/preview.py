"""What the camera sees, with the outline of each code read: for aiming a webcam during a demo.

An OpenCV window when this OpenCV has a GUI and a display exists; otherwise (the project installs
the headless OpenCV wheel, and servers have no display) a page on 127.0.0.1 that streams the
frames as MJPEG to any browser.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

import cv2
import numpy as np

from .decoders import Image, Symbol

GREEN = (60, 200, 60)
JPEG_QUALITY = 80
PAGE = b"""<!doctype html><html lang="fr"><meta charset="utf-8"><title>ancv-sandbox scan</title>
<body style="margin:0;background:#111;color:#eee;font-family:sans-serif">
<p style="margin:.5em">Aper\xc3\xa7u du scanner : cadrez le code dans l'image.</p>
<img src="/stream" style="max-width:100%" alt="Image de la cam\xc3\xa9ra"></body></html>"""


class Preview(Protocol):
    description: str

    def show(self, frame: Image, symbols: Sequence[Symbol]) -> None: ...

    def close(self) -> None: ...


def annotate(frame: Image, symbols: Sequence[Symbol]) -> Image:
    """A copy of the frame (BGR) with each code's outline and text drawn on it."""
    picture = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame.copy()
    for symbol in symbols:
        if len(symbol.outline) >= 2:
            points = np.array(symbol.outline, dtype=np.int32).reshape(-1, 1, 2)
            cv2.polylines(picture, [points], isClosed=True, color=GREEN, thickness=3)
            x, y = symbol.outline[0]
            cv2.putText(picture, symbol.text[:60], (x, max(20, y - 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, GREEN, 2)
    return picture


def has_window_support() -> bool:
    """True when this OpenCV was built with a GUI and there is a display to open a window on."""
    built_with_gui = not re.search(r"GUI:\s+NONE", cv2.getBuildInformation())
    return built_with_gui and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_preview() -> Preview:
    return WindowPreview() if has_window_support() else BrowserPreview()


class WindowPreview:
    description = "an OpenCV window (press q in it to stop)"
    TITLE = "ancv-sandbox scan"

    def __init__(self) -> None:
        self.closed_by_user = False

    def show(self, frame: Image, symbols: Sequence[Symbol]) -> None:
        cv2.imshow(self.TITLE, annotate(frame, symbols))
        if cv2.waitKey(1) & 0xFF == ord("q"):
            self.closed_by_user = True

    def close(self) -> None:
        cv2.destroyWindow(self.TITLE)


class BrowserPreview:
    """The annotated frames as an MJPEG stream at http://127.0.0.1:{port}/ (a free port by default)."""

    def __init__(self, port: int = 0) -> None:
        self._jpeg: bytes | None = None
        self._changed = threading.Condition()
        self._closed = False
        preview = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                if self.path == "/":
                    self._send(200, "text/html; charset=utf-8", PAGE)
                elif self.path == "/frame.jpg":
                    jpeg = preview._jpeg
                    if jpeg is None:
                        self._send(404, "text/plain; charset=utf-8", b"Pas encore d'image.")
                    else:
                        self._send(200, "image/jpeg", jpeg)
                elif self.path == "/stream":
                    self._stream()
                else:
                    self._send(404, "text/plain; charset=utf-8", b"Page introuvable.")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                while True:
                    jpeg = preview._wait_frame()
                    if jpeg is None:
                        return
                    try:
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n")
                    except OSError:  # the browser went away
                        return

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self.description = f"a browser page at {self.url}"
        threading.Thread(target=self._server.serve_forever, name="scanner-preview", daemon=True).start()

    def show(self, frame: Image, symbols: Sequence[Symbol]) -> None:
        ok, jpeg = cv2.imencode(".jpg", annotate(frame, symbols), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            with self._changed:
                self._jpeg = jpeg.tobytes()
                self._changed.notify_all()

    def _wait_frame(self) -> bytes | None:
        with self._changed:
            self._changed.wait(timeout=1.0)
            return None if self._closed else self._jpeg

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
