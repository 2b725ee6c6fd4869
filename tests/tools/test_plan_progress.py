"""A plan that takes more than a moment says what it is doing on a terminal (stderr), and nothing in a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time

from tests.support.plan import ROOT, run_plan
from tools.plan import progress
from tools.plan.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_appears_after_the_delay_changes_in_place_and_is_erased():
    stream, count = Terminal(), [0]
    with Progress(stream, "eks", lambda: count[0], delay=0.05):
        time.sleep(0.2)
        count[0] = 12
        time.sleep(0.2 + progress.INTERVAL)
    text = stream.getvalue()
    assert "\r\033[Kplanning eks offline (the program under mocks): loading the program, 0 s" in text
    assert "\r\033[Kplanning eks offline (the program under mocks): 12 resources registered, 0 s" in text
    assert text.endswith("\r\033[K")


def test_a_quick_plan_and_a_pipe_show_nothing():
    quick = Terminal()
    with Progress(quick, "local", lambda: 3):
        pass
    piped = io.StringIO()
    with Progress(piped, "local", lambda: 3, delay=0):
        time.sleep(0.1)
    assert quick.getvalue() == "" and piped.getvalue() == ""


def test_a_real_plan_on_a_terminal(tmp_path):
    primary, secondary = pty.openpty()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tools.plan", "eks", "--out", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=180) == 0
    os.close(primary)
    text = seen.decode()
    if time.monotonic() - started > progress.DELAY + 2:  # the plan outlasted the delay (it does on a small machine)
        assert "planning eks offline (the program under mocks): " in text and "resources registered" in text
    assert text.rsplit("\r\033[K", 1)[-1].startswith("note: stack eks holds example values")
    piped = run_plan("eks", tmp_path)
    assert piped.returncode == 0 and "planning" not in piped.stderr and "\033" not in piped.stderr
