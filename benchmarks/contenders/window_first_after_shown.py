"""Experiment: :mod:`window_first`, with Flask imported only once the window is shown.
python window_first_after_shown.py BACKEND
"""

import sys

from window_first import main

main(sys.argv[1], after_shown=True)
