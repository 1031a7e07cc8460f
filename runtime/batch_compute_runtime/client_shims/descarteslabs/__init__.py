"""Stand-in for the ``descarteslabs`` client inside Batch Compute jobs (see
``_batch_compute_results``): only ``descarteslabs.compute`` is provided. An installed
``descarteslabs`` comes first on ``sys.path`` and is used instead."""
