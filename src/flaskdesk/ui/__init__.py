"""The window room: native windows (through pywebview), where they may navigate, and the JS bridge.

Nothing here imports a GUI toolkit at import time; :func:`flaskdesk.ui.backend.select_backend`
does, when a window is about to open.
"""
