"""The app the transport tests serve, over ``app://`` and over loopback alike.

Pages with static CSS, a form that posts and redirects (Post/Redirect/Get with a flash message),
JSON ``fetch``, uploads (multipart by ``fetch`` and by form navigation), Flask-Login with a
"remember me" cookie, a permanent session (``/keep``, ``/kept``), ``send_file`` downloads (small,
and bigger than the transport's whole-body limit so it streams), a streamed response and an event
stream, a slow view and a slow write, error pages, and an exposed bridge function. ``data_dir``
receives what views write, so tests can check it from outside the window's process.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user

from flaskdesk import Desktop

PAGE_COLOUR = "#c2185b"
BIG_FILE_BYTES = 9 * 1024 * 1024  # above InProcessApp's 8 MiB whole-body limit: streamed


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def create_site() -> Flask:
    """The app as ``flaskdesk run --app 'transport_site:create_site()'`` launches it (the window tests).

    ``TRANSPORT_SITE_DATA`` is the folder views write to; the transport is the user's choice
    (``FLASKDESK_TRANSPORT``), as is the backend (``FLASKDESK_GUI``).
    """
    app, _ = create_app(
        os.environ["TRANSPORT_SITE_DATA"],
        title="Transport site",
        width=800,
        height=600,
        background_color="#203040",
    )
    return app


def create_app(data_dir: str | os.PathLike[str], **window: Any) -> tuple[Flask, Desktop]:
    """The app and its ``Desktop``; ``window`` are more ``Desktop(...)`` arguments."""
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.secret_key = "transport-tests"
    desktop = Desktop(app, **{"title": "transport", **window})
    logins = LoginManager(app)
    logins.user_loader(User)

    @desktop.expose
    def add(a: int, b: int) -> int:
        return a + b

    @desktop.expose
    def where() -> str:
        from flask import has_request_context

        return "request" if has_request_context() else "no request"

    @app.route("/")
    def index() -> str:
        return render_template("index.html", messages=get_flashed_messages())

    @app.route("/plain")
    def plain() -> str:
        return "<!doctype html><html><head><title>plain</title></head><body><p id='p'>plain</p></body></html>"

    @app.post("/form")
    def form() -> Response:
        session["name"] = request.form["name"]
        flash(f"saved {request.form['name']}")
        return redirect(url_for("hello"))

    @app.route("/hello")
    def hello() -> str:
        return render_template(
            "hello.html", name=session.get("name", "nobody"), messages=get_flashed_messages()
        )

    @app.post("/api/echo")
    def echo() -> Response:
        response = jsonify(
            received=request.get_json(),
            method=request.method,
            content_type=request.content_type,
            session_name=session.get("name"),
            url=request.url,
            scheme=request.scheme,
        )
        response.headers["X-Echo"] = "yes"
        response.headers["X-Case"] = "MiXeD Case"
        return response

    @app.route("/api/status/<int:code>")
    def status(code: int) -> tuple[Response, int]:
        return jsonify(code=code), code

    @app.post("/upload.json")
    def upload_json() -> Response:
        return jsonify(**_describe_upload(data))

    @app.post("/upload")
    def upload_form() -> Response:
        session["upload"] = _describe_upload(data)
        return redirect(url_for("uploaded"))

    @app.route("/uploaded")
    def uploaded() -> str:
        return render_template("uploaded.html", upload=session.get("upload"))

    @app.post("/login")
    def login() -> Response:
        login_user(User(request.form.get("user", "ada")), remember=True)
        return redirect(url_for("me"))

    @app.route("/me")
    @login_required
    def me() -> str:
        return f"<!doctype html><html><body><p id='me'>{current_user.id}</p></body></html>"

    @app.post("/keep")
    def keep() -> Response:
        session.permanent = True  # a session that outlives the window, as "remember me" does
        session["kept"] = request.get_json()["value"]
        return jsonify(kept=session["kept"])

    @app.route("/kept")
    def kept() -> str:
        value = session.get("kept", "nothing")
        return f"<!doctype html><html><body><p id='kept'>{value}</p></body></html>"

    @app.route("/download")
    def download() -> Response:
        path = data / "report.csv"
        path.write_text("a,b\n1,2\n")
        return send_file(path, as_attachment=True, download_name="report.csv", mimetype="text/csv")

    @app.route("/big")
    def big() -> Response:
        path = data / "big.bin"
        if not path.exists() or path.stat().st_size != BIG_FILE_BYTES:
            path.write_bytes(bytes(range(256)) * (BIG_FILE_BYTES // 256))
        return send_file(path, mimetype="application/octet-stream")

    @app.route("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for number in range(3):
                yield f"chunk{number};"
                time.sleep(0.4)

        return Response(stream_with_context(chunks()), mimetype="text/plain")

    @app.route("/events")
    def events() -> Response:
        def chunks() -> Iterator[str]:
            for number in range(3):
                yield f"data: event{number}\n\n"
                time.sleep(0.3)

        return Response(chunks(), mimetype="text/event-stream")

    @app.route("/slow")
    def slow() -> str:
        time.sleep(float(request.args.get("seconds", "3")))
        return "<!doctype html><html><body><p id='slow'>slow done</p></body></html>"

    @app.post("/slow-write")
    def slow_write() -> Response:
        (data / "started").write_text("1")
        time.sleep(2.0)
        (data / "finished").write_text(request.get_json()["text"])
        return jsonify(ok=True)

    @app.route("/boom")
    def boom() -> str:
        raise ValueError("the view failed on purpose")

    @app.route("/gone")
    def gone() -> str:
        abort(404)

    @app.route("/unicode")
    def unicode_page() -> str:
        return "<!doctype html><html><head><title>ü</title></head><body><p id='u'>grüße ✓</p></body></html>"

    return app, desktop


def _describe_upload(data: Path) -> dict[str, object]:
    upload = request.files["up"]
    content = upload.read()
    (data / "uploaded.bin").write_bytes(content)
    return {
        "filename": upload.filename,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "note": request.form.get("note"),
        "content_type": upload.mimetype,
    }
