"""The served half of the runtime: find the Flask app, serve it on loopback, guard it."""
