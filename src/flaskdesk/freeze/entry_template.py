"""Entry script of an app built by ``flaskdesk build`` (copied into the build folder as its script).

It only hands over to the runtime: all start-up behaviour lives in :mod:`flaskdesk.frozen`, which
is tested from source, and the app itself is named by the configuration baked into the bundle.
"""

from __future__ import annotations

import sys

from flaskdesk.frozen import main

if __name__ == "__main__":
    sys.exit(main())
