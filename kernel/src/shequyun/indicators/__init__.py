"""Indicators (指标) and decision support: the kernel's feature slice.

Plugins (the kernel's own included) declare indicators through ``register_indicators``
(:mod:`.registry`); :mod:`.compute` runs one for a subtree and adds it up the tree
(:mod:`.tree`); :mod:`.snapshots` keeps closed periods; :mod:`.service` holds the use cases that
:mod:`.api` and :mod:`.pages` call; :mod:`.plugin` is the default plugin wiring them in.
"""
