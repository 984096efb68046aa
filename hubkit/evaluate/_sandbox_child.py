"""The first code that runs inside a sandbox process, before the untrusted program.

This file is executed as ``python -I -S -c <this source>`` (isolated mode, no
site-packages), never imported by hubkit itself, so it may use the standard
library only. In order it: sets resource limits, drops root privileges to
``nobody`` when asked, installs an audit hook that refuses network, process
creation, native-code loading and writes outside the working directory, then
runs ``program.py`` from the working directory. Exit status 0 means the program
ran to the end; anything it raises (``SystemExit`` included) is a failure.
"""
import os
import resource
import sys
import traceback

NOBODY = 65534
BLOCKED_PREFIXES = (
    "socket.", "subprocess.", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
    "os.exec", "os.system", "os.kill", "os.killpg", "os.startfile", "pty.", "ctypes.",
    "urllib.Request", "http.client.", "ftplib.", "smtplib.", "poplib.", "imaplib.",
    "nntplib.", "telnetlib.", "webbrowser.", "sys.remote_exec", "_posixsubprocess.",
)
BLOCKED_MODULES = {"ctypes", "_ctypes", "_posixsubprocess", "cffi", "_cffi_backend"}
# Events whose path arguments must stay inside the working directory.
PATH_EVENTS = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod",
    "os.chown", "os.utime", "os.truncate", "os.chflags", "os.lchflags", "os.mkfifo",
    "os.mknod", "os.setxattr", "os.removexattr", "shutil.rmtree", "shutil.copyfile",
    "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move", "shutil.chown",
    "tempfile.mkstemp", "tempfile.mkdtemp",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class SandboxViolation(PermissionError):
    pass


def set_limits(memory_bytes, cpu_seconds, max_processes, max_file_bytes, max_open_files):
    for which, value in (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_NPROC, max_processes),
        (resource.RLIMIT_FSIZE, max_file_bytes),
        (resource.RLIMIT_NOFILE, max_open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def drop_privileges():
    """As root, become ``nobody``: RLIMIT_NPROC then applies and root-owned files are read-only."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def make_guard(root):
    prefix = root.rstrip(os.sep) + os.sep

    def inside(path):
        if isinstance(path, int):
            return True  # an already-open descriptor; its opening was checked
        try:
            resolved = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return resolved == root or resolved.startswith(prefix)

    def deny(event):
        raise SandboxViolation(f"hubkit sandbox: {event} is not allowed")

    def guard(event, args):
        if event == "open":
            path, mode, flags = args
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITE_FLAGS)
            if writing and not inside(path):
                deny(f"writing {path!r}")
        elif event == "import":
            if args[0] in BLOCKED_MODULES or args[0].split(".")[0] in BLOCKED_MODULES:
                deny(f"importing {args[0]}")
        elif event.startswith(BLOCKED_PREFIXES):
            deny(event)
        elif event in PATH_EVENTS:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not inside(arg):
                    deny(f"{event} on {arg!r}")

    return guard


def main(argv):
    memory, cpu, nproc, fsize, nofile, drop = (int(a) for a in argv[1:7])
    root = os.path.realpath(os.getcwd())
    with open("program.py", encoding="utf-8") as fh:
        source = fh.read()
    set_limits(memory, cpu, nproc, fsize, nofile)
    if drop:
        drop_privileges()
    sys.addaudithook(make_guard(root))
    try:
        code = compile(source, "program.py", "exec")
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    except BaseException:  # noqa: BLE001 - every way out of the program counts as failure
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
