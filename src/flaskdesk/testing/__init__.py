"""Tooling for testing flaskdesk apps: the pytest plugin, the window driver, a virtual display."""
