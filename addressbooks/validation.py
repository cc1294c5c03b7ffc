"""Number validation for imports, in plain Python (core.recipients + phonenumbers, no
Django): ~75% of an import's time, so a large file is validated in helper processes.

`python -m addressbooks.validation` is one helper: it reads pickled `(region, rows)` chunks on
its stdin and writes `validate_chunk`'s answer for each on its stdout, until stdin closes.
"""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
from collections import deque
from pathlib import Path

from core.recipients import Recipient, normalise, plain_e164

from .parsers import LANDLINE_FIELDS, NUMBER_FIELDS

_LANDLINE_INDEXES = frozenset(i for i, f in enumerate(NUMBER_FIELDS) if f in LANDLINE_FIELDS)
# The directory holding this package: helpers run `-m addressbooks.validation` from there.
_ROOT = Path(__file__).resolve().parent.parent


def normalise_number(raw: str, landline_ok: bool, region: str) -> str:
    """E.164, or a reason code; landline columns take any valid number."""
    if raw[:1] == "'":  # the export's formula escape
        raw = raw[1:]
    outcome = normalise(raw, region, allow_landline=landline_ok)
    return outcome.number if isinstance(outcome, Recipient) else outcome


def validate_chunk(region: str, rows: list[tuple[str, str, str, str]]) -> list:
    """For each row of raw numbers (NUMBER_FIELDS order): a list of 4 E.164 numbers ("" when
    empty), or a tuple (reason, index in NUMBER_FIELDS) for the first bad one."""
    out = []
    for numbers in rows:
        result: list | tuple = []
        for index, raw in enumerate(numbers):
            if not raw:
                result.append("")
                continue
            landline_ok = index in _LANDLINE_INDEXES
            # Most numbers of a file are plain E.164 ones: checked without normalise()'s cleaning.
            number = raw[0] == "+" and plain_e164(raw, allow_landline=landline_ok)
            if not number:
                number = normalise_number(raw, landline_ok, region)
            if number[0] != "+":
                result = (number, index)
                break
            result.append(number)
        out.append(result)
    return out


class InlineValidator:
    """Validates each chunk in this process, when it is submitted (small files, one CPU)."""

    capacity = 1  # chunks submitted before the caller must take an answer

    def __init__(self, region: str):
        self.region = region
        self._answers: deque[list] = deque()

    def submit(self, rows: list[tuple[str, str, str, str]]) -> None:
        self._answers.append(validate_chunk(self.region, rows))

    def answer(self) -> list:
        """validate_chunk's answer for the oldest chunk not answered yet."""
        return self._answers.popleft()

    def close(self) -> None:
        self._answers.clear()


class HelperProcesses:
    """Validates chunks in `count` helper processes, answers in submission order.

    The helpers are started with `subprocess`, not `multiprocessing`: the import runs in a
    Celery prefork child, a daemonic process, and multiprocessing refuses children to those
    because they would outlive it. A helper's stdin comes from this process alone (subprocess
    closes other descriptors in children), so when the import ends or this process dies the
    helper reads end-of-file and exits.

    Each helper holds at most one chunk, given in turn: the answers come back in the order of
    the chunks, and neither side ever blocks writing to a pipe the other is not reading.
    Raises OSError when the processes cannot start.
    """

    def __init__(self, region: str, count: int):
        self.region = region
        self.capacity = count
        self._helpers: list[subprocess.Popen] = []
        self._busy: deque[subprocess.Popen] = deque()  # one entry per chunk held, oldest first
        self._turn = 0
        try:
            for _ in range(count):
                self._helpers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", __name__],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        cwd=_ROOT,
                    )
                )
        except OSError:
            self.close()
            raise

    def submit(self, rows: list[tuple[str, str, str, str]]) -> None:
        helper = self._helpers[self._turn]
        self._turn = (self._turn + 1) % len(self._helpers)
        try:
            pickle.dump((self.region, rows), helper.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            helper.stdin.flush()
        except BrokenPipeError:
            raise _died(helper) from None
        self._busy.append(helper)

    def answer(self) -> list:
        """validate_chunk's answer for the oldest chunk not answered yet."""
        helper = self._busy.popleft()
        try:
            return pickle.load(helper.stdout)
        except EOFError:
            raise _died(helper) from None

    def close(self) -> None:
        """Ends the helpers: end-of-file on their input; an answer nobody will read is dropped."""
        for helper in self._helpers:
            helper.stdin.close()
            helper.stdout.close()
        for helper in self._helpers:
            try:
                helper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()
        self._helpers.clear()
        self._busy.clear()


def _died(helper: subprocess.Popen) -> RuntimeError:
    return RuntimeError(f"validation helper {helper.pid} exited with status {helper.wait()}")


def serve() -> None:
    """A helper's loop: pickled (region, rows) in, validate_chunk's answer out, until EOF."""
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    # Validation makes no reference cycles; the collector's passes over each chunk's lists
    # were ~6% of a helper's CPU.
    gc.disable()
    while True:
        try:
            region, rows = pickle.load(requests)
        except EOFError:
            return
        try:
            pickle.dump(validate_chunk(region, rows), answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except BrokenPipeError:  # the import closed its end: it no longer wants the answer
            return


if __name__ == "__main__":
    serve()
