"""Serving the app: gevent's WSGI server (default) or Werkzeug's threaded one, over TLS with `ssl_context`."""

from __future__ import annotations

import http.client
import logging
import signal
import socket
import ssl
from contextlib import suppress
from typing import Any

from flask import Flask

_TOO_MANY_HEADERS_BODY = b"Request header fields too large.\n"
TOO_MANY_HEADERS = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(_TOO_MANY_HEADERS_BODY), _TOO_MANY_HEADERS_BODY))


def run(app: Flask, host: str, port: int, server: str, ssl_context: ssl.SSLContext | None = None) -> None:
    """Serve until SIGINT or SIGTERM; then return (or raise KeyboardInterrupt) so the caller cleans up."""
    socketio = app.extensions["socketio"]
    tls: dict[str, Any] = {"ssl_context": ssl_context} if ssl_context is not None else {}  # both stacks take it
    if server == "gevent":
        import gevent

        # gevent runs signal handlers in a greenlet of their own: stop the server from there.
        gevent.signal_handler(signal.SIGTERM, lambda: socketio.wsgi_server.stop(timeout=1))
        socketio.run(app, host=host, port=port, log_output=False, handler_class=_no_delay_handler(), **tls)
    else:
        def _terminate(*_: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _terminate)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # Flask-SocketIO ignores log_output here
        socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True, **tls)


def _no_delay_handler() -> type:
    from gevent import pywsgi

    class NoDelayHandler(pywsgi.WSGIHandler):
        """pywsgi writes headers and body separately; with Nagle on, the body of every response after
        the first on a keep-alive connection waits ~40 ms for the client's delayed ACK."""

        def handle(self) -> Any:
            with suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return super().handle()

        def _handle_client_error(self, ex: Exception) -> Any:
            # http.client refuses over 100 header lines (or one over 64 KiB) with an HTTPException, which
            # pywsgi takes for a bug of its own and prints with a traceback: it is the client's fault.
            if isinstance(ex, http.client.HTTPException):
                self.log_error("Invalid request (from %s): %s", self.client_address, str(ex) or type(ex).__name__)
                return "431", TOO_MANY_HEADERS
            return super()._handle_client_error(ex)

    return NoDelayHandler
