import pytest

from hubkit.errors import NotFound, PermissionDenied
from hubkit.hub import fork_plan, give_feedback, model_profile, publish, set_visibility
from hubkit.store import ANONYMOUS


def test_publish_only_by_owner(hub_store, world):
    with pytest.raises(NotFound):  # bob's private model does not exist for alice
        publish(store=hub_store, model=world.private.slug, user="alice")
    with pytest.raises(PermissionDenied):
        publish(store=hub_store, model=world.private.slug, user=None)
    with pytest.raises(PermissionDenied):
        set_visibility(store=hub_store, model=world.math_model.slug, user="bob", visibility="private")
    run = publish(store=hub_store, model=world.private.slug, user="bob")
    assert run.visibility.value == "public"
    assert model_profile(store=hub_store, model=world.private.slug, viewer=ANONYMOUS).run.name == "Bob's secret"
    assert [e.kind for e in hub_store.list_events(run.id)][-1] == "publish"


def test_feedback_replaces_and_needs_a_user(hub_store, world):
    with pytest.raises(PermissionDenied):
        give_feedback(store=hub_store, model=world.fork.slug, user=None, thumbs_up=True)
    give_feedback(store=hub_store, model=world.fork.slug, user="alice", thumbs_up=True, comment="  ")
    give_feedback(store=hub_store, model=world.fork.slug, user="alice", thumbs_up=False, comment="Meh")
    fb = model_profile(store=hub_store, model=world.fork.slug, viewer="alice").feedback
    assert (fb.up, fb.down, fb.mine) == (0, 1, False)
    assert [c.text for c in fb.comments] == ["Meh"]


def test_fork_plan_starts_from_the_opened_model(hub_store, world):
    plan = fork_plan(store=hub_store, model=world.math_model.slug, viewer="bob")
    assert (plan.base_model, plan.domain, plan.parent.id) == ("llama3-standin", "math", world.math_model.id)
    assert plan.settings["lora_r"] == 16
    with pytest.raises(NotFound):
        fork_plan(store=hub_store, model=world.private.slug, viewer="alice")
