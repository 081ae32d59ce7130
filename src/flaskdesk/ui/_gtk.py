"""WebKitGTK specifics: the hooks on pywebview's GTK window.

pywebview builds the window (``webview/platforms/gtk.py``: a ``BrowserView`` holding a
``WebKit2.WebView`` with a ``WebsiteDataManager`` rooted at the storage path);
:meth:`GtkHooks.attach` runs on the GUI thread from pywebview's ``before_show`` event, before the
first page is requested, and adds the navigation policy on the view's ``decide-policy`` signal.

pywebview connects its own ``decide-policy`` handler first, and for ``target=_blank`` it hands
*any* URL (``file:`` included) to the browser before anyone else is asked. So ours is put in front:
pywebview's handler is disconnected and reconnected after ours. Ours settles every navigation
decision itself and leaves response decisions (download or display) to pywebview.

WebKitGTK does not say whether a navigation is for the main frame or a subframe. Where that matters
(a cross-origin ``http(s)`` URL: browser for the window, refused for an iframe) the decision is made
from what *is* known: a user's click or form submission is the window's; anything else is let
through to the response, where ``is_main_frame_main_resource`` tells, and is refused there (or,
if the host cannot be reached, when the load fails, before WebKit paints its error page). Same
reason, one gap: ``about:blank``, allowed for iframes, cannot be refused in the main frame.

Devtools in dev mode: F12 opens WebKit's inspector, which runs in process (no port).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import BackendError
from .navigation import NavigationPolicy, Verdict, carry_out
from .window import WindowOptions

log = logging.getLogger("flaskdesk.ui")


class GtkHooks:
    """flaskdesk's additions to a pywebview GTK window (see the module docstring)."""

    name = "gtk"

    def prepare(self) -> None:
        """Nothing to set before WebKitGTK starts (it runs as root and keeps its own sandbox)."""

    def attach(
        self,
        window: Any,
        *,
        policy: NavigationPolicy,
        options: WindowOptions,
        storage_dir: Path | None,
        dev: bool,
        trust_first_navigation: bool = False,
    ) -> None:
        """Install the hooks on pywebview ``window`` (GUI thread, from ``before_show``).

        ``options`` are already applied by pywebview (the background colour as window CSS and view
        background, with the view kept transparent until the first load), so they are not read here.
        """
        browser = getattr(window.gui, "BrowserView", None)
        instance = browser.instances.get(window.uid) if browser is not None else None
        view = getattr(instance, "webview", None)
        theirs = getattr(instance, "on_navigation", None)
        if view is None or theirs is None:
            raise BackendError(
                "pywebview's GTK window no longer has the WebView flaskdesk hooks into (BrowserView"
                ".webview/.on_navigation); install the pywebview version flaskdesk supports (pip install "
                "'pywebview>=5.3,<7')"
            )
        if storage_dir is not None:
            _check_storage(view, storage_dir)
        decider = _Decider(policy, trust_first_navigation)
        view.disconnect_by_func(theirs)
        view.connect("decide-policy", decider.on_decide_policy)
        view.connect("decide-policy", theirs)
        view.connect("load-failed", decider.on_load_failed)
        view.connect("create", decider.on_create)
        if dev:
            _add_inspector_shortcut(window.native, view)


def _check_storage(view: Any, storage_dir: Path) -> None:
    """Fail closed if the view's web data does not live in the app's storage dir."""
    manager = view.get_context().get_website_data_manager()
    actual = manager.get_base_data_directory() if manager is not None else None
    if manager is None or manager.is_ephemeral() or actual is None or Path(actual) != storage_dir:
        raise BackendError(
            f"the WebKitGTK view stores data in {actual or '(memory only)'} instead of {storage_dir}; "
            "install the pywebview version flaskdesk supports (pip install 'pywebview>=5.3,<7')"
        )


class _Decider:
    """The ``decide-policy``, ``create`` and ``load-failed`` handlers for one view."""

    def __init__(self, policy: NavigationPolicy, trust_first_navigation: bool) -> None:
        from gi.repository import WebKit2

        self._policy = policy
        self._trust_next = trust_first_navigation
        self._kinds = WebKit2.PolicyDecisionType
        self._user_initiated = frozenset(
            {
                WebKit2.NavigationType.LINK_CLICKED,
                WebKit2.NavigationType.FORM_SUBMITTED,
                WebKit2.NavigationType.FORM_RESUBMITTED,
            }
        )
        # Failures that are not the host's: our own refusal, or a load superseded by another.
        self._not_failures = (
            (WebKit2.PolicyError.quark(), int(WebKit2.PolicyError.FRAME_LOAD_INTERRUPTED_BY_POLICY_CHANGE)),
            (WebKit2.NetworkError.quark(), int(WebKit2.NetworkError.CANCELLED)),
        )

    def on_decide_policy(self, view: Any, decision: Any, kind: Any) -> bool:
        """Settle navigation decisions (return True: handled); pass response decisions on."""
        if kind == self._kinds.RESPONSE:
            return self._on_response(decision)
        action = decision.get_navigation_action()
        url = action.get_request().get_uri() or ""
        if self._trust_next:
            self._trust_next = False
            decision.use()
            return True
        if kind == self._kinds.NEW_WINDOW_ACTION:
            decision.ignore()
            self._new_window(view, url)
            return True
        as_window = self._policy.decide(url, main_frame=True)
        as_frame = self._policy.decide(url, main_frame=False)
        user_initiated = action.is_user_gesture() or action.get_navigation_type() in self._user_initiated
        if as_window is as_frame or user_initiated:
            verdict = as_window  # a click or a form submission is the window's own navigation
        else:
            # Main frame or iframe? Only the response (or the failure) will tell.
            decision.use()
            return True
        if carry_out(verdict, url):
            decision.use()
        else:
            decision.ignore()
        return True

    def on_create(self, view: Any, action: Any) -> None:
        """``window.open()`` asks for a new view here (links with a target go through policy first).

        No view is ever created: the URL goes where a new-window navigation's verdict says.
        """
        url = action.get_request().get_uri() or ""
        self._new_window(view, url)
        return None

    def _new_window(self, view: Any, url: str) -> None:
        verdict = self._policy.decide(url, main_frame=True, new_window=True)
        if verdict is Verdict.ALLOW:
            view.load_uri(url)
        else:
            carry_out(verdict, url)

    def _on_response(self, decision: Any) -> bool:
        url = decision.get_response().get_uri() or ""
        verdict = self._policy.decide(url, main_frame=decision.is_main_frame_main_resource())
        if verdict is Verdict.ALLOW:
            return False  # pywebview decides between showing and downloading
        decision.ignore()
        carry_out(verdict, url)
        return True

    def on_load_failed(self, view: Any, event: Any, url: str, error: Any) -> bool:
        """A deferred cross-origin load that failed: hand it over instead of showing an error page.

        Returns True (handled) to stop WebKit from replacing the app's page with its error page.
        """
        if any(error.matches(domain, code) for domain, code in self._not_failures):
            return False  # WebKit shows no error page for these
        verdict = self._policy.decide(url, main_frame=True)
        if verdict is Verdict.ALLOW:
            return False  # the app's own page failed: WebKit's error page is the right thing
        carry_out(verdict, url)
        return True


def _add_inspector_shortcut(gtk_window: Any, view: Any) -> None:
    """F12 opens WebKit's inspector (in process; no remote-inspector server is started)."""
    from gi.repository import Gdk

    view.get_settings().set_enable_developer_extras(True)

    def on_key(_widget: Any, event: Any) -> bool:
        if event.keyval != Gdk.KEY_F12:
            return False
        view.get_inspector().show()
        return True

    gtk_window.connect("key-press-event", on_key)
