"""The benchmark harness's pure parts, and one smoke run so it cannot rot. No test asserts a time."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.contenders import contenders  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    Summary,
    count_colour,
    latency,
    parse_xwd_header,
    ratio,
    summarize,
)
from benchmarks.memory import parse_pss_kib  # noqa: E402

# ------------------------------------------------------------------------------------ statistics


def test_summarize_gives_median_and_range() -> None:
    assert summarize([3.0, 1.0, 2.0, 10.0]) == Summary(n=4, median=2.5, low=1.0, high=10.0)
    assert summarize([]) is None


def test_latency_percentiles_are_nearest_rank() -> None:
    got = latency([float(x) for x in range(1, 101)])
    assert got is not None
    assert got["n"] == 100
    assert got["p50"] == 51.0  # nearest rank, as benchmarks/servers.py
    assert got["p99"] == 99.0
    assert got["mean"] == pytest.approx(50.5)
    assert latency([]) is None


def test_ratio_handles_missing_values() -> None:
    assert ratio(1.5, 1.0) == 1.5
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


# ------------------------------------------------------------------------------------ the screen


Pixels = dict[tuple[int, int], tuple[int, int, int]]


def _xwd(width: int, height: int, pixels: Pixels, ncolors: int = 2) -> bytes:
    """A little-endian 32-bpp XWD image, as Xvfb's -fbdir writes it."""
    header_size = 100 + 8  # the fixed fields, then the window name
    fields = [header_size, 7, 2, 24, width, height, 0, 0, 32, 0, 32, 32, width * 4, 4]
    fields += [0xFF0000, 0xFF00, 0xFF, 8, 256, ncolors, width, height, 0, 0, 0]
    head = struct.pack(">25I", *fields) + b"Xvfb\0\0\0\0" + b"\0" * (12 * ncolors)
    body = bytearray(width * height * 4)
    for (x, y), (r, g, b) in pixels.items():
        offset = (y * width + x) * 4
        body[offset : offset + 4] = bytes((b, g, r, 0))
    return head + bytes(body)


def test_parse_xwd_header_finds_the_pixels() -> None:
    layout = parse_xwd_header(_xwd(16, 8, {}, ncolors=3))
    assert (layout.width, layout.height, layout.bytes_per_line, layout.bits_per_pixel) == (16, 8, 64, 32)
    assert layout.offset == 108 + 3 * 12
    assert layout.lsb_first


def test_parse_xwd_header_refuses_other_files() -> None:
    with pytest.raises(ValueError):
        parse_xwd_header(b"\x89PNG" + b"\0" * 200)


def test_count_colour_counts_the_page_colour_only() -> None:
    colour = (0x23, 0x6E, 0xA0)
    pixels = {(x, y): colour for x in range(10) for y in range(4)}  # a 10x4 block
    pixels[(12, 0)] = (0xA0, 0x6E, 0x23)  # the same bytes in the wrong order: not the colour
    data = _xwd(16, 8, pixels)
    layout = parse_xwd_header(data)
    assert count_colour(data, layout, colour, row_step=1) == 40
    assert count_colour(data, layout, colour, row_step=2) == 40  # rows 0 and 2, times two
    assert count_colour(data, layout, (1, 2, 3), row_step=1) == 0


def test_parse_pss() -> None:
    text = "55d0-7ffc [rollup]\nRss:              120 kB\nPss:               80 kB\nPss_Anon:  10 kB\n"
    assert parse_pss_kib(text) == 80
    assert parse_pss_kib("") == 0


# -------------------------------------------------------------------------------------- report


def _run() -> dict[str, object]:
    everyone = contenders()
    described = [{"key": c.key, "label": c.label, "short": c.short} for c in everyone]
    for entry in described[4:]:
        entry["not_measured"] = "not measured (no build)"
    return {
        "backend": "qt",
        "when": "now",
        "machine": {"cores": 2, "cpu": "test CPU", "packages": {"pywebview": "6"}, "load_average": [1.0]},
        "contenders": described,
        "settings": {"runs": 3},
        "startup": {
            "floor": {"samples": [0.5, 0.6, 0.4], "errors": []},
            "plain": {"samples": [0.6, 0.7, 0.65], "errors": []},
            "builtin": {"samples": [0.7], "errors": ["page not shown within 60 s"]},
            "flaskdesk": {"samples": [], "errors": ["exited with status 1 before the page showed"]},
        },
        "memory": {
            "floor": {"samples": [200.0], "resident_once": [300.0]},
            "plain": {"samples": [250.0], "resident_once": [350.0]},
            "flaskdesk": {"samples": [240.0], "resident_once": [340.0]},
        },
        "throughput": {
            "plain": {"rps": [1000.0], "rps_median": 1000.0, "p50_ms": 2.0, "p99_ms": 9.0},
            "flaskdesk": {"rps": [1600.0], "rps_median": 1600.0, "p50_ms": 1.0, "p99_ms": 5.0},
        },
        "bridge": {
            "flaskdesk": {
                "bridge": {"n": 10, "p50": 0.6, "p99": 1.0, "mean": 0.65},
                "fetch": None,
                "timer_resolution_ms": 0.1,
            },
            "plain": {"bridge": {"n": 10, "p50": 0.7, "p99": 2.0, "mean": 0.8}, "fetch": None},
        },
    }


def test_startup_table_lists_every_contender_with_ratios() -> None:
    lines = report.per_run_table(_run(), "startup", "s", 3)
    text = "\n".join(lines)
    for contender in contenders():
        assert contender.label in text
    floor_row = next(line for line in lines if line.startswith("| floor"))
    assert "**0.500**" in floor_row and "1.00x" in floor_row and "0.77x" in floor_row  # 0.5 / 0.65
    assert "(+1 failed)" in text
    assert "failed: exited with status 1" in text
    assert text.count("not measured (no build)") == 2


def test_memory_table_has_the_each_page_once_column() -> None:
    lines = report.per_run_table(_run(), "memory", "MB", 0, ("resident_once", "each page once, MB"))
    flaskdesk = next(line for line in lines if "Desktop(app).run()" in line)
    assert "**240**" in flaskdesk and "0.96x" in flaskdesk  # 240 / 250
    assert "340 (1.13x floor, 0.97x plain)" in flaskdesk


def test_targets_are_judged_from_medians() -> None:
    verdicts = {name: met for name, _, met in report.targets(_run())}
    assert verdicts["start → loaded ≤ 1.1x floor (from source)"] is None  # every run failed
    assert verdicts["idle memory (PSS) ≤ plain recipe"] is True
    assert verdicts["idle memory (each page once) ≤ plain recipe"] is True
    assert verdicts["page throughput ≥ 1.5x werkzeug threaded"] is True
    assert verdicts["bridge p50 ≤ pywebview js_api p50"] is True
    assert verdicts["template edit → window ≤ 300 ms"] is None


def test_render_mentions_the_timer_step_and_unmeasured_metrics() -> None:
    text = report.render({"qt": _run()})
    assert "steps of 0.1 ms" in text
    assert "Template edit → window updated: not measured" in text
    assert "### Bundle size\n\nnot measured" in text


def test_merge_keeps_other_backends_and_metrics() -> None:
    saved = {"qt": {"startup": {"a": 1}, "settings": {"runs": 7}}, "gtk": {"startup": {"b": 2}}}
    merged = report.merge(saved, "qt", {"bridge": {"c": 3}, "settings": {"bridge": "x"}})
    assert merged["qt"] == {"startup": {"a": 1}, "bridge": {"c": 3}, "settings": {"runs": 7, "bridge": "x"}}
    assert merged["gtk"] == {"startup": {"b": 2}}
    assert saved["qt"]["settings"] == {"runs": 7}  # not changed in place


def test_contender_commands() -> None:
    by_key = {c.key: c for c in contenders(onedir=Path("/x/app/app"))}
    assert by_key["floor"].argv("gtk", page=Path("/p/index.html"))[-2:] == ["gtk", "/p/index.html"]
    assert by_key["plain"].argv("qt", bridge=(Path("/r.json"), 5, 1))[-4:] == ["qt", "/r.json", "5", "1"]
    assert by_key["flaskdesk"].env("gtk")["FLASKDESK_GUI"] == "gtk"
    assert by_key["onedir"].argv("qt") == ["/x/app/app"]
    assert not by_key["onefile"].measurable


def test_the_transport_benchmark_launches_the_app_as_users_do() -> None:
    from benchmarks import transport

    flaskdesk = {c.key: c for c in contenders()}["flaskdesk"]
    argv, env = transport.command("scheme", "gtk", Path("/r.json"), 5, 1)
    assert argv == flaskdesk.argv("gtk", bridge=(Path("/r.json"), 5, 1))  # Desktop(app).run()
    assert env == {**flaskdesk.env("gtk"), "FLASKDESK_TRANSPORT": "scheme"}
    assert transport.command("loopback", "qt")[1]["FLASKDESK_TRANSPORT"] == "loopback"


# ------------------------------------------------------------------------------------- smoke run


def run_benchmarks(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` from the repository root, which must exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
@pytest.mark.window
@pytest.mark.timeout(600)
def test_quick_startup_run_writes_the_table(tmp_path: Path) -> None:
    run_benchmarks("benchmarks", "--quick", "--only", "startup", "--out", str(tmp_path))
    table = (tmp_path / "latest.md").read_text()
    for contender in contenders():
        assert contender.label in table
    assert table.count("not measured (no build)") == 2
    startup = json.loads((tmp_path / "latest.json").read_text())["qt"]["startup"]
    for key in ("floor", "plain", "builtin", "flaskdesk"):
        assert startup[key]["samples"], (key, startup[key]["errors"])
    cost = json.loads((tmp_path / "latest.json").read_text())["qt"]["import_cost"]
    assert 0 < cost["import_flask_s"] < 5 and 0 < cost["python_s"] < 5
    assert "`import flask` alone" in table


def test_import_cost_line_compares_flask_import_with_the_floor() -> None:
    lines = report.import_cost_lines({**_run(), "import_cost": {"import_flask_s": 0.125, "python_s": 0.02}})
    assert lines[0].startswith("`import flask` alone") and "0.125 s = 0.25x" in lines[0]  # floor 0.5
    assert report.import_cost_lines(_run()) == []  # not measured: no line


def test_template_edit_prefers_pixels_on_screen() -> None:
    row = {"n": 3, "median_ms": 55.0, "p90_ms": 60.0, "max_ms": 70.0}
    reload = {
        "watcher inotify: write -> callback": {**row, "median_ms": 15.0},
        "window: template edit -> page rendered": {**row, "median_ms": 61.0},
        "window: template edit -> pixels on screen": row,
    }
    edit = report.template_edit(reload)
    assert edit is not None and edit[0].endswith("pixels on screen")
    verdicts = {name: (value, met) for name, value, met in report.targets({**_run(), "reload": reload})}
    assert verdicts["template edit → window ≤ 300 ms"] == ("55 ms (pixels on screen)", True)


# ------------------------------------------------------------------------ window-first experiment


def test_window_first_lineup_runs_the_plain_recipe_reordered() -> None:
    from benchmarks import window_first

    keys = [c.key for c in window_first.lineup()]
    assert keys == ["floor", "plain", "window_first", "window_first_after_shown"]
    argv = window_first.EXPERIMENTS[1].argv("gtk")
    assert argv[1].endswith("contenders/window_first_after_shown.py") and argv[2:] == ["gtk"]


def test_window_first_table_gives_ratios_to_floor_and_plain() -> None:
    from benchmarks import window_first
    from benchmarks.startup import WindowRun

    def runs(key: str, *seconds: float, error: str | None = None) -> list[WindowRun]:
        measured = [WindowRun(key, n, seconds=s) for n, s in enumerate(seconds, 1)]
        failed = [WindowRun(key, len(seconds) + 1, error=error)] if error else []
        return [WindowRun(key, 0, seconds=1.0), *measured, *failed]

    run = window_first.results(
        {
            "floor": runs("floor", 0.5, 0.4, 0.6),
            "plain": runs("plain", 0.6),
            "window_first": runs("window_first", 0.55),
            "window_first_after_shown": runs("window_first_after_shown", error="page not shown"),
        }
    )
    rows = report.per_run_table(run, "startup", "s", 3)
    labels = {c.key: c.label for c in window_first.lineup()}
    assert rows[2] == f"| {labels['floor']} | **0.500** | 0.400 to 0.600 | 3 | 1.00x | 0.83x |"
    assert rows[4] == f"| {labels['window_first']} | **0.550** | 0.550 to 0.550 | 1 | 1.10x | 0.92x |"
    assert rows[5] == f"| {labels['window_first_after_shown']} | failed: page not shown |  |  |  |  |"


@pytest.mark.slow
@pytest.mark.window
@pytest.mark.timeout(600)
def test_quick_window_first_run_shows_every_contender() -> None:
    done = run_benchmarks("benchmarks.window_first", "--quick")
    assert done.stdout.count("| plain recipe") == 3 and "failed" not in done.stdout


def test_the_sandboxed_report_compares_start_up_and_memory() -> None:
    from benchmarks.sandboxed import report, results
    from benchmarks.startup import WindowRun

    def runs(key: str, *measured: tuple[float, float, int]) -> list[WindowRun]:
        warm = WindowRun(key, 0, seconds=1.0, pss_mb=400.0)
        return [warm] + [
            WindowRun(key, n, seconds=s, pss_mb=mb, processes=[{}] * count)
            for n, (s, mb, count) in enumerate(measured, 1)
        ]

    run = results(
        {
            "floor": runs("floor", (0.50, 330.0, 4), (0.52, 331.0, 4)),
            "plain": runs("plain", (0.60, 346.0, 5), (0.58, 348.0, 5)),
            "flaskdesk": runs("flaskdesk", (0.55, 344.0, 4), (0.53, 344.0, 4)),
        }
    )
    run["import_cost"] = {"python_s": 0.02, "import_flask_s": 0.13}
    text = report(run, 2, 65534, "machine")
    assert "`import flask` alone (a fresh `python -c`, minus `python -c pass`): 0.130 s = 0.25x" in text
    labels = {c.key: c.label for c in contenders()}
    assert f"| {labels['flaskdesk']} | **0.540** | 0.530 to 0.550 | 2 | 1.06x | 0.92x |" in text
    assert f"| {labels['flaskdesk']} | **344** | 344 to 344 | 2 | 1.04x | 0.99x |" in text
    assert "Processes in the tree (median): floor 4, plain 5, flaskdesk 4." in text
    assert "uid 65534 without `--no-sandbox`" in text
    assert "400" not in text  # the warm-up round is not reported
