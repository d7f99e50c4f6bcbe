"""`archive serve` as a real process on 127.0.0.1, for the tests that talk to it over HTTP."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# Not a speed requirement: only how long a start may take before the test calls it hung.
START_SECONDS = 120


@contextmanager
def live_server(
    db: Path,
    *args: str,
    wrapper: Sequence[str] = (),
    env: dict[str, str] | None = None,
    log: list[str] | None = None,
) -> Iterator[str]:
    """Start `archive --db DB serve --port 0 ARGS`, yield its URL once it answers,
    stop it (SIGTERM) after.

    --port 0 lets the server take a free port and print it: no port is picked
    here and then raced for. `wrapper` is a command line that runs it (setpriv).
    `log` receives the lines it wrote after its banner, on stderr or stdout.
    """
    with tempfile.TemporaryFile("w+") as output:
        with _serving(db, args, wrapper, env, output if log is not None else None) as url:
            yield url
        if log is not None:
            output.seek(0)
            log.extend(output.read().splitlines())


@contextmanager
def _serving(
    db: Path,
    args: Sequence[str],
    wrapper: Sequence[str],
    env: dict[str, str] | None,
    output: IO[str] | None,
) -> Iterator[str]:
    """live_server's process; what it writes after the banner goes to `output`."""
    process = subprocess.Popen(
        [*wrapper, sys.executable, "-m", "archive", "--db", str(db), "serve", "--port", "0", *args],
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    assert process.stderr is not None
    try:
        url = _announced_url(process)
        _wait_until_it_answers(url)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("archive serve did not stop on SIGTERM") from None
        if output is not None:
            output.write(process.stderr.read())
        process.stderr.close()
    # A clean stop: uvicorn exits 0 on SIGTERM, with nothing on stderr after the banner.
    assert process.returncode == 0, process.returncode


def _announced_url(process: subprocess.Popen) -> str:
    """The URL from the `serving ... at URL` line; fail with what it said instead."""
    deadline = time.monotonic() + START_SECONDS
    said = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        line = process.stderr.readline()
        if not line:
            break
        said.append(line)
        match = re.search(r" at (http://\S+/) ", line)
        if match:
            return match.group(1)
    raise AssertionError(f"archive serve did not start: {''.join(said)!r}")


def _wait_until_it_answers(url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url + "-/versions.json", timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


# Root ignores file permissions. Without these capabilities (util-linux's setpriv)
# it obeys them like any user, so a test can show what a read-only folder does.
AS_ORDINARY_USER = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
)
