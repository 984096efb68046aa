"""The config advisor over HTTP: a spec in, the prediction (and a recommendation) out, before launch.

The answer is the same payload the builder shows and the training notebook
keeps with the run (``hub.advice.LaunchAdvice.payload``). A spec naming an
uploaded dataset is judged only for a caller who may read that dataset.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hubkit.service.errors import ERROR_RESPONSES
from hubkit.service.routes._common import CallerDep, StoreDep

router = APIRouter(prefix="/v1/advice", tags=["advice"], responses=ERROR_RESPONSES)


class AdviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: dict[str, Any] = Field(description="A training spec, as `hubkit train --spec` and the builder take it.")
    recommend: bool = Field(True, description="Also search for the safe setting with the best predicted gain.")


@router.post("", response_model=dict[str, Any])
def advise(body: AdviceIn, store: StoreDep, caller: CallerDep) -> dict[str, Any]:
    """Failure risk and likely class, gain with an interval, other domains, duration, similar runs."""
    from hubkit.hub.advice import launch_advice
    from hubkit.train.spec import TrainSpec

    caller.require_login()
    spec = TrainSpec.parse(body.spec, source="the spec")
    if spec.dataset.dataset_id is not None:
        store.get_dataset(spec.dataset.dataset_id, viewer=caller.viewer)  # 404 unless the caller may read it
    return launch_advice(spec=spec, store=store, recommend=body.recommend).payload()
