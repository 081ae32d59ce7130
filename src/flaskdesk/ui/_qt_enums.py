"""qtpy's unscoped enum names, paid for after the window shows instead of before it exists.

With PyQt6, importing ``qtpy.QtCore``, ``QtGui`` and ``QtWidgets`` makes every enum member of
every class reachable unscoped as well (``Qt.AlignLeft`` besides ``Qt.AlignmentFlag.AlignLeft``):
qtpy's ``promote_enums`` walks ~530 classes and creates all their enums, ~0.08 s of a ~0.5 s start,
all before the window can be created. Until the first page is shown, only qtpy itself and
pywebview's Qt platform use unscoped names, and only those of :data:`EAGER_CLASSES`.

:func:`defer_enum_promotion` swaps qtpy's ``promote_enums`` for :meth:`DeferredPromotion.promote`,
which promotes those classes at once and remembers the module; :meth:`DeferredPromotion.finish`
(called by the Qt hooks once the first page has loaded) runs qtpy's own ``promote_enums`` over
every remembered module, so code that relies on qtpy's behaviour later finds every name it would
have found. ``tests/ui/test_qt_enums.py`` checks pywebview's Qt source against :data:`EAGER_CLASSES`.
"""

from __future__ import annotations

import enum
import importlib
import logging
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

log = logging.getLogger("flaskdesk.ui")

#: The classes whose enum members qtpy and pywebview's Qt platform use unscoped before the first
#: page is shown (``Qt.WindowStaysOnTopHint``, ``QMessageBox.Ok``, ``QFile.ReadOnly``...).
EAGER_CLASSES = ("Qt", "QEvent", "QFile", "QIODevice", "QMessageBox", "QFileDialog")


def promote_class(klass: object) -> None:
    """Make every member of ``klass``'s enums an attribute of ``klass`` (qtpy's rule, one class)."""
    for attribute in [name for name in dir(klass) if name[:1].isupper()]:
        value: Any = getattr(klass, attribute)
        if isinstance(value, enum.EnumMeta):
            members: dict[str, Any] = dict(value.__members__)
            for name, member in members.items():
                setattr(klass, name, member)


class DeferredPromotion:
    """qtpy's ``promote_enums`` split in two: the classes needed now, the rest on :meth:`finish`."""

    def __init__(self, promote_all: Callable[[ModuleType], None], eager: Iterable[str]) -> None:
        self._promote_all = promote_all
        self._eager = tuple(eager)
        self._pending: list[ModuleType] = []

    def promote(self, module: ModuleType) -> None:
        """Stands in for ``qtpy.enums_compat.promote_enums(module)``."""
        for name in self._eager:
            klass = getattr(module, name, None)
            if klass is not None:
                promote_class(klass)
        self._pending.append(module)

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(module.__name__ for module in self._pending)

    def finish(self) -> None:
        """Promote everything qtpy would have (once; later calls do nothing)."""
        pending, self._pending = self._pending, []
        for module in pending:
            try:
                self._promote_all(module)
            except Exception:  # never fatal: only code using qtpy's unscoped names can notice
                log.warning("could not add qtpy's unscoped enum names to %s", module.__name__, exc_info=True)


def defer_enum_promotion() -> DeferredPromotion | None:
    """Install the split before qtpy's Qt modules are imported; ``None`` when it cannot apply.

    It cannot when ``qtpy.QtCore`` is already imported (qtpy promoted everything), when the binding
    is not PyQt6 (qtpy promotes only for PyQt6), or when qtpy is missing (the backend check says so).
    """
    if "qtpy.QtCore" in sys.modules:
        return None
    try:
        compat = importlib.import_module("qtpy.enums_compat")
    except (ImportError, RuntimeError):
        return None
    promote_all = getattr(compat, "promote_enums", None)
    if promote_all is None:
        return None
    deferred = DeferredPromotion(promote_all, EAGER_CLASSES)
    compat.promote_enums = deferred.promote  # type: ignore[attr-defined]  # qtpy looks it up on each import
    return deferred
