"""The guided Model Builder: goal → base model → data → preset → estimate → train → results → share.

No code is visible; each step explains itself in one line. Before Train,
the config advisor says how likely the setting is to fail, what it should gain
and what it would recommend instead; what it said is kept with the run. Train submits
the training notebook as a job; the page follows it (progress bar, status,
the loss curve as points reach the run database) until the new model is
trained and checked, then shows the results in words. Developer mode shows
every training setting (generated from ``TrainSpec``), the spec as YAML and,
once a run ended, a link that opens its executed notebook in JupyterLab. Opened with ``?fork=SLUG``
the builder starts from that model, and the new run records it as its parent.
"""
from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W

from hubkit.errors import HubkitError, ValidationError
from hubkit.hub import AppSession, ForkPlan, fork_plan, give_feedback, model_profile, publish
from hubkit.hub.building import (
    BaseChoice,
    JobProgress,
    TrainingJob,
    UploadCheck,
    base_choices,
    check_upload,
    goals,
    open_in_lab,
    save_upload,
    submit_training,
)
from hubkit.ui.cards import score_table
from hubkit.ui.figures import score_bars_figure
from hubkit.ui.html import badge, esc, link, page, plural, profile_url
from hubkit.ui.pages.devmode import DeveloperForm
from hubkit.ui.pages.model import Downloads
from hubkit.ui.widgets import (
    CHOOSE_THUMBS,
    ProgressPanel,
    figure_output,
    follow,
    html,
    message,
    run_safely,
    thumbs_picker,
)

EXAMPLE, UPLOAD = "example", "upload"
NO_RUN_NOTEBOOK = ("<p class='muted'>Once a run has ended, its executed notebook opens from here in "
                   "JupyterLab.</p>")


def _size(n: int) -> str:
    return f"{n / 1e9:.1f}B parameters" if n >= 1e9 else f"{n / 1e6:.1f}M parameters"


def base_card(b: BaseChoice, *, chosen: bool) -> str:
    standin = badge("offline stand-in", "standin") if b.is_standin else ""
    missing = "" if b.available else '<div class="muted"><i>Not installed on this hub.</i></div>'
    return (f'<div class="card{" chosen" if chosen else ""}"><div class="title">{esc(b.label)}</div>'
            f"<div>{standin}{badge(b.family)}</div><div>{esc(_size(b.parameters))} · licence {esc(b.licence)}</div>"
            f'<div class="muted">{esc(b.good_at)}</div>{missing}</div>')


def preview_table(check: UploadCheck) -> str:
    if not check.ok:
        more = f"<li>… and {plural(check.more_problems, 'more problem')}</li>" if check.more_problems else ""
        return ('<div class="error hk-upload-problems"><p>This file cannot be used yet:</p><ul>'
                + "".join(f"<li>{esc(p)}</li>" for p in check.problems) + more + "</ul></div>")
    columns = sorted({k for row in check.rows for k in row})
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(row.get(c, ''))}</td>" for c in columns) + "</tr>"
                   for row in check.rows)
    return (f'<p class="ok">{esc(check.filename)}: {plural(check.n_rows, "row")} of {esc(check.format)} data. '
            f"The first rows:</p><table class='board'><tr>{head}</tr>{body}</table>")


class BuilderPage(W.VBox):
    def __init__(self, session: AppSession, *, fork: str | None = None) -> None:
        self.session = session
        self.plan: ForkPlan | None = None
        self.upload_check: UploadCheck | None = None
        self.job: TrainingJob | None = None
        self.follower: threading.Thread | None = None
        self.result_slug: str | None = None
        self.poll_s = 1.0
        super().__init__()
        self.add_class("hk-builder")
        if not session.signed_in:
            self.children = [html('<p class="error">Sign in to build a model.</p>')]
            return
        feedback = W.HTML()
        if fork:
            self.plan = run_safely(feedback, lambda: fork_plan(store=session.store, model=fork, viewer=session.viewer))
        self._build(feedback)

    # --- layout -----------------------------------------------------------------
    def _build(self, fork_feedback: W.HTML) -> None:
        from hubkit.train import list_presets

        self.goals = goals()
        self.goal = W.ToggleButtons(options=[(g.title, g.name) for g in self.goals], value=self.goals[0].name,
                                    style={"button_width": "auto"})
        self.goal_about = W.HTML()
        self.bases = base_choices(session=self.session)
        usable = [b for b in self.bases if b.available]
        self.base_key = usable[0].key if usable else None
        self.base_cards = W.HTML()
        self.base_pick = W.Dropdown(options=[(b.label, b.key) for b in usable], value=self.base_key,
                                    description="Base model")
        self.data_source = W.ToggleButtons(options=[("Use an example dataset", EXAMPLE), ("Upload a file", UPLOAD)],
                                           value=EXAMPLE, style={"button_width": "auto"})
        self.example_rows = W.IntSlider(value=200, min=20, max=2000, step=20, description="Rows")
        self.upload = W.FileUpload(accept=".jsonl,.json,.csv,.parquet,.txt", multiple=False,
                                   description="Choose file")
        self.data_view = W.HTML()
        self.presets = list_presets()
        self.preset = W.ToggleButtons(options=[(p.title, p.name) for p in self.presets], value=self.presets[0].name)
        self.preset_about = W.HTML()
        self.name = W.Text(placeholder="A name for your model", description="Name")
        self.description = W.Textarea(placeholder="What is it for? (optional)", description="About")
        self.estimate_button = W.Button(description="Estimate time and memory", layout=W.Layout(width="auto"))
        self.estimate = W.HTML()
        self.advice = W.HTML()
        self.advice.add_class("hk-builder-advice")
        self.shown_advice: dict[str, Any] | None = None
        """The advisor's payload on screen; the run keeps exactly this one."""
        self.train_button = W.Button(description="Train", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", disabled=True)
        self.feedback = W.HTML()
        self.progress = ProgressPanel()
        self.progress.layout.display = "none"
        self.results = W.VBox()
        self.developer = W.Checkbox(value=False, description="Developer mode", indent=False)
        self.dev_form = DeveloperForm()
        self.dev_form.layout.display = "none"
        self.lab_link = html(NO_RUN_NOTEBOOK)
        self.lab_link.add_class("hk-lab-link")
        self.lab_link.layout.display = "none"

        self.goal.observe(lambda _: self._goal_changed(), names="value")
        self.base_pick.observe(lambda c: self._base_changed(c["new"]), names="value")
        self.data_source.observe(lambda _: self._data_changed(), names="value")
        self.upload.observe(lambda _: self._uploaded(), names="value")
        self.preset.observe(lambda _: self._preset_changed(), names="value")
        self.developer.observe(lambda _: self._developer_changed(), names="value")
        self.estimate_button.on_click(lambda _: self._estimate())
        self.train_button.on_click(lambda _: self._train())
        self.stop_button.on_click(lambda _: self._stop())

        fork_banner: list[W.Widget] = [fork_feedback]
        if self.plan is not None:
            fork_banner.append(html(
                f"<p>You are forking {link(profile_url(self.plan.parent.slug), self.plan.parent.name)}: the new "
                "model starts from its adapter and records it as its parent.</p>"))
            if self.plan.domain in {g.name for g in self.goals}:
                self.goal.value = self.plan.domain
            if self.plan.base_model in {b.key for b in usable}:
                self.base_pick.value = self.plan.base_model
            self.base_pick.disabled = True

        self.children = [
            html("<h1>Build a model</h1><p class='muted'>Five steps; nothing here needs code.</p>"),
            *fork_banner,
            html("<h2>1. What should it be good at?</h2>"), self.goal, self.goal_about,
            html("<h2>2. Start from a base model</h2>"), self.base_cards, self.base_pick,
            html("<h2>3. Training data</h2>"), self.data_source, self.example_rows, self.upload, self.data_view,
            html("<h2>4. How hard should it train?</h2>"), self.preset, self.preset_about,
            html("<h2>5. Name it and train</h2>"), self.name, self.description,
            W.HBox([self.estimate_button, self.train_button, self.stop_button]), self.estimate, self.advice,
            self.feedback,
            self.progress, self.results,
            html("<hr>"), self.developer, self.dev_form, self.lab_link,
        ]
        self._goal_changed()
        self._base_changed(self.base_pick.value)
        self._data_changed()
        self._preset_changed()

    # --- steps ------------------------------------------------------------------
    def _goal_changed(self) -> None:
        goal = next(g for g in self.goals if g.name == self.goal.value)
        self.goal_about.value = page(f'<p class="muted">{esc(goal.description)}</p>')
        self._data_changed()
        self._sync_developer()

    def _base_changed(self, key: str | None) -> None:
        self.base_key = key
        self.base_cards.value = page('<div class="cards">' + "".join(
            base_card(b, chosen=b.key == key) for b in self.bases) + "</div>")
        self._sync_developer()

    def _data_changed(self) -> None:
        example = self.data_source.value == EXAMPLE
        self.example_rows.layout.display = None if example else "none"
        self.upload.layout.display = "none" if example else None
        if example:
            self.data_view.value = page(f'<p class="muted">Generated {esc(self.goal.value)} examples in '
                                        "instruction/response form.</p>")
        else:
            self.data_view.value = page(preview_table(self.upload_check)) if self.upload_check else page(
                '<p class="muted">JSONL, JSON, CSV, Parquet or TXT. Rows need either a text, an instruction and '
                "a response, a prompt and a completion, or chat messages.</p>")
        self._sync_developer()

    def _uploaded(self) -> None:
        files = self.upload.value
        if not files:
            return
        item = files[0]
        self.upload_check = check_upload(data=bytes(item["content"]), filename=str(item["name"]))
        self._data_changed()

    def _preset_changed(self) -> None:
        preset = next(p for p in self.presets if p.name == self.preset.value)
        self.preset_about.value = page(f'<p class="muted">{esc(preset.trades)}</p>')
        self._sync_developer()

    def _developer_changed(self) -> None:
        shown = None if self.developer.value else "none"
        self.dev_form.layout.display = shown
        self.lab_link.layout.display = shown
        self._sync_developer()

    def _sync_developer(self) -> None:
        if getattr(self, "developer", None) is not None and self.developer.value:
            try:
                self.dev_form.load(self.guided_values())
            except HubkitError as exc:
                message(self.dev_form.errors, exc.message)

    # --- the spec ---------------------------------------------------------------
    def _dataset(self) -> dict[str, Any]:
        if self.data_source.value == EXAMPLE:
            return {"example": self.goal.value, "example_rows": self.example_rows.value}
        if self.upload_check is None or not self.upload_check.ok:
            raise ValidationError("Upload a file that passes the checks first, or use an example dataset.")
        return {"dataset_id": -1}  # replaced by the stored dataset's id when training starts

    def guided_values(self) -> dict[str, Any]:
        """The spec the guided choices make (before developer edits)."""
        from hubkit.train import load_preset

        settings = dict(self.plan.settings) if self.plan is not None else {}
        for key in ("name", "description", "visibility", "dataset"):
            settings.pop(key, None)
        settings.update(load_preset(self.preset.value).settings if self.plan is None else {})
        dataset = self._dataset()
        return {**settings, "base_model": self.base_key, "domain": self.goal.value, "dataset": dataset,
                "name": self.name.value.strip(), "description": self.description.value.strip()}

    def spec(self) -> Any:
        from hubkit.train import TrainSpec

        values = self.dev_form.values() if self.developer.value else self.guided_values()
        dataset = dict(values.get("dataset") or {})
        if dataset.get("dataset_id") == -1:
            record = save_upload(session=self.session, upload=self.upload_check)  # type: ignore[arg-type]
            dataset = {"dataset_id": record.id}
        return TrainSpec.parse({**values, "dataset": dataset}, source="your choices")

    # --- actions ----------------------------------------------------------------
    def _estimate(self) -> None:
        from hubkit.train import preflight

        self.estimate.value = page('<p class="muted">Estimating…</p>')
        spec = run_safely(self.feedback, self.spec)
        report = None if spec is None else run_safely(self.feedback, lambda: preflight(spec, store=self.session.store))
        if report is None:
            self.estimate.value = ""
            return
        warnings = "".join(f"<li>{esc(w)}</li>" for w in report.warnings)
        self.estimate.value = page(f'<p class="hk-estimate">{esc(report.sentence)}</p>'
                                   + (f"<ul>{warnings}</ul>" if warnings else ""))
        self._advise(spec)

    def _advise(self, spec: Any) -> dict[str, Any] | None:
        """Show the advisor's word on ``spec`` (risk, gain, the recommendation) and remember what was shown."""
        from hubkit.hub.advice import launch_advice
        from hubkit.ui.advice import advice_html

        launch = run_safely(self.feedback, lambda: launch_advice(spec=spec, store=self.session.store))
        if launch is None:
            self.shown_advice = None
            self.advice.value = ""
            return None
        self.shown_advice = launch.payload()
        self.advice.value = page(advice_html(self.shown_advice))
        return self.shown_advice

    def _train(self) -> None:
        spec = run_safely(self.feedback, self.spec)
        if spec is None:
            return
        parent = self.plan.parent.id if self.plan is not None else None
        advice = self._advise(spec)
        job = run_safely(self.feedback, lambda: submit_training(session=self.session, spec=spec,
                                                                parent_model_id=parent, advice=advice))
        if job is None:
            return
        self.job = job
        self.train_button.disabled = True
        self.stop_button.disabled = False
        self.progress.layout.display = None
        self.results.children = []
        self.lab_link.value = page(NO_RUN_NOTEBOOK)
        self.follower = follow(job.poll, show=self._show, on_error=self._lost, interval_s=self.poll_s)

    def _stop(self) -> None:
        if self.job is None:
            return
        self.stop_button.disabled = True
        self.progress.status.value = "Stopping…"
        threading.Thread(target=self.job.stop, name="hubkit-stop-job", daemon=True).start()

    def _show(self, progress: JobProgress) -> None:
        self.progress.show(progress)
        if progress.final:
            self._finished(progress)

    def _lost(self, text: str) -> None:
        self.progress.fail(text)
        message(self.feedback, text)
        self.train_button.disabled = False
        self.stop_button.disabled = True

    def _finished(self, progress: JobProgress) -> None:
        self.train_button.disabled = False
        self.stop_button.disabled = True
        if progress.stage == "failed":
            message(self.feedback, progress.sentence)
        if progress.slug is None:
            return
        self.result_slug = progress.slug
        url = run_safely(self.feedback, lambda: open_in_lab(session=self.session, run=progress.slug or ""))
        if url is not None:
            self.lab_link.value = page(f"<p>{link(url, 'Open this run’s notebook in JupyterLab')} "
                                       "(the notebook exactly as it ran, with its outputs).</p>")
        self.results.children = [ResultsPanel(self.session, progress.slug)]


class ResultsPanel(W.VBox):
    """What the new model learned, in words and a chart; the adapter or the complete model to take away;
    thumbs, comment, publish."""

    def __init__(self, session: AppSession, slug: str) -> None:
        self.session, self.slug = session, slug
        p = model_profile(store=session.store, model=slug, viewer=session.viewer)
        self.thumbs = thumbs_picker(None)
        self.comment = W.Textarea(placeholder="What did you notice? (optional)")
        self.send_button = W.Button(description="Send feedback")
        self.publish_button = W.Button(description="Publish", button_style="success", icon="globe")
        self.feedback = W.HTML()
        self.send_button.on_click(lambda _: self.send_feedback())
        self.publish_button.on_click(lambda _: self.publish_model())
        sentence = p.vs_base.sentence
        failure = f'<p class="error">{esc(p.run.failure_message)}</p>' if p.run.failure_message else ""
        super().__init__([
            html(f"<h2>Results</h2>{failure}<p class='sentence hk-result-sentence'>{esc(sentence)}</p>"
                 + (f"<p class='sentence'>{esc(p.vs_parent.sentence)}</p>" if p.vs_parent else "")),
            figure_output(score_bars_figure(p.scores, model_name=p.run.name)), html(score_table(p.scores)),
            html(f"<p>{link(profile_url(slug), 'Open the model page')}</p><h2>Download</h2>"),
            Downloads(session, p),
            self.thumbs, self.comment, self.send_button, self.publish_button, self.feedback,
        ])
        self.add_class("hk-results")

    def send_feedback(self) -> None:
        if self.thumbs.value is None:
            message(self.feedback, CHOOSE_THUMBS)
            return
        if run_safely(self.feedback, lambda: give_feedback(store=self.session.store, model=self.slug,
                                                           user=self.session.user, thumbs_up=self.thumbs.value,
                                                           comment=self.comment.value)) is not None:
            message(self.feedback, "Thank you: your feedback is saved.", kind="ok")

    def publish_model(self) -> None:
        if run_safely(self.feedback, lambda: publish(store=self.session.store, model=self.slug,
                                                     user=self.session.user)) is not None:
            self.feedback.value = page(f'<p class="ok">Published: everyone can find it on the hub. '
                                       f"{link(profile_url(self.slug), 'See its public page')}.</p>")


def builder_page(session: AppSession, *, fork: str | None = None) -> BuilderPage:
    return BuilderPage(session, fork=fork)
