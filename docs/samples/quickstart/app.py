from flask import Flask, render_template

from flaskdesk import Desktop

app = Flask(__name__)
desktop = Desktop(app, title="Hello", width=900, height=600, background_color="#f6f5f0")


@app.route("/")
def index():
    return render_template("index.html", name="desktop")


@desktop.expose
def add(a: int, b: int) -> int:
    return a + b


if __name__ == "__main__":
    desktop.run()  # blocks until the window is closed
