"""``Term``: which holder of the scheduler lease a server is, for what outlives holders.

Dask workers outlive the server that schedules, so they must tell the server that holds the
lease now from one that held it before and names itself late (it was stopped, or cut off,
after it took the lease). A term says so: the later of two holders of one lease has the
greater ``number``. Terms of different ``source``\\ s (another PostgreSQL cluster behind the
same blob store after a dump and restore, or a server with no lease, whose source is its own)
are not ordered: then the one named last wins, as it must when no lease is shared.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Term"]


class Term(NamedTuple):
    #: What hands the numbers out: ``postgresql:<system identifier>`` for a lease.
    source: str
    #: Greater for every later holder of that source's lease.
    number: int

    def precedes(self, other: Term) -> bool:
        """Whether this term's holder is known to have come before ``other``'s."""
        return self.source == other.source and self.number < other.number
