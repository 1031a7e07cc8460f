"""Hosted-service code ported unchanged, run by the genuine clients on a server that has
neither client installed (see ``scenarios/ported_results.py``)."""

from __future__ import annotations

from support.compat import CompatClient


def test_compute_result_imported_from_the_client_inside_the_job(client: CompatClient) -> None:
    obs = client.observe("ported_results.py")
    assert obs["pair_job"]["status"] == "success", obs["pair_job"]
    assert obs["pair_cast"] == ["Pair", 1, 2]
    blob = obs["pair_blob"]
    assert (blob["description"], blob["tags"]) == ("ported", ["ported"])
    assert blob["extra_properties"] == {"n": 1}
    # ComputeResult(None): no result at all, as documented.
    assert obs["none_job"]["status"] == "success", obs["none_job"]
    assert (obs["none_result"], obs["none_blob"]) == (None, None)
