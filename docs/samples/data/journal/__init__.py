import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from flaskdesk import Desktop

db = SQLAlchemy()
desktop = Desktop(title="Journal")


class Entry(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String, nullable=False)


def create_app() -> Flask:
    app = Flask(__name__)
    # First: the desktop app's instance folder is in the user's data folder, and the
    # extensions below must see that path, not the one next to the code.
    desktop.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)
    database = os.path.join(app.instance_path, "journal.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    db.init_app(app)
    with app.app_context():
        db.create_all()

    @app.post("/entries")
    def add_entry():
        db.session.add(Entry(text=request.form["text"]))
        db.session.commit()
        return {"entries": db.session.query(Entry).count()}

    return app
