"""The unmodified earthdaily-earthone 6.2.0 client on functions that really run.

The smaller core flow (``scenarios/execution_smoke.py``), configured only by ``EARTHONE_*``
environment variables with a token carrying the earthone ``userid`` claim, which is also the
result namespace both sides derive.
"""

from __future__ import annotations

import re

from support.compat import CompatClient

__all__ = ["test_core_flow"]

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d (?P<text>.*)$")


def test_core_flow(earthone_client: CompatClient, earthone_userid: str) -> None:
    obs = earthone_client.observe("execution_smoke.py")
    assert obs["_flavor"] == "earthone"
    function = obs["function"]
    assert function["namespace"] == earthone_userid
    assert function["owner"] == f"user:{earthone_userid}"

    job = obs["job"]
    assert job["status"] == "success", job
    assert (job["exit_code"], job["execution_count"], job["error_reason"]) == (0, 1, None)
    assert job["last_completion_date_aware"] is True
    assert job["statistics"] is not None
    assert obs["result"] == "Hello, world! (function)"

    blob = obs["blob"]
    assert blob["id"] == f"compute/{earthone_userid}/{function['id']}/{job['id']}"
    assert blob["namespace"] == earthone_userid
    assert blob["description"] == "greeting for world"
    assert blob["extra_properties"] == {"length": 5}
    assert blob["tags"] == ["greeting"]
    assert blob["geometry_type"] == "Polygon"
    assert blob["geometry"]["coordinates"] == [
        [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 11.0], [10.0, 10.0]]
    ]
    assert blob["expires"] is None

    assert obs["log"] == "greeting world"
    match = LOG_LINE.match(obs["log_stamped"])
    assert match is not None and match.group("text") == "greeting world"

    assert obs["map_is_success"] is True
    statistics = obs["job_statistics"]
    assert statistics["success"] == 4
    assert all(statistics.get(key, 0) == 0 for key in ("pending", "running", "cancel", "canceling"))
    assert obs["map_results"] == [
        "Hello, a? (function)",
        "Hello, b! (job)",
        "Hello, c. (function)",
    ]
    assert obs["map_tags"] == [["smoke"]] * 3
    assert obs["results_sorted"] == sorted([obs["result"], *obs["map_results"]])

    # earthone: .like() is case-sensitive "like", .ilike() is "ilike".
    assert obs["like_exact_case"] == 1
    assert obs["like_other_case"] == 0
    assert obs["ilike_other_case"] == 1
    assert obs["job_tag_count"] == 3
    assert obs["function_deleted"] is True
