from hubkit.errors import NotFound
from hubkit.hub.building import JobProgress
from hubkit.ui.figures import loss_curve_figure
from hubkit.ui.widgets import PLOTLY_MIME, Pager, ProgressPanel, follow


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


def look(stage: str, *, step=None, total=None, points=(), final=False, sentence="") -> JobProgress:
    return JobProgress(stage, sentence or stage, job_id=1, step=step, total_steps=total, points=tuple(points),
                       final=final)


def test_progress_panel_follows_a_job():
    panel = ProgressPanel(redraw_s=0.0)
    panel.show(look("queued", sentence="Waiting for a free place to train (job 1)."))
    assert (panel.bar.description, panel.status.value) == ("Waiting", "Waiting for a free place to train (job 1).")
    assert panel.curve.outputs == ()  # nothing to draw yet
    points = [{"step": 1, "loss": 2.5}, {"step": 2, "loss": "nan"}]
    panel.show(look("training", step=2, total=4, points=points, sentence="Step 2 of 4: loss nan"))
    assert (panel.bar.value, panel.bar.max, panel.bar.description) == (2, 4, "Training")
    assert panel.status.value == "Step 2 of 4: loss nan"
    (shown,) = panel.curve.outputs
    data = shown["data"][PLOTLY_MIME]["data"]
    assert [t["name"] for t in data] == ["training loss", "not a number"]
    panel.show(look("evaluating", step=2, total=4, points=points))
    assert panel.bar.value == panel.bar.max and panel.bar.description == "Checking"
    panel.show(look("failed", step=2, total=4, points=points, final=True, sentence="The loss stopped being a number."))
    assert panel.bar.bar_style == "danger" and panel.status.value.startswith("The loss")


def test_progress_panel_redraws_only_new_points_and_not_too_often():
    panel = ProgressPanel(redraw_s=3600)
    panel.show(look("training", step=1, total=10, points=[{"step": 1, "loss": 1.0}]))  # the first points draw
    panel.show(look("training", step=2, total=10, points=[{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.9}]))
    data = panel.curve.outputs[0]["data"][PLOTLY_MIME]["data"]
    assert len(data[0]["x"]) == 1 and len(panel.points) == 2
    panel.show(look("done", step=2, total=10, points=panel.points, final=True))  # the end always draws
    assert len(panel.curve.outputs[0]["data"][PLOTLY_MIME]["data"][0]["x"]) == 2
    assert panel.bar.bar_style == "success" and panel.bar.value == panel.bar.max


def test_follow_polls_until_the_end_and_reports_errors():
    looks = iter([look("queued"), look("training", step=1, total=2), look("done", final=True)])
    shown: list[str] = []
    follow(lambda: next(looks), show=lambda p: shown.append(p.stage), on_error=shown.append,
           interval_s=0).join(10)
    assert shown == ["queued", "training", "done"]

    def broken() -> JobProgress:
        raise NotFound("There is no job 9.")

    errors: list[str] = []
    follow(broken, show=lambda p: None, on_error=errors.append, interval_s=0).join(10)
    assert errors == ["There is no job 9."]


def test_pager():
    seen = []
    pager = Pager(seen.append)
    pager.update(page=0, has_previous=False, has_next=True, pages=3)
    assert pager.previous.disabled and pager.label.value == "page 1 of 3"
    pager.next.click()
    pager.next.click()
    pager.previous.click()
    assert seen == [1, 2, 1]
