"""A real HTTP server on a loopback address, in a thread, answering from a script."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core import http


class LocalServer:
    """Answers every request with `answer(path) -> (status, headers, body)`; records
    (method, path, headers, body) of each request it got."""

    def __init__(self, host: str, answer):
        self.requests = []
        self.answer = answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, content = server.answer(self.path)
                if callable(content):  # a slow answer writes its own body
                    self.send_response(status)
                    self.end_headers()
                    content(self.wfile)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that stops reading (the size and time limits) is expected

        self.server = Server((host, 0), Handler)
        self.base = f"http://{host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def redirect_to(url: str, status: int = 302):
    return lambda path: (status, {"Location": url}, b"")


def content(body: bytes, status: int = 200):
    return lambda path: (status, {"Content-Type": "text/csv"}, body)


def trickle(seconds: float):
    """An answer that sends a byte every 0.1 s for `seconds`."""

    def write(out):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            out.write(b"x" * 70_000)  # more than one read chunk at a time
            out.flush()
            time.sleep(0.1)

    return lambda path: (200, {}, write)


class LocalServers:
    """Starts servers with start(answer, host); stops them all on leaving the `with` block."""

    def __init__(self):
        self.servers = []

    def start(self, answer, host="127.0.0.1") -> LocalServer:
        self.servers.append(LocalServer(host, answer))
        return self.servers[-1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for server in self.servers:
            server.close()


def pretend_public(monkeypatch, settings) -> str:
    """Treat 127.0.0.2 as a public address (a customer's server on the internet) while the
    guard keeps refusing every other private address, 127.0.0.1 included; returns it."""
    settings.CALLBACKS_ALLOW_PRIVATE = False
    real = http.address_allowed
    monkeypatch.setattr(http, "address_allowed", lambda ip: str(ip) == "127.0.0.2" or real(ip))
    return "127.0.0.2"
