"""The kernel: what every other package agrees on, with no framework underneath.

``errors`` (the domain error tree), ``states`` (statuses and the named edges between them),
``query`` (the searchable fields and a validated search), ``ids`` (identifiers the API
defines), ``timestamps`` (the one stored time form) and ``terms`` (which scheduler came
later). It imports only the standard library,
so the store, the blobs, the scheduler and the services can all depend on it.
"""
