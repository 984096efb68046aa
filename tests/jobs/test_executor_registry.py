"""Executors are picked by name; GPU slots are handed out whole and never twice."""
from __future__ import annotations

import sys

import pytest

from hubkit import jobs
from hubkit.errors import ConfigError, JobError, MissingExtra
from hubkit.jobs.executors import EXECUTORS, ExecutorRegistry, create_executor
from hubkit.jobs.executors.local import LocalExecutor
from hubkit.jobs.executors.ray import RayExecutor
from hubkit.jobs.executors.slots import assign, parse_slots, visible_devices
from tests.jobs.conftest import POINTS, JobHub, make_hub


def test_registry_resolves_names_and_refuses_duplicates_and_unknown_names() -> None:
    registry = ExecutorRegistry({"local": "hubkit.jobs.executors.local:LocalExecutor"})
    assert registry.resolve("local") is LocalExecutor
    with pytest.raises(ConfigError, match="already registered"):
        registry.register("local", "hubkit.jobs.executors.local:LocalExecutor")
    with pytest.raises(ConfigError, match="no executor 'slurm'; choose one of: local"):
        registry.resolve("slurm")
    assert EXECUTORS.names() == ["local", "local-as-user", "ray"]


def test_settings_pick_the_executor(job_hub: JobHub) -> None:
    assert isinstance(create_executor(store=job_hub.store, settings=job_hub.settings), LocalExecutor)
    assert isinstance(create_executor(store=job_hub.store, settings=job_hub.settings, name="ray"), RayExecutor)


def test_ray_missing_is_explained(job_hub: JobHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray.job_submission", None)  # import fails as if not installed
    executor = create_executor(store=job_hub.store, settings=job_hub.settings, name="ray")
    with pytest.raises(MissingExtra) as err:
        executor.client  # noqa: B018 - the lazy import happens here
    assert "pip install 'hubkit[ray]'" in err.value.message


def test_slots_parse_and_assign() -> None:
    assert parse_slots("") == []
    assert parse_slots(" 0, 1,3") == ["0", "1", "3"]
    for bad in ("0,0", "a", "0,-1"):
        with pytest.raises(ConfigError):
            parse_slots(bad)
    assert assign(["0", "1", "2"], [], 1) == ["0"]
    assert assign(["0", "1", "2"], ["0"], 2) == ["1", "2"]
    assert assign(["0", "1", "2"], ["0", "2"], 2) is None
    assert assign(["0"], [], 0) == []
    assert visible_devices([]) == "" and visible_devices(["1", "2"]) == "1,2"


def test_more_gpus_than_slots_is_refused_at_submit(hub_home) -> None:  # type: ignore[no-untyped-def]
    hub = make_hub(hub_home, gpu_slots="0")
    try:
        with pytest.raises(JobError, match="asks for 2 GPU"):
            jobs.submit(notebook=POINTS, parameters={}, owner="alice", resources={"gpus": 2},
                        store=hub.store, settings=hub.settings)
        assert hub.store.list_jobs() == []
    finally:
        jobs.shutdown()


def test_gpu_jobs_wait_for_a_free_slot(hub_home) -> None:  # type: ignore[no-untyped-def]
    hub = make_hub(hub_home, gpu_slots="0", max_concurrent_jobs=4)
    executor = LocalExecutor(store=hub.store, settings=hub.settings)
    holder = hub.store.create_job(owner="alice", kind="train", notebook=POINTS, parameters={},
                                  resources={"gpus": 1, "cpus": 1}, executor="local")
    waiting = hub.store.create_job(owner="alice", kind="train", notebook=POINTS, parameters={},
                                   resources={"gpus": 1, "cpus": 1}, executor="local")
    cpu_only = hub.store.create_job(owner="alice", kind="train", notebook=POINTS, parameters={},
                                    resources={"gpus": 0, "cpus": 1}, executor="local")
    from hubkit.jobs.paths import job_dir

    (job_dir(hub.settings, holder.id) / "gpus").write_text("0")
    active = [holder]
    assert not executor._can_start(waiting, active)
    assert executor._can_start(cpu_only, active)
    assert executor._can_start(waiting, [])
