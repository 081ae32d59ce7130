"""The web half of the runtime: find the user's Flask app, serve it on loopback, guard it.

``loader`` imports the app from a target (``module:app``, ``module:create_app()``), ``paths`` says
where its per-user data, config, logs and instance folder live, ``logs`` sets up the log file that
a windowed build (which has no console) relies on. Nothing here imports ``ui/``: the launcher joins
the two.
"""
