import math

from hubkit.ui.figures import loss_curve_figure
from hubkit.ui.widgets import PLOTLY_MIME, Pager, ProgressPanel


def test_loss_curve_marks_non_finite_points_and_eval_loss():
    points = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5, "eval_loss": 1.7}, {"step": 3, "loss": "nan"},
              {"step": 4, "loss": float("inf")}]
    fig = loss_curve_figure(points)
    train, held, bad = fig.data
    assert list(train.x) == [1, 2] and list(train.y) == [2.0, 1.5]
    assert list(held.x) == [2] and list(held.y) == [1.7]
    assert list(bad.x) == [3, 4] and list(bad.y) == [1.5, 1.5]  # drawn at the last finite loss
    assert bad.text == ("loss was nan at step 3", "loss was inf at step 4")


def test_loss_curve_of_nothing():
    fig = loss_curve_figure([])
    assert len(fig.data) == 1 and list(fig.data[0].x) == []


def test_progress_panel_follows_a_run():
    panel = ProgressPanel(redraw_s=0.0)
    panel.on_status("Loading llama3-standin")
    assert panel.status.value == "Loading llama3-standin"
    panel.on_step(1, 4, {"loss": 2.5})
    panel.on_step(2, 4, {"loss": math.nan})
    assert (panel.bar.value, panel.bar.max) == (2, 4)
    assert panel.status.value == "Step 2 of 4: loss nan"
    (shown,) = panel.curve.outputs
    data = shown["data"][PLOTLY_MIME]["data"]
    assert [t["name"] for t in data] == ["training loss", "not a number"]
    panel.finish(ok=False, text="The loss stopped being a number.")
    assert panel.bar.bar_style == "danger" and panel.status.value.startswith("The loss")


def test_progress_panel_throttles_redraws():
    panel = ProgressPanel(redraw_s=3600)
    panel.on_step(1, 10, {"loss": 1.0})  # first point draws
    panel.on_step(2, 10, {"loss": 0.9})
    data = panel.curve.outputs[0]["data"][PLOTLY_MIME]["data"]
    assert len(data[0]["x"]) == 1 and len(panel.points) == 2


def test_pager():
    seen = []
    pager = Pager(seen.append)
    pager.update(page=0, has_previous=False, has_next=True, pages=3)
    assert pager.previous.disabled and pager.label.value == "page 1 of 3"
    pager.next.click()
    pager.next.click()
    pager.previous.click()
    assert seen == [1, 2, 1]
