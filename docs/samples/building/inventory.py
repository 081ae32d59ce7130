import contextlib
import csv
import os
import sqlite3

import click
from flask import Flask, current_app

from flaskdesk import Desktop, resources

desktop = Desktop(title="Inventory")


def create_app() -> Flask:
    app = Flask(__name__)
    desktop.init_app(app)
    app.cli.add_command(init_db)
    app.cli.add_command(upgrade_db)
    return app


def connect():
    """The app's database, in its instance folder (the user's data folder, once frozen)."""
    os.makedirs(current_app.instance_path, exist_ok=True)
    return contextlib.closing(sqlite3.connect(os.path.join(current_app.instance_path, "inventory.sqlite")))


def starter_items():
    """Rows of data/starter-items.csv: bundled by `include`, found the same way from source and frozen."""
    with open(resources.project_path("data/starter-items.csv"), newline="", encoding="utf-8") as file:
        return [(row["name"],) for row in csv.DictReader(file)]


@click.command("init-db")
def init_db():
    """Create the tables and the starter items. The frozen app runs this once per user (first-run)."""
    with connect() as db:
        db.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        if db.execute("SELECT COUNT(*) FROM item").fetchone()[0] == 0:
            db.executemany("INSERT INTO item (name) VALUES (?)", starter_items())
        db.commit()
    click.echo("Database ready.")


@click.command("upgrade-db")
def upgrade_db():
    """Bring an older database up to date. Runs once per new version (on-upgrade)."""
    with connect() as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(item)")]
        if "quantity" not in columns:
            db.execute("ALTER TABLE item ADD COLUMN quantity INTEGER NOT NULL DEFAULT 0")
            db.commit()
    click.echo("Database upgraded.")
