"""Resident data quality (居民信息精准化): the kernel's feature slice.

Quality rules are data (:mod:`.rules`: the shipped set in ``rules.json`` plus the rules the city
or a district adds in the portal, versioned); :mod:`.checks` turns each rule into one set-based
query and :mod:`.engine` writes its findings; :mod:`.service` holds the use cases (scans, the
to-do list, scores) that :mod:`.api` and :mod:`.pages` call; :mod:`.plugin` wires them in.
"""
