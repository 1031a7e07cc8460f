"""Searches through the genuine clients: every filter operator, sorts, limits, paging, counts.

``scenarios/search_queries.py`` builds three functions and seven jobs for a fresh user, so every
answer is exact. Runs once per client.
"""

from __future__ import annotations

from support.compat import CompatClient

__all__ = ["test_filters_sorts_limits_paging_and_counts"]


def test_filters_sorts_limits_paging_and_counts(client: CompatClient, flavor: str) -> None:
    obs = client.observe("search_queries.py")
    assert obs["beta_status"] == "stopped"  # auto_start=False

    functions = obs["functions"]
    expected = {
        "eq": ["alpha"],
        "ne": ["beta", "gamma"],
        "lt": ["alpha"],
        "lte": ["alpha", "beta"],
        "gt": ["gamma"],
        "gte": ["gamma", "beta"],
        "in_": ["alpha", "gamma"],
        "any_of": ["beta"],
        "isnull": [],
        "isnotnull": ["alpha", "beta", "gamma"],
        "prefix": ["alpha", "beta"],  # case-sensitive: gamma's name is lower case
        "enabled_false": ["gamma"],
        "or": ["gamma", "alpha"],
        "and": ["alpha", "beta"],
        "sort_name_desc": ["gamma", "beta", "alpha"],
        "sort_two_keys": ["gamma", "beta", "alpha"],  # enabled false first, then memory desc
        "limit": ["alpha", "beta"],
        "namespace": ["alpha", "beta", "gamma"],
        "owner": ["alpha"],
        "image": ["alpha"],
    }
    if flavor == "earthone":  # like is case-sensitive; ilike is not
        expected["like"] = ["alpha", "beta"]
        expected["ilike"] = ["alpha", "beta", "gamma"]
    else:  # 3.2.2's like() is ilike on the wire
        expected["like"] = ["alpha", "beta", "gamma"]
    assert functions == expected
    assert obs["function_counts"] == {"all": 3, "limited": 3, "stopped": 1}
    assert obs["collect"] == ["Collection", 3]

    assert obs["jobs"] == {
        "status_eq": ["x5"],
        "status_ne": ["x5"],
        "exit_code_gt": ["x5"],
        "execution_count_gte": 6,
        "runtime_lt": 6,
        "tags_eq": ["x0", "x2", "x4"],
        "tags_ne": ["x1", "x3", "x5"],
        "tags_in": ["x1", "x3", "x5"],
        "tags_isnull": ["x7"],
        "tags_prefix": 3,
        "last_completion_isnull": ["x7"],
        "runtime_isnotnull": 6,
        "created_after": 7,
        "id_eq": ["x7"],
        "function_in": ["x7"],
        "sort_desc": ["x5", "x3", "x1"],
        "limit": 4,
        "fn_jobs": ["x0", "x1", "x2", "x3", "x4", "x5"],
    }
    # [results, GET requests]: several pages were really fetched.
    assert obs["paging_search"] == [6, 3]
    assert obs["paging_list"] == [7, 3]
    assert obs["paging_limit"] == [5, 3]
    assert obs["paging_functions"] == [3, 3]
    assert obs["paging_sorted_by_id"] is True
    assert obs["job_counts"] == {"all": 7, "alpha": 6, "alpha_limited": 6, "success": 5}
