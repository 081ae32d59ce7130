"""How flaskdesk sets WebKitGTK up: no accelerated compositing without a GPU, the helpers' library path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flaskdesk.ui._gtk import COMPOSITING_VAR, should_skip_compositing, software_rendering_only

FIXTURE = Path(__file__).parents[1] / "fixtures" / "lifecycle"
SKIPPED = "drawing without accelerated compositing"


def test_a_render_node_means_a_gpu(tmp_path: Path) -> None:
    dri = tmp_path / "dri"
    assert software_rendering_only(dri)  # no /dev/dri at all: containers, VMs, Xvfb
    dri.mkdir()
    (dri / "card0").touch()  # a display controller alone (simpledrm, VMs) renders nothing
    assert software_rendering_only(dri)
    (dri / "renderD128").touch()
    assert not software_rendering_only(dri)


@pytest.mark.parametrize(
    ("environ", "software_only", "skip"),
    [
        ({}, True, True),
        ({}, False, False),  # a GPU: WebKit composites as it likes
        ({COMPOSITING_VAR: "0"}, True, False),  # the user's choice rules, either way
        ({COMPOSITING_VAR: "1"}, True, False),  # (WebKit itself reads it)
    ],
)
def test_the_users_setting_wins(environ: dict[str, str], software_only: bool, skip: bool) -> None:
    assert should_skip_compositing(environ, software_only=software_only) is skip


def launch_and_read_log(x_display: str, tmp_path: Path, **extra: str) -> str:
    from flaskdesk.testing.driver import AppDriver

    env = {key: value for key, value in os.environ.items() if key != COMPOSITING_VAR}
    env.update(DISPLAY=x_display, FLASKDESK_GUI="gtk", **extra)
    with AppDriver.from_source(
        "lifecycle_app:create_app()", cwd=FIXTURE, env=env, data_dir=tmp_path / "data", artifacts_dir=tmp_path
    ) as app:
        app.goto("/visits")
        assert app.text("#visits") == "1"  # the page is drawn and answers either way
        time.sleep(0.2)
        log = app.log_text()
        assert app.close() == 0
    return log


@pytest.mark.window
@pytest.mark.skipif(not software_rendering_only(), reason="this machine has a GPU render node")
def test_a_real_gtk_window_here_skips_compositing(x_display: str, tmp_path: Path) -> None:
    assert SKIPPED in launch_and_read_log(x_display, tmp_path)


@pytest.mark.window
def test_the_users_variable_leaves_it_to_webkit(x_display: str, tmp_path: Path) -> None:
    assert SKIPPED not in launch_and_read_log(x_display, tmp_path, **{COMPOSITING_VAR: "0"})


@pytest.mark.parametrize(
    ("environ", "frozen", "path"),
    [
        ({"LD_LIBRARY_PATH": "/app/_internal", "LD_LIBRARY_PATH_ORIG": "/opt/mine"}, True, "/opt/mine"),
        ({"LD_LIBRARY_PATH": "/app/_internal"}, True, ""),  # the user had none: removed
        ({}, True, None),
        ({"LD_LIBRARY_PATH": "/opt/mine"}, False, None),  # from source: the user's, untouched
    ],
)
def test_webkits_helpers_get_the_users_library_path(
    environ: dict[str, str], frozen: bool, path: str | None
) -> None:
    from flaskdesk.ui._gtk import helper_library_path

    assert helper_library_path(environ, frozen=frozen) == path
