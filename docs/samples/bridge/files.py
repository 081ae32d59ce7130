import threading

from flask import Flask, current_app

from flaskdesk import BridgeError, Desktop

app = Flask(__name__)
desktop = Desktop(app, title="Files")

NOTES = {1: "Shopping", 2: "Ideas"}
_names_lock = threading.Lock()  # exposed functions run on several server threads at once
_names = {"draft.txt"}


@desktop.expose
def add(a: int, b: int) -> int:
    return a + b


@desktop.expose(name="findNote")
def find_note(note_id: int) -> dict:
    if note_id not in NOTES:
        raise BridgeError("NotFound", f"there is no note {note_id}")  # JS sees this name
    return {"id": note_id, "title": NOTES[note_id]}


@desktop.expose
def rename(old: str, new: str, *, overwrite: bool = False) -> str:
    with _names_lock:
        if new in _names and not overwrite:
            raise FileExistsError(f"{new} exists")  # JS sees error.name "FileExistsError"
        _names.discard(old)
        _names.add(new)
    return f"{old} → {new} in {current_app.name}"  # runs inside the app context
