"""Import speechbrain without leaving its lazy modules where other code trips on them."""

from __future__ import annotations

import sys


def import_speechbrain() -> None:
    """Import speechbrain, then drop its not-yet-loaded lazy modules from ``sys.modules``.

    speechbrain registers ``LazyModule`` placeholders (e.g. ``speechbrain.integrations.nlp``) in
    ``sys.modules``. Any later code that walks ``sys.modules`` and reads an attribute of each module
    (hypothesis, pickling, some debuggers) then triggers their import, which fails for integrations
    whose optional dependency (flair, ...) is absent. Dropping the unloaded placeholders is harmless:
    a real ``import speechbrain.x`` still imports the module on demand.
    """
    import speechbrain  # noqa: F401

    drop_lazy_placeholders()


def drop_lazy_placeholders() -> None:
    """Drop speechbrain's not-yet-loaded ``LazyModule`` placeholders from ``sys.modules`` (a no-op
    when speechbrain was not imported, e.g. by pyannote.audio; see :func:`import_speechbrain`)."""
    if "speechbrain.utils.importutils" not in sys.modules:
        return
    from speechbrain.utils.importutils import LazyModule

    for name, module in list(sys.modules.items()):
        if isinstance(module, LazyModule) and module.lazy_module is None:
            del sys.modules[name]
