"""Turn the raw numbers (``latest.json``) into ``latest.md`` and ``latest.png``.

Everything here is pure except :func:`write`: the tables are plain functions of the results dict,
so tests render them from made-up numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import ratio, summarize

BACKEND_NAMES = {"qt": "Qt (PyQt6 + QtWebEngine)", "gtk": "GTK (WebKit2GTK 4.1)"}
ORDER = ("floor", "plain", "builtin", "flaskdesk", "onedir", "onefile")
METRICS = ("startup", "memory", "size", "throughput", "bridge", "build", "reload")


# ---------------------------------------------------------------------------------------- helpers


def fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _labels(run: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in run.get("contenders", [])}


def medians(run: Mapping[str, Any], metric: str, series: str = "samples") -> dict[str, float | None]:
    """The median per contender of a per-run metric (``startup`` seconds or ``memory`` MB)."""
    out: dict[str, float | None] = {}
    for key, value in (run.get(metric) or {}).items():
        summary = summarize(value.get(series, []))
        out[key] = summary.median if summary else None
    return out


# ------------------------------------------------------------------------------------ per metric


def per_run_table(
    run: Mapping[str, Any], metric: str, unit: str, digits: int, extra: tuple[str, str] | None = None
) -> list[str]:
    """Startup or memory: median, range, vs floor, vs plain recipe, for all six contenders.

    ``extra=(sample_key, heading)`` adds a column with the median of a second per-run series
    (and its ratios to the floor and the plain recipe).
    """
    data = run.get(metric)
    if data is None:
        return ["not measured (not selected with --only)."]
    med = medians(run, metric)
    extra_med = medians(run, metric, extra[0]) if extra else {}
    header = ["contender", f"median {unit}", "min-max", "runs", "vs floor", "vs plain recipe"]
    if extra:
        header.append(extra[1])
    blank = [""] * (len(header) - 2)
    rows = []
    for key, contender in _labels(run).items():
        value = data.get(key)
        if value is None:
            rows.append([contender["label"], contender.get("not_measured") or "not measured", *blank])
            continue
        summary = summarize(value.get("samples", []))
        errors = value.get("errors", [])
        if summary is None:
            rows.append([contender["label"], f"failed: {errors[0] if errors else '?'}", *blank])
            continue
        runs = f"{summary.n}" + (f" (+{len(errors)} failed)" if errors else "")
        row = [
            contender["label"],
            f"**{fmt(summary.median, digits)}**",
            f"{fmt(summary.low, digits)} to {fmt(summary.high, digits)}",
            runs,
            fmt_ratio(ratio(summary.median, med.get("floor"))),
            fmt_ratio(ratio(summary.median, med.get("plain"))),
        ]
        if extra:
            mine = extra_med.get(key)
            row.append(
                f"{fmt(mine, digits)} ({fmt_ratio(ratio(mine, extra_med.get('floor')))} floor, "
                f"{fmt_ratio(ratio(mine, extra_med.get('plain')))} plain)"
                if mine is not None
                else "-"
            )
        rows.append(row)
    return _table(header, rows, "lrrrrr" + ("r" if extra else ""))


def size_table(run: Mapping[str, Any]) -> list[str]:
    sizes = run.get("size")
    if sizes is None:
        return ["not measured (not selected with --only)."]
    build = run.get("build") or {}
    naive_mb = (build.get("naive") or {}).get("mb")
    rows = []
    for key, label in (("onedir", "flaskdesk frozen, onedir"), ("onefile", "flaskdesk frozen, onefile")):
        mb = sizes.get(key)
        rows.append(
            [
                label,
                "not measured (no build)" if mb is None else f"**{mb:,.1f}**",
                sizes.get(f"{key}_path", ""),
            ]
        )
    lines = _table(["bundle", "size MB", "measured"], rows, "lrl")
    if naive_mb:
        slim = (build.get("slim") or {}).get("mb")
        lines += [
            "",
            f"`benchmarks/build.py` (its own fixture, `{run['backend']}` backend): "
            "naive `pyinstaller --add-data` "
            f"onedir {naive_mb:,.1f} MB, `flaskdesk build` {fmt(slim, 1)} MB = "
            f"**{fmt_ratio(ratio(slim, naive_mb))}** of naive.",
        ]
    return lines


def throughput_table(run: Mapping[str, Any]) -> list[str]:
    data = run.get("throughput")
    if data is None:
        return ["not measured (not selected with --only)."]
    labels = {
        "plain": "plain recipe: werkzeug `make_server(threaded=True)`",
        "builtin": "pywebview(app): bottle + wsgiref `ThreadingMixIn`",
        "flaskdesk": "flaskdesk: waitress (8 threads) + guard, with the session cookie",
        "waitress": "reference: flaskdesk's `Server` (waitress) without the guard",
    }
    base = (data.get("plain") or {}).get("rps_median")
    rows = []
    for key, label in labels.items():
        value = data.get(key)
        if key == "waitress" and not value:
            continue
        if not value or value.get("rps_median") is None:
            errors = (value or {}).get("errors") or ["not measured"]
            rows.append([label, f"failed: {errors[0]}", "", "", "", ""])
            continue
        rps = value["rps"]
        keep = {True: "yes", False: "no (Connection: close)"}.get(value.get("keep_alive"), "?")
        rows.append(
            [
                label,
                f"**{value['rps_median']:,.0f}** ({min(rps):,.0f} to {max(rps):,.0f})",
                fmt(value["p50_ms"]),
                fmt(value["p99_ms"]),
                fmt_ratio(ratio(value["rps_median"], base)),
                keep,
            ]
        )
    rows.append(["floor; frozen builds", "no server / same server as flaskdesk from source", "", "", "", ""])
    return _table(
        ["server (contender)", "requests/s median (min-max)", "p50 ms", "p99 ms", "vs plain", "keep-alive"],
        rows,
        "lrrrrl",
    )


def bridge_table(run: Mapping[str, Any]) -> list[str]:
    data = run.get("bridge")
    if data is None:
        return ["not measured (not selected with --only)."]
    rows = []
    spec = (
        ("flaskdesk", "bridge", "flaskdesk `flaskdesk.api.echo(i)` (fetch → guard → bridge, checks on)"),
        ("plain", "bridge", "pywebview `js_api` `pywebview.api.echo(i)` (plain recipe window)"),
        ("flaskdesk", "fetch", "reference: `fetch` POST `/echo` → guard → waitress → Flask"),
        ("plain", "fetch", "reference: `fetch` POST `/echo` → werkzeug → Flask"),
    )
    js_api = ((data.get("plain") or {}).get("bridge") or {}).get("p50")
    for key, part, label in spec:
        value = (data.get(key) or {}).get(part)
        errors = (data.get(key) or {}).get("errors") or []
        if not value:
            rows.append([label, f"failed: {errors[0][:120] if errors else 'not measured'}", "", "", "", ""])
            continue
        rows.append(
            [
                label,
                f"**{value['p50']:.2f}**",
                f"{value['p99']:.2f}",
                f"{value['mean']:.2f}",
                str(value["n"]),
                fmt_ratio(ratio(value["p50"], js_api)),
            ]
        )
    lines = _table(["round trip", "p50 ms", "p99 ms", "mean ms", "samples", "p50 vs js_api"], rows, "lrrrrr")
    steps = sorted(
        {round(v["timer_resolution_ms"], 3) for v in data.values() if v.get("timer_resolution_ms")}
    )
    batch = max((v.get("batch") or 1) for v in data.values())
    if steps and batch > 1:
        lines += [
            "",
            f"`performance.now()` advances in steps of {' / '.join(f'{x:g}' for x in steps)} ms in this "
            f"engine, so each sample is the mean of {batch} back-to-back calls (percentiles are of those).",
        ]
    elif steps:
        lines += [
            "",
            f"`performance.now()` advances in steps of {' / '.join(f'{x:g}' for x in steps)} ms "
            "in this engine, so per-call percentiles are rounded to that step; the mean is not.",
        ]
    return lines


def template_edit(reload: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """``benchmarks/reload.py``'s template-edit row: pixels on screen if it measured that, else rendered."""
    rows = [(name, row) for name, row in reload.items() if name.startswith("window: template edit")]
    rows.sort(key=lambda item: ("pixels" not in item[0], "painted" not in item[0]))
    return rows[0] if rows else None


def devloop_lines(run: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    reload = run.get("reload")
    if not reload or reload.get("not_measured"):
        lines.append(
            f"- Template edit → window updated: {(reload or {}).get('not_measured', 'not measured')}."
        )
    else:
        lines.append("- Dev mode (`benchmarks/reload.py`, `flaskdesk run --dev`, Qt), edit → window:")
        for name, row in reload.items():
            if isinstance(row, Mapping) and "median_ms" in row:
                lines.append(
                    f"  - {name}: median **{row['median_ms']:.0f} ms**, p90 {row['p90_ms']:.0f} ms, "
                    f"max {row['max_ms']:.0f} ms (n={row['n']})"
                )
    build = run.get("build")
    if not build or build.get("not_measured"):
        lines.append(
            f"- Full build / template-only rebuild: {(build or {}).get('not_measured', 'not measured')}."
        )
    else:
        slim = build.get("slim") or {}
        lines.append(
            "- `flaskdesk build` (`benchmarks/build.py`, its own fixture): full clean build "
            f"{fmt(slim.get('seconds'), 1)} s, "
            f"template-only rebuild {fmt(build.get('fast_rebuild_seconds'))} s = "
            f"**{fmt_ratio(build.get('fast_ratio'))}** of a full build."
        )
        visible = build.get("start_to_visible_s")
        if visible:
            lines.append(
                f"  - its frozen onedir, start → visible: median {visible['median']:.2f} s "
                "(screenshots, ±0.1 s)."
            )
    return lines


# --------------------------------------------------------------------------------------- targets


def targets(run: Mapping[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured value, met?) for every target in the issue; ``None`` = not measured."""
    out: list[tuple[str, str, bool | None]] = []
    start = medians(run, "startup")
    mem = medians(run, "memory")
    ours, floor = start.get("flaskdesk"), start.get("floor")
    r = ratio(ours, floor)
    out.append(
        (
            "start → loaded ≤ 1.1x floor (from source)",
            f"{fmt(ours)} s vs {fmt(floor)} s = {fmt_ratio(r)}",
            None if r is None else r <= 1.1,
        )
    )
    for key in ("onedir", "onefile"):
        r = ratio(start.get(key), floor)
        if r is not None:
            out.append(
                (
                    f"start → loaded ≤ 1.1x floor ({key})",
                    f"{fmt(start.get(key))} s = {fmt_ratio(r)}",
                    r <= 1.1,
                )
            )
    r = ratio(mem.get("flaskdesk"), mem.get("plain"))
    out.append(
        (
            "idle memory (PSS) ≤ plain recipe",
            f"{fmt(mem.get('flaskdesk'), 0)} MB vs {fmt(mem.get('plain'), 0)} MB = {fmt_ratio(r)}",
            None if r is None else r <= 1.0,
        )
    )
    once = medians(run, "memory", "resident_once")
    r = ratio(once.get("flaskdesk"), once.get("plain"))
    out.append(
        (
            "idle memory (each page once) ≤ plain recipe",
            f"{fmt(once.get('flaskdesk'), 0)} MB vs {fmt(once.get('plain'), 0)} MB = {fmt_ratio(r)}",
            None if r is None else r <= 1.0,
        )
    )
    build = run.get("build") or {}
    slim_ratio = (build.get("slim") or {}).get("ratio")
    out.append(
        (
            "Qt onedir ≤ 0.6x naive PyInstaller build",
            fmt_ratio(slim_ratio),
            None if slim_ratio is None or run.get("backend") != "qt" else slim_ratio <= 0.6,
        )
    )
    tp = run.get("throughput") or {}
    r = ratio((tp.get("flaskdesk") or {}).get("rps_median"), (tp.get("plain") or {}).get("rps_median"))
    out.append(("page throughput ≥ 1.5x werkzeug threaded", fmt_ratio(r), None if r is None else r >= 1.5))
    br = run.get("bridge") or {}
    ours_p50 = ((br.get("flaskdesk") or {}).get("bridge") or {}).get("p50")
    js_p50 = ((br.get("plain") or {}).get("bridge") or {}).get("p50")
    out.append(
        (
            "bridge p50 ≤ pywebview js_api p50",
            f"{fmt(ours_p50)} ms vs {fmt(js_p50)} ms",
            None if ours_p50 is None or js_p50 is None else ours_p50 <= js_p50,
        )
    )
    edit = template_edit(run.get("reload") or {})
    out.append(
        (
            "template edit → window ≤ 300 ms",
            f"{edit[1]['median_ms']:.0f} ms ({edit[0].split(' -> ')[-1]})" if edit else "-",
            None if not edit else edit[1]["median_ms"] <= 300,
        )
    )
    fast = build.get("fast_ratio")
    out.append(
        ("template-only rebuild ≤ 0.2x full build", fmt_ratio(fast), None if fast is None else fast <= 0.2)
    )
    return out


def targets_table(run: Mapping[str, Any]) -> list[str]:
    verdict = {True: "met", False: "**missed**", None: "not measured"}
    return _table(["target", "measured", ""], [[t, v, verdict[m]] for t, v, m in targets(run)], "lll")


# ------------------------------------------------------------------------------------- the page


def machine_line(machine: Mapping[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())
    return (
        f"{machine.get('cores')} cores ({machine.get('cpu')}), {machine.get('memory_gib')} GiB RAM, "
        f"{machine.get('distro')}, {machine.get('os')}; Python {machine.get('python')}; "
        f"{machine.get('engine')}; "
        f"{packages}; flaskdesk {machine.get('flaskdesk')}. Load average at the start: "
        f"{', '.join(str(x) for x in machine.get('load_average', []))} (the machine was shared)."
    )


def measured_at(run: Mapping[str, Any]) -> str:
    """The "Measured: ..." note, when the metrics shown come from more than one run."""
    when = run.get("measured_at") or {}
    if len(set(when.values())) <= 1:
        return ""
    by_time: dict[str, list[str]] = {}
    for metric in METRICS:
        if metric in when:
            by_time.setdefault(when[metric], []).append(metric)
    return " Measured: " + "; ".join(f"{', '.join(ms)} at {t}" for t, ms in sorted(by_time.items())) + "."


def import_cost_lines(run: Mapping[str, Any]) -> list[str]:
    """What ``import flask`` alone costs, next to the floor: a bound on any from-source contender."""
    cost = (run.get("import_cost") or {}).get("import_flask_s")
    floor = medians(run, "startup").get("floor")
    if cost is None or not floor:
        return []
    return [
        f"`import flask` alone (a fresh `python -c`, minus `python -c pass`): {cost:.3f} s = "
        f"{cost / floor:.2f}x the floor's whole start, paid before `Desktop(app).run()` can act.",
        "",
    ]


def render_backend(run: Mapping[str, Any]) -> list[str]:
    backend = run["backend"]
    settings = run.get("settings", {})
    lines = [
        f"## {BACKEND_NAMES.get(backend, backend)}",
        "",
        f"Last run {run.get('when', '?')}{' (--quick: not for quoting)' if run.get('quick') else ''}: "
        f"`{run.get('command', 'python -m benchmarks')}`.{measured_at(run)}",
        "",
        f"Machine: {machine_line(run.get('machine', {}))}",
        "",
        f"### Start → page shown (seconds; {settings.get('runs', '?')} runs each after a warm-up, "
        "interleaved)",
        "",
        *per_run_table(run, "startup", "s", 3),
        "",
        *import_cost_lines(run),
        "### Idle memory: PSS summed over the process tree, page shown + 2 s (MB)",
        "",
        *per_run_table(run, "memory", "MB", 0, ("resident_once", "each page once, MB")),
        "",
        "PSS charges a page shared with any other process on the machine only in part, so it drifts with",
        "what else runs; *each page once* counts every physical page the tree has resident once",
        "(`/proc/PID/pagemap`), whoever else maps it: the footprint on an otherwise idle machine.",
        "",
        "### Bundle size",
        "",
        *size_table(run),
        "",
        f"### Jinja page throughput (keep-alive, loopback; {settings.get('throughput', '?')})",
        "",
        *throughput_table(run),
        "",
        f"### Bridge round trip, inside the real window ({settings.get('bridge', '?')})",
        "",
        *bridge_table(run),
        "",
        "### Dev loop and build",
        "",
        *devloop_lines(run),
        "",
        "### Targets",
        "",
        *targets_table(run),
        "",
    ]
    return lines


METHOD = """\
How: `benchmarks/README.md`. In short: every window contender is its own process on a private Xvfb;
**start → page shown** is the time from spawning the process until the page's stylesheet colour
covers a third of the window on the X server's framebuffer (read from memory every 5 ms), the same
outside-in method for all six. **Memory** is PSS from `/proc/PID/smaps_rollup` summed over the
process tree 2 s later. **Throughput** is `benchmarks/servers.py`'s load generator against each
contender's server in a headless process. **Bridge** latencies are timed by the page itself with
`performance.now()`, one call at a time. Ratios are of medians. Raw numbers: `latest.json`.
"""


def render(results: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        "# flaskdesk benchmarks: latest results",
        "",
        "Generated by `python -m benchmarks`; do not edit by hand.",
        "",
        METHOD,
    ]
    for backend in ("qt", "gtk"):
        if backend in results:
            lines += render_backend(results[backend])
    if (Path(__file__).parent / "results" / "servers.md").exists():
        lines += ["The server choice itself (werkzeug vs waitress vs cheroot, no guard): `servers.md`.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- the chart


def chart(results: Mapping[str, Mapping[str, Any]], path: Path) -> str | None:
    """Draw the medians (bars) with their min-max (whiskers); returns why not, if it could not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    backends = [b for b in ("qt", "gtk") if b in results]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    width = 0.8 / max(1, len(backends))
    colours = {"qt": "#2a7ab0", "gtk": "#7aa33a"}

    def per_run(ax: Any, metric: str, title: str, unit: str) -> None:
        for i, backend in enumerate(backends):
            run = results[backend]
            data = run.get(metric) or {}
            shorts = {c["key"]: c["short"] for c in run.get("contenders", [])}
            once = medians(run, metric, "resident_once")
            xs, heights, lows, highs, dots = [], [], [], [], []
            for x, key in enumerate(ORDER):
                summary = summarize(data.get(key, {}).get("samples", []))
                if summary is None:
                    continue
                at = x + (i - (len(backends) - 1) / 2) * width
                xs.append(at)
                heights.append(summary.median)
                lows.append(summary.median - summary.low)
                highs.append(summary.high - summary.median)
                if once.get(key) is not None:
                    dots.append((at, once[key]))
            ax.bar(
                xs, heights, width, yerr=[lows, highs], capsize=3, label=backend, color=colours.get(backend)
            )
            if dots:
                ax.scatter(
                    [x for x, _ in dots],
                    [y for _, y in dots],
                    marker="D",
                    color="black",
                    zorder=3,
                    label="each page once" if i == 0 else None,
                )
            ax.set_xticks(range(len(ORDER)), [shorts.get(k, k) for k in ORDER], rotation=20, fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(unit)

    def grouped(ax: Any, title: str, unit: str, series: Sequence[tuple[str, Any]]) -> None:
        for i, backend in enumerate(backends):
            values = [getter(results[backend]) for _, getter in series]
            xs = [x + (i - (len(backends) - 1) / 2) * width for x in range(len(series))]
            ax.bar(xs, [v or 0 for v in values], width, label=backend, color=colours.get(backend))
        ax.set_xticks(range(len(series)), [name for name, _ in series], fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(unit)

    def get(*path: str) -> Any:
        def getter(run: Mapping[str, Any]) -> Any:
            value: Any = run
            for part in path:
                value = (value or {}).get(part)
            return value

        return getter

    per_run(axes[0][0], "startup", "start → page shown (median, min-max)", "seconds")
    per_run(
        axes[0][1], "memory", "idle memory: PSS over the process tree (bars), each page once (dots)", "MB"
    )
    grouped(
        axes[1][0],
        "Jinja page throughput (keep-alive, loopback)",
        "requests/s",
        [
            ("werkzeug (plain)", get("throughput", "plain", "rps_median")),
            ("pywebview(app)", get("throughput", "builtin", "rps_median")),
            ("flaskdesk (guarded)", get("throughput", "flaskdesk", "rps_median")),
        ],
    )
    grouped(
        axes[1][1],
        "bridge round trip p50 (in the window)",
        "ms",
        [
            ("flaskdesk.api", get("bridge", "flaskdesk", "bridge", "p50")),
            ("pywebview js_api", get("bridge", "plain", "bridge", "p50")),
            ("fetch via guard", get("bridge", "flaskdesk", "fetch", "p50")),
            ("fetch werkzeug", get("bridge", "plain", "fetch", "p50")),
        ],
    )
    for ax in axes.flat:
        if backends:
            ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("flaskdesk vs the plain recipes (lower is better, except throughput)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def merge(existing: Mapping[str, Any], backend: str, new: Mapping[str, Any]) -> dict[str, Any]:
    """Fold one backend's new metrics into the saved results (other backends and metrics kept)."""
    merged = {key: dict(value) for key, value in existing.items()}
    run = merged.setdefault(backend, {})
    for key, value in new.items():
        if key in ("settings", "measured_at") and isinstance(run.get(key), dict):
            run[key] = {**run[key], **value}
        else:
            run[key] = value
    return merged


def write(out: Path, backend: str, new: Mapping[str, Any]) -> tuple[Path, str | None]:
    """Update ``out/latest.json`` with this run and re-render ``latest.md`` and ``latest.png``."""
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "latest.json"
    existing = json.loads(raw.read_text()) if raw.exists() else {}
    results = merge(existing, backend, new)
    raw.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    page = out / "latest.md"
    page.write_text(render(results))
    problem = chart(results, out / "latest.png")
    return page, problem
