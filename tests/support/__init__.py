"""Test helpers (importable as ``support`` via pytest's ``pythonpath``), one module per job:

- ``support.live_server``: a real server subprocess on a free loopback port;
- ``support.browser``: Chromium's location and launch flags, and ``BrowserPage`` (the browser
  tests' fixtures are in ``tests/browser/conftest.py``);
- ``support.compat``: run scenario scripts with a genuine client in its own venv;
- ``support.inprocess``: tokens, bundles and set-up steps for in-process server tests.
"""

__all__: list[str] = []
