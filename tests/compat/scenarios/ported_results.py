"""Code ported from the hosted service, unchanged: the function imports ``ComputeResult`` and
``Serializable`` from the client it was written for, inside its body.

The hosted images had the client preinstalled; this server's environment does not, and the
job gets the server's stand-ins under the same names. The genuine client reads the results
back: a Serializable value through ``cast_type``, the blob attributes, and no result at all
for ``ComputeResult(None)``.
"""

from __future__ import annotations

import json
from typing import Any

from _harness import Sdk, blob_fields, execution_fields, run_scenario, unique_name

__all__ = ["Pair", "main", "ported"]

WAIT = {"timeout": 60, "interval": 0.2}


def ported(n, flavor):
    import json

    if flavor == "descarteslabs":
        from descarteslabs.compute import ComputeResult, Serializable
    else:
        from earthdaily.earthone.compute import ComputeResult, Serializable

    class Pair(Serializable):
        def __init__(self, a, b):
            self.a, self.b = a, b

        def serialize(self):
            return json.dumps([self.a, self.b]).encode()

    if n == 0:
        return ComputeResult(None)
    return ComputeResult(
        Pair(n, n + 1), description="ported", tags=["ported"], extra_properties={"n": n}
    )


class Pair:
    """The client-side ``cast_type``."""

    def __init__(self, a: int, b: int) -> None:
        self.a, self.b = a, b

    @classmethod
    def deserialize(cls, data: bytes) -> Pair:
        return cls(*json.loads(data))


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    fn = sdk.Function(ported, name=unique_name("ported"), image="python3.11:latest", cpus=0.25)
    fn.save()
    pair_job, none_job = fn(1, sdk.flavor), fn(0, sdk.flavor)
    fn.wait_for_completion(**WAIT)
    for name, job in (("pair", pair_job), ("none", none_job)):
        job.refresh()
        obs[f"{name}_job"] = execution_fields(job)
        obs[f"{name}_blob"] = blob_fields(job.result_blob())
    cast = pair_job.result(cast_type=Pair)
    obs["pair_cast"] = [type(cast).__name__, cast.a, cast.b]
    obs["none_result"] = none_job.result()


if __name__ == "__main__":
    run_scenario(main)
