"""The local executor: warm worker processes on this machine (``pool.LocalExecutor``), each a
supervisor (``supervisor``) running jobs on a warm job process (``batch_compute_runtime``)."""
