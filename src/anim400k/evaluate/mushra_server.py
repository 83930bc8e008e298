"""Run the MUSHRA app with uvicorn in a background thread (tests, benchmarks, notebooks)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

from .mushra_app import create_app


def http_url(host: str, port: int) -> str:
    """``http://HOST:PORT`` of a server bound to ``host``; an IPv6 address in brackets (``http://[::1]:8000``, a
    zone's ``%`` as ``%25``), as a URL needs it (``http://::1:8000`` is none: its port does not parse)."""
    if ":" in host:
        host = "[" + host.replace("%", "%25") + "]"
    return f"http://{host}:{port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, or :class:`InputError` in one line.

    Binding before anything is printed means a busy port fails before any invitation link is
    shown (uvicorn serves the socket as given).
    """
    from ..errors import InputError

    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: a port is 0..65535")
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"cannot listen on {host}:{port}: unknown host ({exc})") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        hint = " (another server is using it: choose another --port)" if exc.errno == errno.EADDRINUSE else ""
        raise InputError(f"cannot listen on {host}:{port}: {reason}{hint}") from exc
    sock.set_inheritable(True)
    return sock


class BackgroundServer:
    """``with BackgroundServer(test_dir) as srv: srv.url`` serves the test on a free loopback port."""

    def __init__(self, test_dir: str | Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        import uvicorn

        self.app = create_app(test_dir)
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(self.app, host=host, port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="mushra-server", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return http_url(self.host, self.port)

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        """Start serving and wait until the socket accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"MUSHRA server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
