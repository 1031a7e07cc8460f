"""The contract's ``x-bearerInfoFunc`` lives here, under the name the spec gives it."""

from .api._context import bearer_info

__all__ = ["bearer_info"]
