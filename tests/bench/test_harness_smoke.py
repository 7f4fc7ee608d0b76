"""The peer-comparison harness still runs end to end on tiny sizes (it never asserts a time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3xcopy.seaweed import SeaweedUnavailableError, find_weed


@pytest.mark.bench
def test_harness_quick_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        find_weed()
    except SeaweedUnavailableError:
        pytest.skip("SeaweedFS (weed) is not installed")
    from benchmarks import harness

    # (a) single object on SeaweedFS, (c) multipart-sized and (d) many objects on the
    # model: every runner on both backends, in the time a smoke test may take (a fast
    # copy rate: single-CopyObject tools would otherwise wait 2 s on the 200 MiB copy).
    code = harness.main(
        ["--quick", "--repeat", "1", "--pause", "0", "--workloads", "a,c,d",
         "--copy-rate-mbps", "1000", "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("-quick")
    payload = json.loads((run_dir / "runs.json").read_text())
    runs = payload["runs"]
    ran = [r for r in runs if r["status"] != "skipped"]
    assert {r["tool"] for r in ran} >= {"aws", "boto3"}  # awscli and boto3 come with the tests
    failed = [(r["workload"], r["tool"], r["error"]) for r in ran if r["status"] != "ok"]
    assert failed == []
    for r in ran:
        assert r["wall_seconds"] > 0
        assert r["requests"] > 0  # counted by the model, and by SeaweedFS's metrics
    on_model = [r for r in ran if r["workload"] == "c"]
    assert all(r["lower_bound_seconds"] for r in on_model)
    on_seaweed = [r for r in ran if r["workload"] == "a"]
    assert on_seaweed and all(r["server_cpu_seconds"] > 0 for r in on_seaweed)  # weed's CPU
    skipped = {r["tool"]: r["error"] for r in runs if r["status"] == "skipped"}
    assert all("not" in why for why in skipped.values())
    summary = (run_dir / "summary.md").read_text()
    assert "### (a) one 16 MiB object (quick)" in summary
    assert "### (c) one 200 MiB object (quick)" in summary
    assert "| aws s3 cp |" in summary
    assert "| server CPU s |" in summary
    assert "### Targets (from the issue)" in summary
    assert summary in capsys.readouterr().out
    assert (run_dir / "summary.csv").read_text().startswith("workload,tool,runs,ok")
