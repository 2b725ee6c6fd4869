"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` reads commands on fd 3 and writes replies and events on fd 4, each a JSON
message ended by a NUL byte: no port, no WebSocket client. :class:`Browser` opens one page, evaluates
expressions in it, collects console and log entries (CSP violations land there), and always ends
Chromium by PID. Flags follow shared/research/relay-tier.md section 5: background networking off
(this machine has no network), a fresh profile per browser.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

from tests.support.processes import stop

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--mute-audio", "--autoplay-policy=no-user-gesture-required")


class BrowserError(AssertionError):
    pass


class Browser:
    """One Chromium process with one page; use as a context manager."""

    def __init__(self, profile: Path, flags: tuple[str, ...] = (), timeout: float = 20):
        assert CHROMIUM, "Chromium is not installed (`make deps` installs Debian's chromium)"
        self.profile, self.timeout = profile, timeout
        self.log = profile.with_suffix(".log")
        self.events: list[dict] = []
        self._next_id = 0
        self._buffer = b""
        profile.mkdir(parents=True, exist_ok=True)
        commands, self._to_browser = os.pipe()
        self._from_browser, replies = os.pipe()

        def on_fds_3_and_4() -> None:  # the child's fds 3/4, where --remote-debugging-pipe expects them
            # Move both out of the way first: either may itself be fd 3 or 4.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands, replies)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [CHROMIUM, *FLAGS, *flags, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, close_fds=False,
                preexec_fn=on_fds_3_and_4)
        os.close(commands)
        os.close(replies)
        self.session: Optional[str] = None

    def __enter__(self) -> "Browser":
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.send(f"{domain}.enable")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        stop(self.process)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"no answer from Chromium within the time limit; its log:\n{self.output()[-2000:]}")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the DevTools pipe; its log:\n{self.output()[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: Optional[dict] = None, timeout: Optional[float] = None) -> dict:
        """One DevTools command (to the page once attached); its result, events kept in :attr:`events`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"Chromium is gone (exit {self.process.poll()}); its log:\n{self.output()[-2000:]}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply.get("id") != self._next_id:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise BrowserError(f"{method}: {reply['error']}")
            return reply["result"]

    def open(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str, timeout: Optional[float] = None) -> Any:
        """The value of a JavaScript expression (promises awaited), or BrowserError with the exception."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                           timeout=timeout)
        if "exceptionDetails" in result:
            thrown = result["exceptionDetails"].get("exception", {}).get("description")
            raise BrowserError(f"{expression[:80]!r} threw: {thrown}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, interval: float = 0.2) -> Any:
        """Poll ``expression`` until it is truthy; its value, or BrowserError with the last value after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError as err:  # e.g. the page is not there yet
                value = str(err)
            else:
                if value:
                    return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{expression[:100]!r} still {value!r} after {timeout} s; console:\n{self.console()}")
            time.sleep(interval)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))
        return path

    def console(self) -> str:
        """Console messages and log entries so far, one per line (what a failing test shows)."""
        lines = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
                lines.append(f"console.{params['type']}: {args}")
            elif event.get("method") == "Log.entryAdded":
                lines.append(f"log.{params['entry']['level']}: {params['entry']['text']}")
        return "\n".join(lines)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
