"""``hubkit jobs | rerun | templates``: notebook jobs from the terminal."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from hubkit.cli._table import render_table
from hubkit.config import load_settings
from hubkit.store import LocalStore
from hubkit.store.records import JobRecord


def _store() -> LocalStore:
    return LocalStore(load_settings().database_url)


def _owner(args: argparse.Namespace, store: LocalStore) -> str:
    owner = args.owner or getpass.getuser()
    store.ensure_user(owner, role="developer")
    return owner


class _Follow:
    """A tqdm bar over the loss points of the run a job reports, with its state as the label."""

    def __init__(self, store: LocalStore) -> None:
        from tqdm import tqdm

        self.store = store
        self.bar = tqdm(unit="point", desc="queued", file=sys.stderr)

    def __call__(self, job: JobRecord) -> None:
        self.bar.set_description(job.state.value)
        if job.model_id is not None:
            points = self.store.loss_points(job.model_id)
            self.bar.update(len(points) - self.bar.n)
            if points and points[-1].get("loss") is not None:
                self.bar.set_postfix(loss=points[-1]["loss"], refresh=False)

    def close(self) -> None:
        self.bar.close()


def _follow(job: JobRecord, store: LocalStore, detach: bool) -> int:
    from hubkit import jobs

    print(f"job {job.id} queued ({job.executor} executor); logs: hubkit jobs logs {job.id}")
    if detach:
        return 0
    follow = _Follow(store)
    try:
        job = jobs.wait(job.id, on_update=follow, store=store)
    finally:
        follow.close()
    runs = store.list_notebook_runs(job_id=job.id)
    print(f"job {job.id} {job.state.value}" + (f": {job.error}" if job.error else ""))
    for nb_run in runs:
        print(f"  run {nb_run.model_id if nb_run.model_id is not None else '-'}  notebook archived as "
              f"{nb_run.archive_hash}")
    return 0 if job.state.value == "succeeded" else 1


def _submit(args: argparse.Namespace) -> int:
    from hubkit import jobs
    from hubkit.jobs.parameters import parse_cli_value

    store = _store()
    params: dict[str, Any] = {key: parse_cli_value(value) for key, value in args.param or []}
    resources = {"cpus": args.cpus, "gpus": args.gpus}
    job = jobs.submit(notebook=args.notebook, parameters=params, owner=_owner(args, store),
                      resources=resources, store=store)
    return _follow(job, store, args.detach)


def _progress(job: JobRecord, store: LocalStore) -> str:
    """``step 12/40, loss 1.234`` for a running job whose run has logged points."""
    if job.state.value != "running" or job.model_id is None:
        return ""
    from hubkit import jobs

    st = jobs.status(job.id, store=store)
    if st.step is None:
        return "starting"
    loss = f", loss {st.loss:.4g}" if isinstance(st.loss, float) else ""
    return f"step {st.step}" + (f"/{st.total_steps}" if st.total_steps else "") + loss


def _list(args: argparse.Namespace) -> int:
    store = _store()
    rows = [(j.id, j.state.value, j.notebook, j.kind, j.executor, j.model_id or "", _progress(j, store),
             j.created_at.strftime("%Y-%m-%d %H:%M:%S"), (j.error or "").splitlines()[0] if j.error else "")
            for j in store.list_jobs(owner=args.owner, states=args.state, limit=args.limit)]
    print(render_table(["id", "state", "notebook", "kind", "executor", "run", "progress", "created", "error"],
                       rows))
    return 0


def _logs(args: argparse.Namespace) -> int:
    from hubkit import jobs

    sys.stdout.write(jobs.logs(args.job))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from hubkit import jobs

    job = jobs.cancel(args.job, grace_s=args.grace)
    print(f"job {job.id} {job.state.value}")
    return 0


def _recover(args: argparse.Namespace) -> int:
    from hubkit import jobs

    done = jobs.recover()
    print(f"lost: {done.lost or 'none'}; failed: {done.failed or 'none'}; started again: {done.started or 'none'}")
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from hubkit import jobs

    store = _store()
    job = jobs.rerun(args.run, owner=_owner(args, store), store=store)
    return _follow(job, store, args.detach)


def _templates_list(args: argparse.Namespace) -> int:
    from hubkit.jobs.templates import list_templates

    rows = [(t.name, t.version, t.kind, t.origin, ", ".join(t.parameters), t.description)
            for t in list_templates()]
    print(render_table(["name", "version", "kind", "origin", "parameters", "description"], rows, max_width=60))
    return 0


def _templates_publish(args: argparse.Namespace) -> int:
    from hubkit.jobs.templates import publish

    store = _store()
    follow = _Follow(store)
    try:
        info = publish(Path(args.file), owner=_owner(args, store), store=store, on_update=follow)
    finally:
        follow.close()
    print(f"published {info.name} {info.version}; run it with: hubkit jobs submit template:{info.name}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    jobs_p = sub.add_parser("jobs", help="run notebooks as recorded jobs")
    jsub = jobs_p.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    p = jsub.add_parser("submit", help="run a notebook with parameters as a job")
    p.add_argument("notebook", help="'train', 'evaluate', 'template:<name>' or a path to an .ipynb file")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter (YAML value: 3, 0.5, true, text); repeat for more")
    p.add_argument("--owner", help="who the job and its runs belong to (default: your user name)")
    p.add_argument("--cpus", type=float, default=1.0, help="CPU cores the job needs (default 1)")
    p.add_argument("--gpus", type=int, default=0, help="whole GPUs the job needs (default 0)")
    p.add_argument("--detach", action="store_true", help="return once queued instead of following it")
    p.set_defaults(func=_submit)

    p = jsub.add_parser("list", help="list jobs, newest first")
    p.add_argument("--owner")
    p.add_argument("--state", action="append", choices=["queued", "running", "succeeded", "failed",
                                                         "cancelled", "lost"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_list)

    p = jsub.add_parser("logs", help="print a job's log")
    p.add_argument("job", type=int)
    p.set_defaults(func=_logs)

    p = jsub.add_parser("cancel", help="stop a job (its training run ends as partial)")
    p.add_argument("job", type=int)
    p.add_argument("--grace", type=float, default=15.0, help="seconds to finish cleanly before it is killed")
    p.set_defaults(func=_cancel)

    p = jsub.add_parser("recover", help="after a restart: reap silent jobs and start queued ones")
    p.set_defaults(func=_recover)

    p = sub.add_parser("rerun", help="run the notebook that made a run again, with the same parameters")
    p.add_argument("run", type=int, help="the run id")
    p.add_argument("--owner", help="who the new run belongs to (default: your user name)")
    p.add_argument("--detach", action="store_true", help="return once queued instead of following it")
    p.set_defaults(func=_rerun)

    tpl = sub.add_parser("templates", help="the educator template gallery")
    tsub = tpl.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    p = tsub.add_parser("list", help="list templates")
    p.set_defaults(func=_templates_list)
    p = tsub.add_parser("publish", help="check a template (parameters cell, clean run) and add it")
    p.add_argument("file", help="the template notebook")
    p.add_argument("--owner", help="who publishes it (default: your user name)")
    p.set_defaults(func=_templates_publish)
