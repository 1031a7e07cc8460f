"""Batch Compute SDK: upload Python functions, run them as jobs, collect their results.

``import batch_compute``; point it at a server with ``BATCH_COMPUTE_URL`` (the origin) and
``BATCH_COMPUTE_TOKEN``, or build a ``ComputeClient`` and pass it around.
"""

from ._client import ComputeClient
from ._document import DocumentState
from ._errors import (
    ApiError,
    BadRequestError,
    BoundGlobalError,
    BuildFailedError,
    ClientError,
    ComputeError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    GoneError,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    UnauthorizedError,
    ValidationError,
    WaitTimeoutError,
)
from ._filters import Attribute, Expression, Sort
from ._function import Function, FunctionStatus, JobBulkCreateError, JobBulkCreateResult
from ._job import Job, JobStatistics, JobStatus
from ._results import ComputeResult, ResultBlob, Serializable
from ._retry import Retry
from ._search import Collection, JobSearch, Search
from ._units import Cpus, Memory

__all__ = [
    "ApiError",
    "Attribute",
    "BadRequestError",
    "BoundGlobalError",
    "BuildFailedError",
    "ClientError",
    "Collection",
    "ComputeClient",
    "ComputeError",
    "ComputeResult",
    "ConfigurationError",
    "ConflictError",
    "Cpus",
    "DocumentState",
    "Expression",
    "ForbiddenError",
    "Function",
    "FunctionStatus",
    "GoneError",
    "Job",
    "JobBulkCreateError",
    "JobBulkCreateResult",
    "JobSearch",
    "JobStatistics",
    "JobStatus",
    "Memory",
    "MethodNotAllowedError",
    "NotFoundError",
    "RateLimitError",
    "ResultBlob",
    "Retry",
    "Search",
    "Serializable",
    "ServerError",
    "Sort",
    "TransportError",
    "UnauthorizedError",
    "ValidationError",
    "WaitTimeoutError",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type):
        _obj.__module__ = "batch_compute"
del _name, _obj
