"""The scheduler: claims pending jobs from the store, runs them on an executor, records their
starts and outcomes (``rounds``), and recovers after a crash with the start ledger (``ledger``)."""
