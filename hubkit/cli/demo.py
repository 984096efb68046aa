"""``hubkit seed`` and ``hubkit demo``: a platform with real content, and the hub.

``demo`` starts the hub first, so the first page is up in seconds, then seeds
the example models into it; each appears on the hub when it is trained and
scored, and the hub page says how far seeding has got. The terminal shows the
addresses and one line per model; the libraries' progress bars and warnings
go to ``$HUBKIT_HOME/logs/seeding.log``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from hubkit.cli.serve import stop_on_signals
from hubkit.config import load_settings


def _seed(args: argparse.Namespace) -> int:
    from hubkit.seed import EXAMPLES, seed

    started = time.monotonic()
    with tqdm(total=len(EXAMPLES), desc="seeding", unit="model") as bar:
        def progress(text: str) -> None:
            bar.write(text)
            if text.startswith("["):
                bar.update(1)

        report = seed(progress=progress, evaluate=not args.no_eval)
        bar.update(len(report.skipped))
    print(f"Seeded {len(report.trained)} example runs ({len(report.skipped)} already there) "
          f"in {time.monotonic() - started:.0f} s.")
    return 0


@contextmanager
def libraries_to_log(path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout and stderr (the libraries' progress bars and
    warnings) to ``path``; yields a stream that still reaches the terminal."""
    import datasets
    import transformers

    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    saved = os.dup(1), os.dup(2)
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    with open(path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def _demo(args: argparse.Namespace) -> int:
    from hubkit.db import upgrade
    from hubkit.seed import EXAMPLES, USERS, seed
    from hubkit.service.hub_process import (
        HubProcess,
        admin_password,
        demo_users,
        hub_environment,
        sign_up,
    )

    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    env = hub_environment({"HUBKIT_HOME": str(settings.home.resolve())})
    admin = env.get("HUBKIT_ADMIN_USER", "admin")
    password = admin_password(settings.home.resolve())
    log_path = settings.home / "logs" / "seeding.log"
    stop_on_signals()
    started = time.monotonic()
    with HubProcess(env) as hub:
        sign_up(hub.url, admin, password)
        print(f"AI Model Hub is running at {hub.url}/ (up in {time.monotonic() - started:.0f} s)", flush=True)
        print(f"Admin login: {admin} / {password}", flush=True)
        users = {name: role for name, role in USERS.items() if name != admin}
        shared = demo_users(hub.url, settings.home.resolve(), admin=admin, admin_secret=password, users=users)
        print(f"Demo logins (approved): {', '.join(users)} / {shared}", flush=True)
        print(f"New sign-ups wait for approval: log in as {admin} and approve them at {hub.url}/hub/authorize",
              flush=True)
        print(f"Public pages (no login): {hub.url}/services/public/", flush=True)
        print(f"Seeding {len(EXAMPLES)} example models; each appears on the hub when it is ready "
              f"(details in {log_path}).", flush=True)
        try:
            with libraries_to_log(log_path) as terminal:
                report = seed(evaluate=not args.no_eval, progress=lambda text: print(text, flush=True),
                              on_model=lambda line: print(line, file=terminal, flush=True))
            print(f"Seeding finished in {time.monotonic() - started:.0f} s ({len(report.trained)} trained, "
                  f"{len(report.skipped)} already there).", flush=True)
            print(f"Run database: {settings.database_url}  (Python: import hubkit.research as r; r.runs())",
                  flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            return hub.wait()
        except KeyboardInterrupt:
            return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seed", help="train and evaluate the example models (idempotent)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluations (quicker, emptier pages)")
    p.set_defaults(func=_seed)
    p = sub.add_parser("demo", help="start the hub on http://127.0.0.1:8000, then seed the example models into it")
    p.add_argument("--no-eval", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_demo)
