from flask import Flask, render_template

from flaskdesk import Desktop

desktop = Desktop(title="Catalog")


def create_app() -> Flask:
    app = Flask(__name__)  # templates/ and static/ next to this file, as in any Flask app
    desktop.init_app(app)

    @app.route("/")
    def index():
        return render_template("index.html", products=["Tea", "Coffee", "Cocoa"])

    @app.route("/about")
    def about():
        return render_template("about.html")

    return app
