"""Contender 4: flaskdesk from source, ``Desktop(app).run()`` (backend from ``$FLASKDESK_GUI``).

Window settings come from the fixture's ``[tool.flaskdesk]``, exactly as in the frozen builds.
With a result path it shows the bridge page and exposes ``echo``/``report`` with ``@desktop.expose``.
    python flaskdesk_source.py [RESULT.json CALLS WARMUP]
"""

import json
import sys
from pathlib import Path

from benchpage import create_app

from flaskdesk import Desktop

result = Path(sys.argv[1]) if len(sys.argv) > 1 else None
if result is None:
    desktop = Desktop(create_app())
else:
    out = result
    desktop = Desktop(create_app(bridge="flaskdesk", calls=int(sys.argv[2]), warmup=int(sys.argv[3])))

    @desktop.expose
    def echo(value: object) -> object:
        return value

    @desktop.expose
    def report(results: object) -> None:
        out.write_text(json.dumps(results))


desktop.run()
