"""The Content-Security-Policy the guard sends, kept apart so the policy text is easy to review.

Why these directives (see ``SECURITY.md`` for the threat model):

* ``script-src 'self' 'nonce-…'`` — an XSS hole in the app must not become code execution with
  access to the JS bridge, so only same-origin script files and inline scripts that carry this
  response's nonce run. No ``'unsafe-eval'``: pywebview's injected scripts run outside
  ``script-src``; only its string-compiling helpers (``Window.evaluate_js``, ``js_api``) need it,
  and flaskdesk uses ``run_js`` and its own HTTP bridge instead (measured; see ``SECURITY.md``).
* ``style-src 'self' 'unsafe-inline'`` — inline styles are everywhere in Flask templates, and
  pywebview injects ``<style>`` elements itself (``load_css``, ``text_select=False``). The risk
  that remains, CSS-based exfiltration, needs a request to another origin, which ``img-src``,
  ``font-src`` and ``connect-src`` forbid.
* ``object-src 'none'``, ``base-uri 'none'``, ``frame-ancestors 'none'``, ``form-action 'self'``
  and ``default-src 'self'`` — no plugins, no ``<base>`` hijack, never framed, forms and every
  other fetch stay on the app's own origin.

In dev mode the Werkzeug debugger's page runs an inline ``<script>`` without a nonce; browsers
ignore ``'unsafe-inline'`` whenever a nonce is listed, so dev mode swaps the nonce for
``'unsafe-inline'`` in ``script-src`` and changes nothing else.
"""

from __future__ import annotations

__all__ = ["NONCE_PLACEHOLDER", "default_policy", "render_policy"]

#: Written in an app's own policy (``GuardPolicy.csp``) where the per-response nonce goes,
#: e.g. ``script-src 'self' 'nonce-{nonce}'``.
NONCE_PLACEHOLDER = "{nonce}"

_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'nonce-{nonce}'"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self' data:"),
    ("media-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
    ("form-action", "'self'"),
)

_DEV_SCRIPT_SRC = "'self' 'unsafe-inline'"


def render_policy(template: str, nonce: str) -> str:
    """Put this response's nonce into a policy written with :data:`NONCE_PLACEHOLDER`.

    ``str.replace`` rather than ``str.format``: a policy may legitimately contain braces
    (hashes never do, but URLs in ``report-uri`` might) and must not fail on them.
    """
    return template.replace(NONCE_PLACEHOLDER, nonce)


def default_policy(nonce: str, *, dev: bool = False) -> str:
    """The default policy for one response; ``dev`` relaxes ``script-src`` only (see module doc)."""
    parts = []
    for name, value in _DIRECTIVES:
        if dev and name == "script-src":
            value = _DEV_SCRIPT_SRC
        parts.append(f"{name} {render_policy(value, nonce)}")
    return "; ".join(parts)
