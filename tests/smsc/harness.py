"""Start, drive and kill the test SMSC (smsc.js, on the npm `smpp` package) from Python."""

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> tuple[bool, str]:
    if not shutil.which("node"):
        return False, "Node.js missing"
    if not (HERE / "node_modules" / "smpp").is_dir():
        return False, "tests/smsc: run `npm ci --prefix tests/smsc`"
    return True, ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Smsc:
    def __init__(self, system_id="panel", password="secret"):
        self.port, self.control = free_port(), free_port()
        self.credentials = (system_id, password)
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["node", str(HERE / "smsc.js"), str(self.port), str(self.control), *self.credentials],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.startswith("ready"), line

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def _call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control}{path}",
            data=data,
            method="GET" if data is None else "POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def state(self) -> dict:
        return self._call("/state")

    def configure(self, **config) -> dict:
        return self._call("/config", config)

    def mo(self, sender: str, text: str, ucs2=False) -> dict:
        return self._call("/mo", {"from": sender, "text": text, "ucs2": ucs2})


def wait_for(condition, timeout=20.0, every=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
