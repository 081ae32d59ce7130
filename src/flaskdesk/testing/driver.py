"""``AppDriver``: launch a flaskdesk app (from source or frozen) and drive its real window.

pywebview must own the main thread of the process that shows the window, so the app runs as a
child process and the driver talks to it over the automation channel
(:mod:`flaskdesk.automation`): one end of a ``socketpair`` inherited by the child, plus a
one-time secret in its environment. Nothing listens on a port or a path. How the socket is passed
and how the app is stopped differ between POSIX and Windows; :mod:`flaskdesk._automation_os` holds
both ways.

Failures are written for the person reading the test report: a ``wait_for`` that times out
says where the page was, what it said, and where the screenshot is; an app that never came up
says how it exited and shows the tail of its log and output.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

from .._automation_os import ChannelOS, for_platform
from ..automation import FD_VARIABLE, SECRET_VARIABLE
from ..config import ENV_VARS
from ..errors import FlaskdeskError
from .display import VirtualDisplay

__all__ = ["AppDriver", "DriverError", "JavaScriptError", "WaitTimeout", "source_command"]

#: How much of a log or of the page's text goes into an error message.
_TAIL_LINES = 20
_PAGE_TEXT_CHARS = 500
_UNWIRED_HINT = (
    " Does this build support automation? Its launcher must claim the channel at start-up and start it "
    "when the window is shown (flaskdesk.automation; see docs/testing.md)."
)
#: Heads the log excerpt in error messages (the pytest plugin looks for it to avoid repeating the log).
LOG_HEADING = "end of the app's log"
#: Extra time the driver waits for an answer beyond the command's own timeout.
_ANSWER_GRACE = 15.0


class DriverError(FlaskdeskError):
    """The app could not be launched or driven; the message says what the app and page were doing."""


class JavaScriptError(DriverError):
    """Script run with :meth:`AppDriver.evaluate` threw; ``name``/``message`` are the JS error's."""

    def __init__(self, name: str, message: str, stack: str | None = None) -> None:
        super().__init__(f"{name}: {message}" + (f"\n{stack}" if stack else ""))
        self.name = name
        self.message = message
        self.stack = stack


class WaitTimeout(DriverError, AssertionError):
    """A selector never appeared. Also an ``AssertionError``, so pytest reports it as a failed check."""


def source_command(target: str | None = None, *, python: str | None = None) -> list[str]:
    """The command that runs an app from source, as ``flaskdesk run --no-dev --app TARGET`` does."""
    command = [python or sys.executable, "-m", "flaskdesk", "run", "--no-dev"]
    return [*command, "--app", target] if target else command


class AppDriver:
    """Runs ``command`` with the automation channel on and drives its window.

    Use :meth:`from_source` or :meth:`frozen`, then ``with driver: ...`` (or :meth:`start` and
    :meth:`close`). ``data_dir`` becomes ``FLASKDESK_DATA_DIR`` (a fresh temp dir by default, so a
    test never sees the user's real data); ``artifacts_dir`` receives screenshots and the app's
    console output. ``display`` is shared when given, else the driver starts its own when needed.
    ``channel_os`` is how the socket is passed and the app stopped (this OS's way by default).
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        artifacts_dir: str | os.PathLike[str] | None = None,
        display: VirtualDisplay | None = None,
        start_timeout: float = 60.0,
        channel_os: ChannelOS | None = None,
    ) -> None:
        self.command = list(command)
        self._os = channel_os or for_platform()
        self.cwd = Path(cwd) if cwd is not None else None
        self.start_timeout = start_timeout
        self._base_env = dict(os.environ if env is None else env)
        self._own_temp: Path | None = None
        if data_dir is None or artifacts_dir is None:
            # Removed again after a clean run; kept (and named in errors) after a failure.
            self._own_temp = Path(tempfile.mkdtemp(prefix="flaskdesk-driver-"))
        own = self._own_temp or Path()
        self.data_dir = Path(data_dir) if data_dir is not None else own / "data"
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir is not None else own / "artifacts"
        self._failed = False
        self._display = display
        self._own_display = display is None
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._next_id = 0
        self._output: IO[bytes] | None = None
        self._screenshots = 0
        self.pid: int | None = None
        self.log_file: Path | None = None
        self.app_name: str | None = None
        self.returncode: int | None = None
        self._last_js_errors: list[dict[str, Any]] = []

    # -- constructors ------------------------------------------------------------------------------

    @classmethod
    def from_source(cls, target: str | None = None, **options: Any) -> AppDriver:
        """Run the app from source: ``target`` as for ``flaskdesk run --app`` (``None``: the project's)."""
        return cls(source_command(target), **options)

    @classmethod
    def frozen(cls, executable: str | os.PathLike[str], *args: str, **options: Any) -> AppDriver:
        """Run an executable built by ``flaskdesk build``."""
        path = Path(executable)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise DriverError(f"{path} is not an executable file; build it first with `flaskdesk build`.")
        return cls([str(path), *args], **options)

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> AppDriver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def output_file(self) -> Path:
        """Where the app's stdout and stderr go."""
        return self.artifacts_dir / "output.txt"

    def start(self) -> AppDriver:
        """Launch the app and return once its first page has loaded (or raise, saying why not)."""
        __tracebackhide__ = True  # a failure points at the test's line, not at the driver
        if self._process is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        if self._display is None:
            self._display = VirtualDisplay(env=self._base_env)
        self._display.start()
        try:
            ours, theirs = self._os.socketpair()
        except OSError as error:
            self._cleanup()
            raise DriverError(f"Could not open the automation channel: {error}") from None
        secret = secrets.token_urlsafe(32)
        env = dict(self._base_env)
        env.update(self._display.env())
        env[ENV_VARS["data_dir"]] = str(self.data_dir)
        env[FD_VARIABLE] = str(theirs.fileno())
        env[SECRET_VARIABLE] = secret
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._output = self.output_file.open("wb")
        try:
            self._process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                # theirs inherited, nothing else; its own process group, which _kill() ends whole
                **self._os.popen_options(theirs),
            )
        except OSError as error:
            ours.close()
            self._cleanup()
            raise DriverError(f"Could not run {self.command[0]}: {error}") from None
        finally:
            theirs.close()
        self._sock = ours
        self.pid = self._process.pid
        try:
            self._handshake(secret)
            self._wait_until_loaded()
        except BaseException:
            self.stop()
            raise
        return self

    def close(self, timeout: float = 30.0) -> int:
        """Close the window as a user would; return the app's exit status once it has drained."""
        __tracebackhide__ = True
        process = self._process
        if process is None:
            return self.returncode if self.returncode is not None else -1
        if process.poll() is None:
            with contextlib.suppress(DriverError):
                self._last_js_errors = self.js_errors()
            try:
                self._request("close", timeout=5.0)
            except DriverError:
                # No channel (the app failed to start, or it broke): ask the OS to close the window
                # (SIGTERM / WM_CLOSE), so the app still drains; killed below if it does not exit.
                self._os.terminate(process)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
                self._cleanup()
                raise DriverError(
                    f"The app did not exit within {timeout:g} s of its window closing; it was killed."
                    + self._diagnostics()
                ) from None
        self.returncode = process.returncode
        self._cleanup()
        return self.returncode

    def stop(self) -> None:
        """Close if still running (killing after a short grace), and release everything; never raises."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(DriverError):
                self.close(timeout=10.0)
        if self._process is not None and self._process.poll() is None:
            self._kill()
        self._cleanup()
        if self._own_temp is not None and self.returncode == 0 and not self._failed:
            shutil.rmtree(self._own_temp, ignore_errors=True)
            self._own_temp = None

    # -- driving -----------------------------------------------------------------------------------

    def goto(self, path: str, *, timeout: float = 10.0) -> str:
        """Load ``path`` (on the app only: ``"/notes/1"``) and wait for it; returns the resulting URL."""
        __tracebackhide__ = True
        return str(self._request("goto", timeout=timeout, path=path))

    def wait_for(self, selector: str, timeout: float = 10.0) -> None:
        """Wait until ``document.querySelector(selector)`` finds an element.

        On timeout raises :class:`WaitTimeout` with the URL, the start of the page's visible text
        and the path of a screenshot, so the failure can be understood without re-running.
        """
        __tracebackhide__ = True
        self._request("wait_for", timeout=timeout, selector=selector)

    def click(self, selector: str, *, timeout: float = 10.0) -> None:
        """Click the element (waiting up to ``timeout`` for it to appear)."""
        __tracebackhide__ = True
        self._request("click", timeout=timeout, selector=selector)

    def fill(self, selector: str, value: str | bool | int | float, *, timeout: float = 10.0) -> None:
        """Set a field's value (``True``/``False`` for checkboxes) and fire ``input`` and ``change``."""
        __tracebackhide__ = True
        self._request("fill", timeout=timeout, selector=selector, value=value)

    def text(self, selector: str, *, timeout: float = 10.0) -> str:
        """The element's visible text (a form field's value)."""
        __tracebackhide__ = True
        return str(self._request("text", timeout=timeout, selector=selector))

    def evaluate(self, js: str, *, timeout: float = 10.0) -> Any:
        """Evaluate ``js`` in the page like the devtools console: its value (a promise is awaited).

        Raises :class:`JavaScriptError` with the error's ``name`` and ``message`` if it throws.
        """
        __tracebackhide__ = True
        return self._request("eval", timeout=timeout, js=js)

    @property
    def url(self) -> str:
        """The URL the window shows now."""
        __tracebackhide__ = True
        return str(self._request("url"))

    def status(self) -> dict[str, Any]:
        """``loaded``, ``url``, ``title``, ``pid``, ``app`` and ``log_file`` as the app reports them."""
        __tracebackhide__ = True
        result = self._request("status")
        return dict(result) if isinstance(result, dict) else {}

    def routes(self) -> list[str]:
        """The app's GET routes that take no URL arguments (the pages a smoke test can open)."""
        __tracebackhide__ = True
        return [str(r) for r in self._request("routes") or []]

    def bridge_available(self) -> bool:
        """Whether ``window.flaskdesk.api`` exists on the current page."""
        __tracebackhide__ = True
        return bool(self._request("bridge_check"))

    def js_errors(self, *, clear: bool = False) -> list[dict[str, Any]]:
        """Uncaught errors and unhandled rejections the pages have had (each ``type``, ``message``, ...)."""
        __tracebackhide__ = True
        if not self.running:
            return list(self._last_js_errors)
        errors = self._request("js_errors", clear=clear)
        self._last_js_errors = [e for e in errors or [] if isinstance(e, dict)]
        return list(self._last_js_errors)

    def screenshot(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save a PNG of the window (``import`` from ImageMagick); returns its path."""
        if path is None:
            self._failed = True  # a screenshot in the artifacts dir is meant to be looked at
            self._screenshots += 1
            path = self.artifacts_dir / f"screenshot-{self._screenshots}.png"
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tool = shutil.which("import")
        if tool is None:
            raise DriverError("Screenshots need ImageMagick's `import` (apt install imagemagick).")
        window = self._x_window()
        env = dict(self._base_env)
        if self._display is not None:
            env.update(self._display.env())
        done = subprocess.run(
            [tool, "-window", window, str(target)], env=env, capture_output=True, check=False, timeout=30
        )
        if done.returncode != 0 or not target.is_file():
            raise DriverError(f"Could not take a screenshot: {done.stderr.decode(errors='replace').strip()}")
        return target

    def log_text(self) -> str:
        """The app's log file (what flaskdesk and the app logged), or its console output if there is none."""
        return self._log_file_text() or self.output_text()

    def _log_path(self) -> Path | None:
        if self.log_file is not None and self.log_file.is_file():
            return self.log_file
        # FLASKDESK_DATA_DIR/<name>/log/<name>.log (AppPaths); not the web engine's *.log files.
        return next(iter(sorted(self.data_dir.glob("*/log/*.log"))), None)

    def _log_file_text(self) -> str:
        path = self._log_path()
        return path.read_text(errors="replace") if path is not None else ""

    def output_text(self) -> str:
        """What the app wrote to stdout and stderr."""
        if self._output is not None:
            self._output.flush()
        try:
            return self.output_file.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None and self._sock is not None

    # -- the channel -------------------------------------------------------------------------------

    def _handshake(self, secret: str) -> None:
        hello = self._request("hello", timeout=self.start_timeout, secret=secret)
        if isinstance(hello, dict) and isinstance(hello.get("pid"), int):
            self.pid = hello["pid"]

    def _wait_until_loaded(self) -> None:
        """The first page counts as loaded once the launch redirect is done and the DOM is complete."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            status = self.status()
            self.log_file = Path(status["log_file"]) if status.get("log_file") else None
            self.app_name = status.get("app")
            url = str(status.get("url") or "")
            if status.get("loaded") and "/__flaskdesk__/launch" not in url:
                return
            if time.monotonic() > deadline:
                raise DriverError(
                    f"The app's first page did not finish loading within {self.start_timeout:g} s "
                    f"(it is at {url or 'no URL'})." + self._diagnostics()
                )
            time.sleep(0.1)

    def _request(self, cmd: str, timeout: float = 10.0, **args: Any) -> Any:
        __tracebackhide__ = True
        if self._sock is None:
            raise DriverError(f"The app is not running, so {cmd} cannot be sent." + self._diagnostics())
        self._next_id += 1
        request_id = self._next_id
        if cmd in ("goto", "wait_for", "click", "fill", "text", "eval"):
            args["timeout"] = timeout
        line = json.dumps({"id": request_id, "cmd": cmd, "args": args}).encode() + b"\n"
        try:
            self._sock.sendall(line)
        except OSError:
            self._gone(cmd)
        deadline = time.monotonic() + timeout + (0.0 if cmd == "hello" else _ANSWER_GRACE)
        while True:
            message = self._read_message(deadline, cmd)
            if "event" in message:
                self._startup_failed(message)
            if message.get("id") == request_id:
                break
        if message.get("ok"):
            return message.get("result")
        error = message.get("error") or {}
        raise self._error_for(cmd, args, error)

    def _read_message(self, deadline: float, cmd: str) -> dict[str, Any]:
        __tracebackhide__ = True
        assert self._sock is not None and self._process is not None
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._drop_channel()  # an app that stopped answering gets no more requests
                hint = _UNWIRED_HINT if cmd == "hello" else ""
                raise DriverError(f"The app did not answer {cmd!r} in time.{hint}" + self._diagnostics())
            readable, _, _ = select.select([self._sock], [], [], min(remaining, 0.25))
            if not readable:
                if self._process.poll() is not None:
                    self._gone(cmd)
                continue
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._gone(cmd)
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = json.loads(line)
        if not isinstance(message, dict):
            raise DriverError(f"The app sent something that is not a message: {line[:200]!r}")
        return message

    def _gone(self, cmd: str) -> NoReturn:
        """The channel closed under us: wait briefly for the exit status, then say what happened."""
        __tracebackhide__ = True
        self._drop_channel()
        process = self._process
        status = None
        if process is not None:
            try:
                status = process.wait(5)
            except subprocess.TimeoutExpired:
                status = None
        state = f"exited with status {status}" if status is not None else "closed the automation channel"
        hint = _UNWIRED_HINT if cmd == "hello" and status is None else ""
        raise DriverError(
            f"The app {state} while {cmd!r} was pending.{hint}" + self._diagnostics(output=status is not None)
        )

    def _startup_failed(self, event: Mapping[str, Any]) -> NoReturn:
        __tracebackhide__ = True
        self._drop_channel()
        if event.get("log_file"):
            self.log_file = Path(str(event["log_file"]))
        raise DriverError(f"The app could not start: {event.get('message')}" + self._diagnostics())

    def _error_for(self, cmd: str, args: Mapping[str, Any], error: Mapping[str, Any]) -> DriverError:
        name = str(error.get("name") or "Error")
        message = str(error.get("message") or "")
        if cmd == "eval" and name not in ("TimeoutError", "BadRequest", "Refused"):
            stack = error.get("stack")
            return JavaScriptError(name, message, str(stack) if stack else None)
        if name == "TimeoutError" and "selector" in args:
            return WaitTimeout(self._timeout_message(cmd, args, error))
        where = f" (at {error['url']})" if error.get("url") else ""
        return DriverError(f"{cmd}({_describe(args)}) failed: {name}: {message}{where}")

    def _timeout_message(self, cmd: str, args: Mapping[str, Any], error: Mapping[str, Any]) -> str:
        try:
            shot = str(self.screenshot())
        except DriverError as problem:
            shot = f"(none: {problem})"
        text = str(error.get("page_text") or "").strip()
        lines = [
            f"{cmd}({args['selector']!r}) timed out after {args.get('timeout', 10):g} s: "
            "no element matches that selector.",
            f"  url:        {error.get('url')}",
            f"  title:      {error.get('title')!r}",
            f"  screenshot: {shot}",
            "  page text:",
            *("    " + line for line in (text[:_PAGE_TEXT_CHARS] or "(the page shows no text)").splitlines()),
        ]
        errors = self._last_js_errors
        with contextlib.suppress(DriverError):
            errors = self._request("js_errors")
        if errors:
            lines.append("  JavaScript errors on the page:")
            lines += [f"    {e.get('type')}: {e.get('message')} ({e.get('url')})" for e in errors[-5:]]
        return "\n".join(lines)

    def _diagnostics(self, *, output: bool = False) -> str:
        """The end of the app's log, and of its console output when it crashed or has no log."""
        self._failed = True
        parts = []
        log = self._log_file_text().strip().splitlines()
        if log:
            parts.append(f"\n--- {LOG_HEADING} ({self._log_path()}) ---\n" + "\n".join(log[-_TAIL_LINES:]))
        if output or not log:
            printed = self.output_text().strip().splitlines()
            if printed:
                parts.append(
                    f"\n--- end of the app's output ({self.output_file}) ---\n"
                    + "\n".join(printed[-_TAIL_LINES:])
                )
        return "".join(parts)

    def _x_window(self) -> str:
        """The X window id of the app's visible window, or ``root`` on a display we own."""
        xdotool = shutil.which("xdotool")
        if xdotool and self.pid is not None:
            env = dict(self._base_env)
            if self._display is not None:
                env.update(self._display.env())
            found = subprocess.run(
                [xdotool, "search", "--onlyvisible", "--pid", str(self.pid)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            )
            ids = found.stdout.split()
            if ids:
                return ids[-1]
        if self._display is not None and self._display.owned:
            return "root"  # our private Xvfb shows nothing but the app
        raise DriverError(
            "Could not find the app's window to screenshot (install xdotool); refusing to capture "
            "the whole screen of a display this test does not own."
        )

    def _kill(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        self._os.kill(process)  # with its helpers and, in a onefile build, the app under the bootloader
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)

    def _drop_channel(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _cleanup(self) -> None:
        self._drop_channel()
        if self._process is not None and self._process.poll() is not None:
            self.returncode = self._process.returncode
        if self._output is not None:
            self._output.close()
            self._output = None
        if self._own_display and self._display is not None:
            self._display.stop()
            self._display = None


def _describe(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r:.80}" for k, v in args.items() if k != "timeout")
