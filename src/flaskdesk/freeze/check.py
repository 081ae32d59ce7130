"""``flaskdesk build --check``: start the built app for real and load every page through its window.

The executable runs under a virtual display (or the developer's own) with a fresh temporary data
dir, driven over the automation channel (:mod:`flaskdesk.testing.driver`), never over plain HTTP:
the guard only serves the window, and that is what users get. For every GET route that takes no
arguments: the page loads with a 2xx/3xx status, every same-origin stylesheet, script and image it
references answers 2xx, the ``flaskdesk.api`` bridge is attached, and no uncaught JavaScript
error occurred. Then the window is closed as a user would and the exit status must be 0.

The logic works on a small :class:`Driver` protocol so it is tested without a window; the
command line builds the real driver.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

#: The page's own HTTP status: Navigation Timing where the engine reports it, else a re-fetch.
PAGE_STATUS_JS = """(async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav && nav.responseStatus) return nav.responseStatus;
  return (await fetch(location.href, {cache: 'no-store', credentials: 'same-origin'})).status;
})()"""
#: Every same-origin asset the page references, fetched again for its status.
ASSETS_JS = """(async () => {
  const urls = new Set();
  for (const el of document.querySelectorAll('link[rel~="stylesheet"][href], script[src], img[src]')) {
    const url = new URL(el.href || el.src, location.href);
    if (url.origin === location.origin) urls.add(url.href);
  }
  const out = [];
  for (const url of urls) {
    try { out.push([url, (await fetch(url, {cache: 'no-store', credentials: 'same-origin'})).status]); }
    catch (e) { out.push([url, 0]); }
  }
  return out;
})()"""


class Driver(Protocol):
    """What the check needs from :class:`flaskdesk.testing.driver.AppDriver` (already started)."""

    def routes(self) -> list[str]: ...
    def goto(self, path: str, *, timeout: float = 10.0) -> str: ...
    def evaluate(self, js: str, *, timeout: float = 10.0) -> Any: ...
    def bridge_available(self) -> bool: ...
    def js_errors(self, *, clear: bool = False) -> list[dict[str, Any]]: ...
    def close(self, timeout: float = 30.0) -> int: ...


@dataclass(frozen=True)
class PageCheck:
    """The outcome for one route."""

    route: str
    status: int
    url: str = ""
    bad_assets: tuple[tuple[str, int], ...] = ()
    bridge: bool = False
    js_errors: tuple[str, ...] = ()
    error: str | None = None
    html: bool = True

    @property
    def needs_login(self) -> bool:
        """The app answered 401: the route works and wants a signed-in user (not a broken page)."""
        return self.status == 401

    @property
    def ok(self) -> bool:
        """2xx/3xx (or 401) page, every asset 2xx, bridge on HTML pages, no script or driver error."""
        return (
            self.error is None
            and (200 <= self.status < 400 or self.needs_login)
            and not self.bad_assets
            and (self.bridge or not self.html)
            and not self.js_errors
        )


@dataclass(frozen=True)
class CheckReport:
    """All pages, and how the app ended."""

    pages: tuple[PageCheck, ...]
    exit_code: int
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every page passed and the app exited with status 0."""
        return bool(self.pages) and all(p.ok for p in self.pages) and self.exit_code == 0


def check_page(driver: Driver, route: str, *, timeout: float = 15.0) -> PageCheck:
    """Load ``route`` in the window and check it (errors become a failed row, not an exception)."""
    from ..errors import FlaskdeskError

    try:
        url = driver.goto(route, timeout=timeout)
        status = int(driver.evaluate(PAGE_STATUS_JS, timeout=timeout) or 0)
        assets = driver.evaluate(ASSETS_JS, timeout=timeout) or []
        bad = tuple((str(u), int(s)) for u, s in assets if not 200 <= int(s) < 300)
        bridge = driver.bridge_available()
        errors = tuple(str(e.get("message", e)) for e in driver.js_errors(clear=True))
        html = driver.evaluate("document.contentType", timeout=timeout) in ("text/html", None)
    except FlaskdeskError as error:
        return PageCheck(route, 0, error=str(error).splitlines()[0])
    return PageCheck(route, status, url, bad, bridge, errors, html=html)


def run_check(driver: Driver, *, timeout: float = 15.0) -> CheckReport:
    """Check every argument-less GET route of a started app, then close it."""
    routes = driver.routes()
    pages = tuple(check_page(driver, route, timeout=timeout) for route in routes)
    exit_code = driver.close()
    notes = () if routes else ("the app has no GET route without arguments: nothing to load",)
    return CheckReport(pages, exit_code, notes)


def render_table(report: CheckReport) -> str:
    """A plain-text table of the report (the CLI prints it)."""
    rows = [("route", "status", "assets", "bridge", "result")]
    for page in report.pages:
        if page.error is not None:
            result = page.error
        elif page.ok:
            result = "ok (needs login)" if page.needs_login else "ok"
        else:
            problems = [f"{len(page.bad_assets)} broken asset(s)"] if page.bad_assets else []
            problems += [] if page.bridge else ["bridge missing"]
            problems += [f"JS error: {message}" for message in page.js_errors]
            problems += [] if 200 <= page.status < 400 else [f"HTTP {page.status}"]
            result = "; ".join(problems)
        assets = (
            "ok"
            if not page.bad_assets
            else ", ".join(f"{u.split('/', 3)[-1]} {s}" for u, s in page.bad_assets)
        )
        bridge = "yes" if page.bridge else ("no" if page.html else "n/a")
        rows.append((page.route, str(page.status or "-"), assets, bridge, result))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    ]
    lines.append(f"exit status after closing the window: {report.exit_code}")
    lines.extend(report.notes)
    return "\n".join(lines)


def check_executable(
    executable: Path,
    *,
    artifacts_dir: Path,
    make_driver: Callable[..., Any] | None = None,
    extra_args: Sequence[str] = (),
) -> CheckReport:
    """Launch ``executable`` with a fresh temporary data dir under a virtual display and check it."""
    if make_driver is None:
        from ..testing.driver import AppDriver

        make_driver = AppDriver.frozen
    with tempfile.TemporaryDirectory(prefix="flaskdesk-check-") as data_dir:
        driver = make_driver(executable, *extra_args, data_dir=data_dir, artifacts_dir=artifacts_dir)
        with driver:
            return run_check(driver)
