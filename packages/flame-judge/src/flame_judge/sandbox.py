"""Run untrusted Python (a model's code and a benchmark's tests) with a guard, for `flame eval rerank`.

What the guard does, in the child process:
- a fresh session and process group, killed as a whole (SIGKILL) on timeout and after every run, so
  nothing it started outlives it;
- an empty environment (no secrets), `python -I -S` (no user site, no site-packages), a fresh
  temporary working directory, deleted afterwards;
- `resource` limits: address space, CPU seconds, size of any file written (stdout and stderr go to
  a file, so output is capped too: past the cap the process is killed), open files, no core dumps,
  and no new processes (RLIMIT_NPROC; the kernel does not enforce it for root);
- where the kernel allows it, a new user and network namespace: no network interface but a down
  loopback, so no connection can be made;
- an audit hook (PEP 578, cannot be removed from Python) that refuses writes and file-system
  changes outside the working directory, reads outside the standard library and the working
  directory, new processes, signals, sockets, and loading native code (ctypes);
- a reliability guard that removes destructive functions (os.system, os.remove, shutil.rmtree,
  subprocess.Popen, ...), in the spirit of OpenAI human-eval's `reliability_guard`;
- success needs exit status 0 *and* a token that only a run reaching the end prints, so a candidate
  that calls `sys.exit(0)` or `os._exit(0)` before the tests does not pass.

What it does not protect against: this is a reliability guard for model-written code, not a security
boundary. Code that corrupts the interpreter's memory (there are known ways from pure Python) can
undo the hook and the guard and then act with the user's rights; it can read the token from memory;
as root, RLIMIT_NPROC is not enforced; without user namespaces the network stays reachable through
native code. Run code from people you do not trust in a container or VM with no credentials.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # wall-clock seconds
    memory_bytes: int = 1024 * MiB  # address space
    file_bytes: int = 4 * MiB  # any file written, stdout and stderr included
    processes: int | None = 0  # RLIMIT_NPROC for the child; None leaves it (tests of the group kill)
    open_files: int = 64
    guard: bool = True  # the audit hook and the reliability guard


@dataclass(frozen=True)
class Outcome:
    passed: bool
    returncode: int | None  # None: killed on timeout
    timed_out: bool
    output: str  # the last few KB of stdout and stderr together
    output_bytes: int  # how much it wrote to stdout and stderr (at most Limits.file_bytes)
    network_isolated: bool  # whether the child got its own (empty) network namespace


# The child's first code. It reads the token from stdin before any candidate code runs, sets the
# limits, isolates the network, installs the audit hook and the guard, then runs the program.
_BOOTSTRAP = r"""
import os, resource, sys


def _main():
    token = sys.stdin.readline().strip()  # a local only: the candidate must not be able to print it
    work, program, mem, fsize, nproc, nofile, cpu, guard = sys.argv[1:9]
    limits = ((resource.RLIMIT_AS, mem), (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_NOFILE, nofile),
              (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_CORE, "0"), (resource.RLIMIT_NPROC, nproc))
    for which, value in limits:
        if value != "-":
            resource.setrlimit(which, (int(value), int(value)))
    isolated = _isolate_network()
    print("network-isolated" if isolated else "network-shared", file=sys.stderr, flush=True)
    with open(program, encoding="utf-8") as fh:
        source = fh.read()
    if guard == "1":
        _guard(os.path.realpath(work), _main.__code__)
    namespace = {"__name__": "__main__", "__file__": program}
    exec(compile(source, program, "exec"), namespace)
    sys.stdout.flush()
    print(token, flush=True)


def _isolate_network():
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(0x10000000 | 0x40000000) == 0:  # CLONE_NEWUSER | CLONE_NEWNET
            for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
                with open(f"/proc/self/{name}", "w") as fh:
                    fh.write(text)
            return True
        return libc.unshare(0x40000000) == 0  # CLONE_NEWNET alone (privileged)
    except Exception:
        return False
    finally:
        for name in ("ctypes", "_ctypes", "ctypes._endian"):
            sys.modules.pop(name, None)


def _guard(work, main_code):
    import builtins, faulthandler, shutil, subprocess, sysconfig

    paths = sysconfig.get_paths()
    readable = [os.path.realpath(p) for p in {paths["stdlib"], paths["platstdlib"]}]
    readable += [work, "/dev/null", "/dev/urandom"]
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    refused = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
               "os.kill", "os.killpg", "pty.spawn", "socket.__new__", "socket.connect", "socket.bind",
               "socket.getaddrinfo", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "os.chdir", "os.chroot",
               "os.setuid", "os.setgid", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
               "webbrowser.open", "sys.settrace", "sys.setprofile"}
    changes = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown",
               "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
    listings = {"os.listdir", "os.scandir"}
    frames = {"tb_frame", "f_back", "gi_frame", "cr_frame", "ag_frame"}
    native = {"ctypes", "_ctypes", "_posixsubprocess", "multiprocessing", "socket", "_socket", "mmap"}
    realpath, fspath = os.path.realpath, os.fspath

    def inside(path, roots):
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def hook(event, args):
        if event in refused:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0].split(".")[0] in native:
            raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
        if event == "sys._getframe" and args[0].f_code is main_code:
            raise PermissionError("sandbox: the runner's frame is not accessible")
        if event == "object.__getattr__" and args[1] in frames:
            raise PermissionError(f"sandbox: {args[1]} is not accessible")
        if event == "open" and not isinstance(args[0], int):
            path = realpath(fspath(args[0]))
            mode, flags = args[1] or "", args[2] or 0
            writes = any(c in mode for c in "wax+") or flags & write_flags
            if not inside(path, [work] if writes else readable):
                raise PermissionError(f"sandbox: opening {path} ({'write' if writes else 'read'}) is not allowed")
        if (event in changes or event in listings) and args and isinstance(args[0], (str, bytes, os.PathLike)):
            roots = readable if event in listings else [work]
            if not inside(realpath(fspath(args[0])), roots):
                raise PermissionError(f"sandbox: {event} outside the working directory is not allowed")

    sys.addaudithook(hook)
    faulthandler.disable()
    # The reliability guard: destructive calls are gone even where the hook would not see them.
    for name in ("kill", "killpg", "system", "putenv", "unsetenv", "remove", "unlink", "removedirs", "rmdir",
                 "rename", "renames", "replace", "truncate", "fchdir", "chdir", "setuid", "setgid", "fork",
                 "forkpty", "chmod", "fchmod", "chown", "fchown", "lchown", "chroot", "link", "symlink",
                 "execv", "execve", "execvp", "spawnv", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            setattr(os, name, None)
    for name in ("rmtree", "move", "chown"):
        setattr(shutil, name, None)
    subprocess.Popen = None
    builtins.exit = builtins.quit = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


_main()
"""


def run_python(program: str, *, limits: Limits | None = None) -> Outcome:
    """Run `program` (Python source) under the guard; it passes when it exits 0 after its last line."""
    limits = limits or Limits()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="flame-run-") as work, tempfile.TemporaryFile() as output:
        path = Path(work) / "candidate.py"
        path.write_text(program, encoding="utf-8")
        args = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _BOOTSTRAP,
            work,
            str(path),
            str(limits.memory_bytes),
            str(limits.file_bytes),
            "-" if limits.processes is None else str(limits.processes),
            str(limits.open_files),
            str(int(limits.timeout) + 1),
            "1" if limits.guard else "0",
        ]
        proc = subprocess.Popen(
            args,
            cwd=work,
            env={},  # nothing of the parent's environment (tokens, keys) reaches the candidate
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the whole group can be killed
            close_fds=True,
        )
        timed_out = False
        try:
            proc.communicate(f"{token}\n".encode(), timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
        output.seek(0)
        isolated = output.read(64).startswith(b"network-isolated")
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - 8192))
        tail = output.read().decode("utf-8", errors="replace")
    lines = tail.splitlines()
    passed = not timed_out and proc.returncode == 0 and bool(lines) and lines[-1].strip() == token
    return Outcome(
        passed, None if timed_out else proc.returncode, timed_out, tail.replace(token, "<end>"), size, isolated
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pgid, signal.SIGKILL)
