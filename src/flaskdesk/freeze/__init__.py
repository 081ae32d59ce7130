"""Freezing a flaskdesk app into a standalone executable with PyInstaller (tooling, never shipped).

:mod:`.spec` plans (pure), :mod:`.collect` asks the app what it needs, :mod:`.pyinstaller` runs
PyInstaller through the host, :mod:`.builder` strings the steps together for ``flaskdesk build``;
:mod:`.slim` and :mod:`.licenses` run inside PyInstaller from the generated spec; :mod:`.check`
drives the built app for ``build --check``.
"""
