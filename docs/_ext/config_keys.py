"""What each ``[tool.flaskdesk]`` key is for: the words only a person can write.

Everything else on the configuration page (the list of keys, the accepted values, the
environment variables, the defaults the runtime uses) is read from :mod:`flaskdesk.config` and
:mod:`flaskdesk.settings` when the docs are built, and ``tests/test_docs.py`` checks that this
table names exactly the keys ``config.py`` accepts. So a key added to the code without a line
here fails the docs build and the tests, and nothing here can describe a key that is gone.

``status`` is ``"used"`` or ``"coming"``: a coming key is validated but nothing reads it yet.
The tests check that too (no module outside ``config.py`` reads a coming key's attribute), so
the page stops calling a key "coming" as soon as the code starts using it.
"""

from __future__ import annotations

from typing import NamedTuple


class KeyDoc(NamedTuple):
    group: str
    text: str
    example: str
    default: str | None = None  # only for keys whose default is not a LaunchSettings field
    status: str = "used"


GROUPS = (
    ("app", "The app"),
    ("window", "The window"),
    ("runtime", "Runtime and security"),
    ("build", "Building"),
    ("dev", "Development"),
    ("packaging", "Installers"),
    ("coming", "Accepted now, used by features still coming"),
)

KEY_DOCS: dict[str, KeyDoc] = {
    "app": KeyDoc(
        "app",
        "The app to run, as ``module:attr`` or ``module:factory(args)`` (literal arguments only), "
        "the way ``flask --app`` takes it. ``flaskdesk run``, ``flaskdesk build`` and the pytest "
        "fixtures use it when ``--app`` and ``FLASK_APP`` are not given.",
        'app = "notes:create_app()"',
        default="none (``flaskdesk run`` then needs ``--app`` or ``FLASK_APP``)",
    ),
    "name": KeyDoc(
        "app",
        "Names the app's per-user data, config and log folders and the built executable "
        "(``dist/NAME/NAME``). Source runs and frozen builds read it alike, so both find the same "
        "data. Users' data is filed under it: do not change it once you have users.",
        'name = "flaskdesk-notes"',
    ),
    "identifier": KeyDoc(
        "app",
        "Reverse-DNS id of the app, for the macOS bundle id, the Windows version resource and the "
        "installers.",
        'identifier = "org.flaskdesk.notes"',
        default="none",
    ),
    "version": KeyDoc(
        "app",
        "The app's version, baked into the build. A frozen app runs the ``on-upgrade`` commands "
        "when it first starts with a new version.",
        'version = "1.2.0"',
        default="``[project] version``",
    ),
    "title": KeyDoc("window", "The window title.", 'title = "Notes"'),
    "width": KeyDoc("window", "Initial window width, in pixels.", "width = 1000"),
    "height": KeyDoc("window", "Initial window height, in pixels.", "height = 700"),
    "min-size": KeyDoc(
        "window", "The smallest size the user can shrink the window to.", "min-size = [480, 360]"
    ),
    "resizable": KeyDoc("window", "Whether the user can resize the window.", "resizable = false"),
    "icon": KeyDoc(
        "window",
        "A PNG for the window and the build (512 x 512 px or more). Relative to the "
        "``pyproject.toml`` folder.",
        'icon = "packaging/icon.png"',
        default="none (the toolkit's icon)",
    ),
    "background-color": KeyDoc(
        "window",
        "Painted before the first page arrives. Set it to your page's background so the window "
        "never flashes white.",
        'background-color = "#1f2430"',
    ),
    "backend": KeyDoc(
        "runtime",
        'The window toolkit on Linux: ``"qt"`` (Qt WebEngine, from PyPI) or ``"gtk"`` (the '
        'system\'s WebKitGTK). ``"auto"`` picks Qt when it imports, else GTK. Windows and macOS '
        "always use the system's web view. A build ships only this backend.",
        'backend = "qt"',
        default='``"auto"``',
    ),
    "shutdown-timeout": KeyDoc(
        "runtime",
        "Seconds that requests still running when the window closes get to finish before the process exits.",
        "shutdown-timeout = 30",
    ),
    "csp": KeyDoc(
        "runtime",
        "Replaces the Content-Security-Policy for the whole app. Write ``{nonce}`` where the "
        "per-response nonce goes. Every other guard check stays on. The default policy and "
        "how to extend it are in :ref:`default-csp`.",
        "csp = \"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'\"",
    ),
    "onefile": KeyDoc(
        "build",
        "Build one self-extracting executable (``dist/onefile/NAME``) instead of a folder "
        "(``dist/NAME/``). ``flaskdesk build --onefile/--onedir`` overrides it.",
        "onefile = true",
        default="``false``",
    ),
    "first-run": KeyDoc(
        "build",
        "Flask commands a frozen app runs once, when the user's data folder is created (never "
        "again, so no data is wiped). A failed command stops the start and runs again next time.",
        'first-run = ["init-db"]',
        default="``[]``",
    ),
    "on-upgrade": KeyDoc(
        "build",
        "Flask commands a frozen app runs once whenever a new ``version`` first starts.",
        'on-upgrade = ["db upgrade"]',
        default="``[]``",
    ),
    "exclude": KeyDoc(
        "build",
        "Modules to leave out of the build, on top of the ones flaskdesk leaves out itself (the "
        "other window toolkits, flaskdesk's tooling).",
        'exclude = ["tkinter", "numpy.tests"]',
        default="``[]``",
    ),
    "locales": KeyDoc(
        "build",
        "Languages to keep in a slim build: Qt translations and Chromium locale packs of other "
        "languages are dropped (``en-US`` is always kept).",
        'locales = ["en", "pt-BR"]',
        default="``[]`` (English only)",
    ),
    "dev-reload-extra": KeyDoc(
        "dev",
        "More files, folders or glob patterns (relative to the project folder) whose change "
        "reloads the app in dev mode. Your package, templates and static folders are always "
        "watched.",
        'dev-reload-extra = ["content/**/*.md", "settings.json"]',
        default="``[]``",
    ),
    "include": KeyDoc(
        "build",
        "More files to bundle: files, folders (taken whole) or glob patterns (``**`` for any "
        "depth), relative to the project folder. Each lands at the same relative path in the "
        "build, where ``flaskdesk.resources.project_path()`` finds it from source and frozen "
        "alike. Files inside your package are bundled already (see :doc:`/guide/building`).",
        'include = ["data/*.csv", "content/"]',
        default="``[]``",
    ),
    "transport": KeyDoc(
        "runtime",
        'How the window reaches the app: ``"loopback"`` (HTTP on ``127.0.0.1`` behind the guard) or '
        '``"scheme"`` (``app://flaskdesk``, handed to the app in-process: no TCP port at all; Qt and '
        "GTK on Linux). ``FLASKDESK_TRANSPORT`` and ``Desktop(transport=...)`` set it too. What "
        "differs and why loopback stays the default: :doc:`/guide/transport`.",
        'transport = "scheme"',
    ),
    "single-instance": KeyDoc(
        "runtime",
        "One running copy per user: a second launch hands its command line to the running app "
        "(``@desktop.on_second_instance``), whose window comes to the front, and exits. Never "
        "applies to the app's ``flask`` commands or to test runs (see :doc:`/guide/desktop-features`).",
        "single-instance = false",
    ),
    "file-types": KeyDoc(
        "packaging",
        "Documents the app opens when the user double-clicks them. The installers register them "
        "(the menu entry's MIME types, the Windows registry, ``Info.plist``), and the app gets "
        "the file as a command-line argument. Each table has ``extensions`` and optionally "
        '``name``, ``mime-type``, ``icon`` and ``role`` (``"editor"`` or ``"viewer"``).',
        'file-types = [{extensions = ["md"], name = "Markdown document", mime-type = "text/markdown"}]',
        default="``[]``",
    ),
    "url-schemes": KeyDoc(
        "packaging",
        "URL schemes (``notes://...``) the installers register for the app; the app gets the URL "
        "as a command-line argument.",
        'url-schemes = ["notes"]',
        default="``[]``",
    ),
}
