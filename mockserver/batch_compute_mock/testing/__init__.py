"""Test controls: what a team's test suite uses to drive this server on purpose.

``controls`` (the ``/_mock/`` routes: reset, snapshot and restore, faults, the journal),
``faults`` (the faults in force and their rules), ``http_faults`` (the middleware that applies
HTTP faults) and ``snapshot`` (the snapshot file format). On only when the server listens on
loopback, unless ``serve --test-controls`` or ``--no-test-controls`` says otherwise.
"""
