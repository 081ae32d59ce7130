"""``build --check`` logic against a fake driver (the real one needs a built app and a display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flaskdesk.errors import FlaskdeskError
from flaskdesk.freeze.check import (
    ASSETS_JS,
    PAGE_STATUS_JS,
    CheckReport,
    PageCheck,
    check_executable,
    render_table,
    run_check,
)


class FakeDriver:
    """Pages by route: (status, [(asset url, status)], bridge, js errors) or an exception to raise."""

    def __init__(self, pages: dict[str, Any], exit_code: int = 0) -> None:
        self.pages = pages
        self.exit_code = exit_code
        self.current = ""
        self.calls: list[str] = []
        self.started = False
        self.stopped = False

    def __enter__(self) -> FakeDriver:
        self.started = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped = True

    def routes(self) -> list[str]:
        return list(self.pages)

    def goto(self, path: str, *, timeout: float = 10.0) -> str:
        self.calls.append(f"goto {path}")
        page = self.pages[path]
        if isinstance(page, Exception):
            raise page
        self.current = path
        return f"http://127.0.0.1:5000{path}"

    def evaluate(self, js: str, *, timeout: float = 10.0) -> Any:
        status, assets, _bridge, _errors = self.pages[self.current]
        if js == PAGE_STATUS_JS:
            return status
        if js == "document.contentType":
            return "application/json" if self.current.startswith("/api") else "text/html"
        assert js == ASSETS_JS
        return [list(a) for a in assets]

    def bridge_available(self) -> bool:
        return bool(self.pages[self.current][2])

    def js_errors(self, *, clear: bool = False) -> list[dict[str, Any]]:
        return [{"type": "error", "message": m} for m in self.pages[self.current][3]]

    def close(self, timeout: float = 30.0) -> int:
        self.calls.append("close")
        return self.exit_code


CSS = "http://127.0.0.1:5000/static/app.css"


def test_all_pages_pass() -> None:
    driver = FakeDriver({"/": (200, [(CSS, 200)], True, []), "/about": (302, [], True, [])})
    report = run_check(driver)
    assert report.ok
    assert driver.calls == ["goto /", "goto /about", "close"]
    table = render_table(report)
    assert table.splitlines()[0].split() == ["route", "status", "assets", "bridge", "result"]
    assert table.splitlines()[1].split() == ["/", "200", "ok", "yes", "ok"]
    assert table.splitlines()[-1] == "exit status after closing the window: 0"


def test_failures_are_rows_not_exceptions() -> None:
    driver = FakeDriver(
        {
            "/": (200, [(CSS, 404)], True, []),
            "/broken": (500, [], True, []),
            "/nobridge": (200, [], False, ["ReferenceError: x is not defined"]),
            "/hang": FlaskdeskError("goto('/hang') failed: TimeoutError: did not finish loading\nmore"),
        },
        exit_code=1,
    )
    report = run_check(driver)
    assert not report.ok
    assert [p.ok for p in report.pages] == [False, False, False, False]
    assert report.pages[0].bad_assets == ((CSS, 404),)
    assert report.pages[3] == PageCheck(
        "/hang", 0, error="goto('/hang') failed: TimeoutError: did not finish loading"
    )
    table = render_table(report)
    assert "static/app.css 404" in table and "1 broken asset(s)" in table
    assert "HTTP 500" in table
    assert "bridge missing; JS error: ReferenceError: x is not defined" in table
    assert "exit status after closing the window: 1" in table


def test_an_app_without_pages_fails_and_says_why() -> None:
    report = run_check(FakeDriver({}))
    assert not report.ok
    assert "no GET route" in render_table(report)
    assert CheckReport((PageCheck("/", 200, bridge=True),), 0).ok


def test_check_executable_uses_a_fresh_data_dir(tmp_path: Path) -> None:
    made: dict[str, Any] = {}

    def make_driver(executable: Path, *args: str, data_dir: str, artifacts_dir: Path) -> FakeDriver:
        made.update(executable=executable, data_dir=data_dir, artifacts_dir=artifacts_dir)
        assert Path(data_dir).is_dir() and not any(Path(data_dir).iterdir())
        made["driver"] = FakeDriver({"/": (200, [], True, [])})
        return made["driver"]

    report = check_executable(tmp_path / "app", artifacts_dir=tmp_path / "art", make_driver=make_driver)
    assert report.ok
    assert made["driver"].started and made["driver"].stopped
    assert not Path(made["data_dir"]).exists()  # removed afterwards


def test_json_routes_need_no_bridge_and_401_means_needs_login() -> None:
    driver = FakeDriver({"/api/health": (200, [], False, []), "/api/private": (401, [], False, [])})
    report = run_check(driver)
    assert report.ok
    table = render_table(report)
    assert "n/a" in table and "ok (needs login)" in table
