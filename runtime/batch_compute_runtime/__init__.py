"""What runs inside a job's process: the warm job loop, result serialisation, log-friendly
output, resource limits, and the frames it trades with its supervisor.

It runs on the function's own interpreter, which may be any Python from 3.8 to 3.13 in an
environment that has none of the server's dependencies, so it uses the standard library only.
Start it with ``python -I -m batch_compute_runtime CONFIG`` (see ``frames.ExecutorConfig``).
"""

__version__ = "1"
