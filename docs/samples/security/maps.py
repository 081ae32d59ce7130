from flask import Flask, make_response, render_template_string

from flaskdesk import Desktop

app = Flask(__name__)
desktop = Desktop(app, title="Maps")

PAGE = """<!doctype html><title>Tiles</title>
<img src="https://tile.openstreetmap.org/0/0/0.png" alt="The world">"""


@app.route("/tiles")
def tiles():
    # One page with its own policy: flaskdesk leaves a Content-Security-Policy the view set.
    response = make_response(render_template_string(PAGE))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' https://tile.openstreetmap.org; object-src 'none'"
    )
    return response
