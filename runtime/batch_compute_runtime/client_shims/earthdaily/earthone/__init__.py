"""Stand-in for the ``earthdaily-earthone`` client inside Batch Compute jobs (see
``_batch_compute_results``): only ``earthdaily.earthone.compute`` is provided. ``earthdaily`` is
a namespace package, as in the real distribution, so an installed ``earthdaily.earthone``
(earlier on ``sys.path``) is found first and used instead."""
