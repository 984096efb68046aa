"""A model's profile page: what it is, how it scores, where it came from, try it, take it."""
from __future__ import annotations

from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from hubkit.errors import HubkitError
from hubkit.hub import (
    BUNDLES,
    VISIBILITY_WORDS,
    AppSession,
    BrowseQuery,
    Profile,
    browse,
    download_url,
    export_link,
    give_feedback,
    merged_offer,
    model_profile,
    set_visibility,
    ticket_url,
)
from hubkit.hub.demo import (
    DEFAULT_NEW_TOKENS,
    MAX_NEW_TOKENS,
    MAX_TEMPERATURE,
    Sampling,
    stream_generation,
)
from hubkit.hub.profile import ModelRef
from hubkit.ui import cards
from hubkit.ui.figures import (
    lineage_figure,
    loss_curve_figure,
    score_bars_figure,
    score_radar_figure,
)
from hubkit.ui.html import app_url, esc, link, page
from hubkit.ui.widgets import (
    CHOOSE_THUMBS,
    download_anchor,
    figure_bundle,
    figure_output,
    html,
    message,
    preheated,
    run_safely,
    static_html,
    thumbs_picker,
)


class DemoBox(W.VBox):
    """A prompt, a length cap, and two answers as they stream in: this model's, then its base's,
    side by side, so a visitor sees what fine-tuning changed. Greedy unless "More options" says otherwise."""

    def __init__(self, session: AppSession, slug: str, base_name: str = "its base") -> None:
        self.session, self.slug = session, slug
        self.prompt = W.Textarea(placeholder="Type a prompt, e.g. What is 3 + 4?", layout=W.Layout(width="60%"))
        self.length = W.IntSlider(value=DEFAULT_NEW_TOKENS, min=1, max=MAX_NEW_TOKENS, description="Max tokens")
        self.temperature = W.FloatSlider(value=0.0, min=0.0, max=MAX_TEMPERATURE, step=0.05,
                                         description="Temperature")
        self.top_p = W.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="Top-p")
        more = W.Accordion(children=[W.VBox([self.temperature, self.top_p, html(
            '<p class="muted">Temperature 0 always picks the likeliest word (the same prompt, the same answer). '
            "Both answers use the same random seed.</p>")])], titles=("More options",), selected_index=None)
        self.go = W.Button(description="Generate", button_style="primary")
        self.answer, self.base_answer = W.HTML(), W.HTML()
        self.answer.add_class("hk-demo-answer")
        self.base_answer.add_class("hk-demo-base")
        columns = W.HBox([W.VBox([html("<h3>This model</h3>"), self.answer], layout=W.Layout(width="50%")),
                          W.VBox([html(f"<h3>{esc(base_name)}</h3>"), self.base_answer],
                                 layout=W.Layout(width="50%"))])
        self.feedback = W.HTML()
        self.go.on_click(lambda _: self.generate())
        super().__init__([self.prompt, W.HBox([self.length, self.go]), more, columns, self.feedback])

    def _stream(self, pane: W.HTML, *, base: bool, sampling: Sampling) -> None:
        pane.remove_class("hk-done")
        pane.value = page('<p class="muted">Loading the model…</p>')
        text = ""
        for piece in stream_generation(store=self.session.store, model=self.slug, viewer=self.session.viewer,
                                       prompt=self.prompt.value, max_new_tokens=self.length.value,
                                       sampling=sampling, base=base):
            text += piece
            pane.value = page(f"<pre>{esc(text)}</pre>")
        shown = esc(text) if text.strip() else "(the model stopped without writing anything)"
        pane.value = page(f"<pre>{shown}</pre>")
        pane.add_class("hk-done")

    def generate(self) -> None:
        self.go.disabled = True
        self.base_answer.value = ""
        try:
            sampling = Sampling(temperature=self.temperature.value, top_p=self.top_p.value)
            self._stream(self.answer, base=False, sampling=sampling)
            self._stream(self.base_answer, base=True, sampling=sampling)
            message(self.feedback, "")
        except HubkitError as exc:
            self.answer.value = self.base_answer.value = ""
            message(self.feedback, exc.message)
        except Exception as exc:  # noqa: BLE001 - never leave "Loading the model…" on screen
            self.answer.value = self.base_answer.value = ""
            message(self.feedback, f"The demo could not answer: {type(exc).__name__}.")
        finally:
            self.go.disabled = False


class FeedbackBox(W.VBox):
    def __init__(self, session: AppSession, profile: Profile, on_saved: Any) -> None:
        self.session, self.slug = session, profile.run.slug
        self.summary = html(cards.feedback_block(profile.feedback))
        self.thumbs = thumbs_picker(profile.feedback.mine)
        self.comment = W.Textarea(placeholder="A comment (optional)", layout=W.Layout(width="60%"))
        self.send_button = W.Button(description="Send feedback")
        self.feedback = W.HTML()
        self.send_button.on_click(lambda _: self.save(on_saved))
        controls: list[W.Widget] = [self.thumbs, self.comment, self.send_button, self.feedback]
        if not session.signed_in:
            controls = [html('<p class="muted">Sign in to give feedback.</p>')]
        super().__init__([self.summary, *controls])

    def save(self, on_saved: Any) -> None:
        if self.thumbs.value is None:
            message(self.feedback, CHOOSE_THUMBS)
            return
        done = run_safely(self.feedback, lambda: give_feedback(
            store=self.session.store, model=self.slug, user=self.session.user, thumbs_up=self.thumbs.value,
            comment=self.comment.value))
        if done is not None:
            self.comment.value = ""
            message(self.feedback, "Thank you: your feedback is saved.", kind="ok")
            on_saved()


class Downloads(W.VBox):
    """The adapter alone or the complete model, and the model card: links the service streams, at any
    size. A private model's link carries a short-lived ticket for its owner (the browser holds no token
    for the service), asked for when the button is pressed. The owner can have the complete model made
    once; others get it only where the base's licence allows (the page only says what the hub decides)."""

    def __init__(self, session: AppSession, profile: Profile) -> None:
        self.session, self.run = session, profile.run
        self.private = profile.run.visibility.value == "private"
        self.links = W.VBox()
        self.feedback = W.HTML()
        offer = merged_offer(store=session.store, run=profile.run, viewer=session.viewer)
        kinds = [kind for kind in profile.downloads if kind != "merged" or offer.ready]
        if not kinds:
            super().__init__([html('<p class="muted">Nothing to download: training did not save an adapter.</p>')])
            return
        extra: list[W.Widget] = []
        if offer.refusal:
            extra.append(html(f'<p class="muted hk-merged-refused">{esc(offer.refusal)}</p>'))
        self.merge_button = W.Button(description=f"Prepare: {BUNDLES['merged'].label}", icon="cube",
                                     layout=W.Layout(width="auto"))
        self.merge_button.on_click(lambda _: self.prepare_merged())
        if offer.can_prepare:
            extra += [self.merge_button, html(
                '<p class="muted">The complete model is the base model with your adapter merged in: it runs '
                "without PEFT, and is as large as the base. Making it takes a while, once.</p>")]
        if not self.private:
            self.links.children = [self._anchor(kind) for kind in kinds]
            super().__init__([self.links, *extra, self.feedback])
            return
        self.buttons = W.HBox([self._button(kind) for kind in kinds])
        super().__init__([self.buttons, self.links, *extra, self.feedback])

    def _anchor(self, kind: str) -> W.HTML:
        return download_anchor(download_url(run=self.run, kind=kind), label=BUNDLES[kind].label)

    def _button(self, kind: str) -> W.Button:
        button = W.Button(description=f"Download: {BUNDLES[kind].label}", icon="download",
                          layout=W.Layout(width="auto"))
        button.on_click(lambda _, kind=kind: self.prepare(kind))
        return button

    def prepare(self, kind: str) -> None:
        url = run_safely(self.feedback, lambda: ticket_url(store=self.session.store, run=self.run, kind=kind,
                                                           viewer=self.session.viewer))
        if url is not None:
            label = f"{BUNDLES[kind].label} (link valid for a few minutes)"
            self.links.children = [*self.links.children, download_anchor(url, label=label)]

    def prepare_merged(self) -> None:
        """Merge once (in this kernel, as exports are made), archive, then link to the service's stream."""
        from hubkit.export import save_merged

        self.merge_button.disabled = True
        message(self.feedback, "Merging the adapter into the base model…", kind="muted")
        try:
            run = run_safely(self.feedback, lambda: save_merged(store=self.session.store, model=self.run.id,
                                                                viewer=self.session.viewer))
        except Exception as exc:  # noqa: BLE001 - a sentence, never a traceback, whatever went wrong
            message(self.feedback, f"The complete model could not be made: {type(exc).__name__}.")
            run = None
        if run is None:
            self.merge_button.disabled = False
            return
        self.run = run
        self.merge_button.layout.display = "none"
        if self.private:
            self.buttons.children = [*self.buttons.children, self._button("merged")]
            self.prepare("merged")
        else:
            self.links.children = [*self.links.children, self._anchor("merged")]
        message(self.feedback, "The complete model is ready to download.", kind="ok")


class TakeItElsewhere(W.VBox):
    """The owner's exports (GGUF for llama.cpp, Ollama bundles) and push to the Hugging Face Hub.

    The token is read from a password box for this push only: cleared at once, never stored or shown."""

    def __init__(self, session: AppSession, profile: Profile) -> None:
        from hubkit.export.api import FORMATS

        self.session, self.run = session, profile.run
        self.formats = FORMATS
        self.fmt = W.Dropdown(options=[(f.label, f.name) for f in FORMATS.values()], value="gguf",
                              description="Format")
        self.quant = W.Dropdown(options=list(FORMATS["gguf"].quantizations), value="f16", description="Precision")
        self.fmt.observe(lambda change: setattr(self.quant, "options", list(FORMATS[change["new"]].quantizations)),
                         names="value")
        export_button = W.Button(description="Export", icon="cube")
        export_button.on_click(lambda _: self.export())
        self.repo = W.Text(placeholder="you/your-model", description="Hub repo")
        self.token = W.Password(placeholder="hf_... (used for this push only)", description="HF token")
        push_button = W.Button(description="Push to the Hub", icon="upload")
        push_button.on_click(lambda _: self.push())
        self.status, self.links, self.feedback = W.HTML(), W.VBox(), W.HTML()
        super().__init__([W.HBox([self.fmt, self.quant, export_button]), W.HBox([self.repo, self.token, push_button]),
                          self.status, self.links, self.feedback])

    def _say(self, text: str) -> None:
        message(self.status, text, kind="muted")

    def export(self) -> None:
        from hubkit.export import export_model

        fmt, quant = self.fmt.value, self.quant.value
        self._say("Exporting with llama.cpp…")
        result = run_safely(self.feedback, lambda: export_model(
            store=self.session.store, model=self.run.id, viewer=self.session.viewer, fmt=fmt, quantization=quant,
            install=False, progress=self._say))
        self._say("")
        if result is None:
            return
        url = export_link(store=self.session.store, run=self.run, fmt=fmt, quantization=quant,
                          viewer=self.session.viewer)
        label = f"{self.formats[fmt].label}, {quant} ({result.size / 1e6:.1f} MB)"
        self.links.children = [*self.links.children, download_anchor(url, label=label)]

    def push(self) -> None:
        import tempfile
        from pathlib import Path

        from hubkit.export.push import push_model

        token, self.token.value = self.token.value, ""
        self._say("Pushing to the Hugging Face Hub…")
        with tempfile.TemporaryDirectory(prefix="hubkit-push-") as tmp:
            result = run_safely(self.feedback, lambda: push_model(
                store=self.session.store, model=self.run.id, viewer=self.session.viewer,
                repo_id=self.repo.value.strip(), work=Path(tmp), token=token or None, progress=self._say))
        self._say("")
        if result is not None:
            self.status.value = page(f'<p class="ok">Pushed: <a href="{esc(result.url)}" target="_blank">'
                                     f"{esc(result.repo_id)}</a></p>")


class OwnerControls(W.HBox):
    def __init__(self, session: AppSession, profile: Profile) -> None:
        self.session, self.slug = session, profile.run.slug
        self.visibility = W.Dropdown(options=[(k.title(), k) for k in VISIBILITY_WORDS],
                                     value=profile.run.visibility.value, description="Visible to")
        self.explain = W.Label(VISIBILITY_WORDS[profile.run.visibility.value])
        self.save = W.Button(description="Save")
        self.feedback = W.HTML()
        self.visibility.observe(lambda c: setattr(self.explain, "value", VISIBILITY_WORDS[c["new"]]), names="value")
        self.save.on_click(lambda _: self.apply())
        super().__init__([self.visibility, self.save, self.explain, self.feedback])

    def apply(self) -> None:
        done = run_safely(self.feedback, lambda: set_visibility(
            store=self.session.store, model=self.slug, user=self.session.user, visibility=self.visibility.value))
        if done is not None:
            message(self.feedback, f"Saved: {VISIBILITY_WORDS[done.visibility.value]}", kind="ok")


class ModelPage(W.VBox):
    def __init__(self, session: AppSession, slug: str | None) -> None:
        self.session, self.slug = session, slug
        super().__init__()
        self.add_class("hk-model")
        self.render()

    def render(self) -> None:
        if not self.slug:
            self.children = [html('<p class="error">No model was named: open a model from the hub.</p>')]
            return
        try:
            p = model_profile(store=self.session.store, model=self.slug, viewer=self.session.viewer)
        except HubkitError as exc:
            self.children = [html(f'<p class="error">{esc(exc.message)}</p><p>{link("hub.ipynb", "Back to the hub")}</p>')]
            return
        figures = profile_figures(p)
        fork = (f"<p>{link(app_url('builder', fork=p.run.slug), 'Fork this model')}: start from it with your "
                "own data; the new model records this one as its parent.</p>"
                if self.session.signed_in else '<p class="muted">Sign in to fork this model.</p>')
        try_it = "" if "adapter" in p.downloads else '<p class="muted">There is no trained adapter to try.</p>'
        parts: list[W.Widget] = [static_html(cards.profile_header(p))]
        if p.is_owner:
            parts.append(OwnerControls(self.session, p))
        # static blocks are merged into few HTML widgets: fewer widget models, faster first render
        parts.append(static_html("<h2>Scores</h2>"))
        if "scores" in figures:
            parts.append(W.HBox([figure_output(figures["scores"]), figure_output(figures["radar"])]))
        parts += [
            static_html(cards.score_table(p.scores) + "<h2>Changes outside its own domain</h2>"
                 + cards.flags_list(p.flags) + "<h2>Try it</h2>" + try_it),
            *([DemoBox(self.session, p.run.slug, base_name=f"Its base, {p.run.base_model_key}")]
              if not try_it else []),
            static_html("<h2>Training</h2>" + (f'<p class="hk-prediction">{esc(p.prediction)}</p>' if p.prediction
                                                else "")), figure_output(figures["loss"]),
            static_html("<h2>Lineage</h2>"), figure_output(figures["lineage"]),
            static_html(cards.lineage_links(ModelRef.of(p.run), p.lineage) + fork + "<h2>Dataset</h2>"
                 + cards.dataset_card(p.dataset) + "<h2>Configuration</h2>" + cards.config_block(p.config)
                 + "<h2>Download</h2>"),
            Downloads(self.session, p),
            *([static_html("<h2>Take it elsewhere</h2><p>A GGUF file for llama.cpp or LM Studio, an Ollama "
                           "bundle, or your model on the Hugging Face Hub with its scores in the card.</p>"),
               TakeItElsewhere(self.session, p)] if p.is_owner and "adapter" in p.downloads else []),
            static_html("<h2>Feedback</h2>"), FeedbackBox(self.session, p, on_saved=self.render),
        ]
        self.children = parts


def profile_figures(p: Profile) -> dict[str, go.Figure]:
    """The figures a profile shows: scores and radar only once something is scored."""
    figures = {}
    if any(s.scored for s in p.scores):
        figures["scores"] = score_bars_figure(p.scores, model_name=p.run.name)
        figures["radar"] = score_radar_figure(p.scores, model_name=p.run.name)
    figures["loss"] = loss_curve_figure(p.curve)
    figures["lineage"] = lineage_figure(ModelRef.of(p.run), p.lineage)
    return figures


def model_page(session: AppSession, slug: str | None) -> ModelPage:
    return ModelPage(session, slug)


def prepare_model_page(session: AppSession) -> None:
    """In a preheated kernel, build the newest public model's profile and figures once.

    The first profile a Python process builds pays for plotly's trace validators and
    the store's query compilation (0.3 s against 0.04 s after); a preheated kernel pays
    it while it waits for its visitor. No widgets are made, so the page stays the
    visitor's alone. Elsewhere (a kernel started for the request) this does nothing.
    """
    if not preheated():
        return
    newest = browse(store=session.store, viewer=session.viewer, query=BrowseQuery(page_size=1)).items
    if not newest:
        return
    try:
        p = model_profile(store=session.store, model=newest[0].slug, viewer=session.viewer)
    except HubkitError:
        return  # deleted or hidden since it was listed: nothing to learn from it
    for fig in profile_figures(p).values():
        figure_bundle(fig)
