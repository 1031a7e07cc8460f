"""``python -I -m batch_compute_runtime CONFIG``: a job process (see ``executor``)."""

from batch_compute_runtime.executor import main

main()
