"""`make run` from a clean clone, as a newcomer would use it: it starts on the ports given, the
printed admin password logs in, a prediction submitted through the form succeeds with its
image, nothing prints a traceback, and Ctrl-C stops every process it started.

The clone is of the commit checked out here (HEAD, not uncommitted changes). `make run`
creates the clone's own .venv from the package index (pip's cache makes that quick).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import log_in, submit_prompt
from tests.world import ROOT, SCHNELL

pytestmark = [pytest.mark.make_run, pytest.mark.browser]

START_TIMEOUT = 600  # seconds: the first run creates .venv and installs DeerWeb into it
# The processes of the Procfile that `make run` starts in sandbox mode, by a word of their command line.
PROCESSES = {
    "web": "uvicorn deerweb.asgi:application",
    "worker": "celery -A deerweb worker",
    "beat": "celery -A deerweb beat",
    "simulator": "manage.py deerapi_simulator",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback http:// URL
            return response.status == 200
    except OSError:
        return False


def processes_in(folder: Path) -> dict[int, str]:
    """Every process working in `folder` (make, honcho and what it starts, each in a session of its own), by pid:
    its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue  # ended meanwhile
    return {pid: command for pid, command in found.items() if command}


@dataclass
class MakeRun:
    process: subprocess.Popen
    url: str
    log_path: Path
    folder: Path

    def processes(self) -> dict[int, str]:
        return processes_in(self.folder)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited with {self.process.returncode}:\n{self.output()[-5000:]}")
            if answers(f"{self.url}/accounts/login/"):
                return
            time.sleep(1)
        raise AssertionError(f"make run did not answer within {START_TIMEOUT} s:\n{self.output()[-5000:]}")

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to make's process group, as a terminal sends it to the foreground job."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"make run still running 60 s after Ctrl-C:\n{self.output()[-5000:]}") from None


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    """`make run` in a fresh clone of HEAD, on free ports, in its own session (process group)."""
    clone = tmp_path / "deerweb"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", head.stdout.strip()], cwd=clone, check=True)
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DEERAPI_", "DEERWEB_", "PYTEST_", "CELERY_", "VIRTUAL_ENV"))
        and name not in ("DATABASE_URL", "MEDIA_ROOT", "PYTHONPATH")
    }
    env.update(PORT=str(port), DEERWEB_SIMULATOR_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "make-run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = MakeRun(process, f"http://127.0.0.1:{port}", log_path, clone)
    try:
        yield run
    finally:
        for pid in [process.pid, *run.processes()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)


def test_make_run_from_a_clean_clone_serves_a_prediction_in_the_browser_and_stops_on_ctrl_c(make_run, browser):
    make_run.wait_until_serving()
    password = re.search(r"^\s*password: (\S+)$", make_run.output(), re.MULTILINE)
    assert password, f"no admin password printed:\n{make_run.output()[-5000:]}"
    running = make_run.processes()
    for name, word in PROCESSES.items():
        assert any(word in command for command in running.values()), f"no {name} process in {running}"

    context = browser.new_context(base_url=make_run.url, locale="en-US")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, "admin", password.group(1))

        page.goto("/predictions/new/")
        assert page.get_by_label("Model", exact=True).input_value() == SCHNELL
        pk = submit_prompt(page, "a red deer on a misty hill")
        page.locator('#live [data-prediction-status="succeeded"]').wait_for(timeout=60_000)
        image = page.locator("#live img").first
        image.wait_for(state="visible")
        src = image.get_attribute("src")
        assert src == f"/predictions/{pk}/outputs/0/"
        stored = page.request.get(src)
        assert stored.status == 200
        assert stored.headers["content-type"].startswith("image/"), stored.headers
        assert len(stored.body()) > 0
    finally:
        context.close()

    make_run.interrupt()
    deadline = time.monotonic() + 10
    while make_run.processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert make_run.processes() == {}, f"left running after Ctrl-C:\n{make_run.output()[-5000:]}"
    assert "Traceback" not in make_run.output(), make_run.output()[-8000:]
