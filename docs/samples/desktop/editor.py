from pathlib import Path

from flask import Flask, render_template, send_file

from flaskdesk import Desktop

app = Flask(__name__)
desktop = Desktop(
    app,
    title="Editor",
    background_color="#1e1e1e",
    splash="splash.html",  # a template, shown while the first page loads
)
desktop.settings.defaults["recent"] = []  # ~/.config/Editor/settings.json


def remember(path: str) -> None:
    recent = [path, *[p for p in desktop.settings["recent"] if p != path]]
    desktop.settings["recent"] = recent[:5]  # written to disk at once, atomically


@desktop.expose
def open_document() -> dict | None:
    path = desktop.dialogs.open_file(file_types=[("Text", ["*.txt", "*.md"])])
    if path is None:  # the user cancelled
        return None
    remember(path)
    return {"path": path, "text": Path(path).read_text(encoding="utf-8")}


@desktop.tray_item("Save a copy…")  # in the tray icon's menu too
@desktop.menu_item("File", "Save a copy…", shortcut="CmdOrCtrl+Shift+S")
def save_copy() -> None:
    target = desktop.dialogs.save_file(filename="copy.txt")
    if target is not None:
        Path(target).write_text("\n".join(desktop.settings["recent"]), encoding="utf-8")
        desktop.notify("Copy saved", target)  # a desktop notification


desktop.menu_link("File", "Recent files", "/recent")
desktop.tray_link("Recent files", "/recent")  # shown in the main window, brought to the front


@desktop.menu_item("Help", "About Editor")
def about() -> None:
    desktop.dialogs.message("Editor 1.0, made with Flask", title="About")


@desktop.on_second_instance
def opened_again(argv: list[str]) -> None:
    for path in argv[1:]:  # `editor notes.txt` while Editor runs
        remember(path)


@app.route("/")
def index() -> str:
    return render_template("editor.html")


@app.route("/recent")
def recent() -> dict:
    return {"recent": desktop.settings["recent"]}


@app.route("/recent.csv")
def export_recent() -> object:
    path = Path(app.instance_path, "recent.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("path\n" + "\n".join(desktop.settings["recent"]) + "\n", encoding="utf-8")
    return send_file(path, as_attachment=True)  # the window asks where to save it


@app.post("/settings/open")
def open_settings() -> dict:
    desktop.open_window("/recent", title="Recent files", width=480, height=360)
    return {"opened": True}
