"""Where we adjust Connexion 3.3: faster per-request paths, stricter body decoding, and the
validators our media types need. Each module says what it changes and why; ``app.py`` is
the only place that wires them in.

    bearer_security     bearer check without per-request signature inspection
    body_validation     JSON bodies: UTF-8, NaN and depth errors are 400s, not 500s
    cached_validation   parameter validators built once per parameter
    decorate_once       each handler wrapped once per operation, not once per request
    log_validation      response validation for the ndjson job log
    path_parameters     path-level parameters folded into operations (validated once)
"""

__all__: list[str] = []
