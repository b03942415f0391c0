"""A forking server of warm Python interpreters for the tests that run scripts: the
scripts' processes start in ~0.1 s instead of the ~5-8 s a fresh Python takes to import
TensorFlow (see :data:`FORK_SERVER`): :func:`server`, or conftest's fixture
``warm_python``."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

# The server: Python interpreters that have imported TensorFlow, Keras and every module of
# tfposegen (and created no TF runtime yet: no context, no thread pools; a module that
# starts it on import stops the server), and the `python` its clients run: `python
# <script>.py ...` becomes a fork of the server running the script as __main__ with the
# client's argv, working directory, environment and stdin / stdout / stderr, exiting with
# the script's status (``python -c CODE ...`` likewise); anything else, or a client run
# without the server's address in its environment, execs the real interpreter. Each
# process then starts in ~0.1 s instead of the ~5-8 s a fresh Python takes to import
# TensorFlow; what the scripts do, and their processes (a new one per command), stay as
# they are.
FORK_SERVER = r"""
import json, os, runpy, signal, socket, sys, traceback
import importlib, pkgutil
import tensorflow, keras  # noqa: F401 (the slow imports, done once)
import numpy, PIL.Image, tfposegen  # noqa: F401
from tensorflow.python.eager import context
for module in pkgutil.walk_packages(tfposegen.__path__, "tfposegen."):
    importlib.import_module(module.name)  # every module a script may import, once
    if context.context()._context_handle is not None:  # forks of a started runtime hang
        sys.exit(f"importing {module.name} started TensorFlow's runtime")
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
parent = os.getppid()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(16)
server.settimeout(2.0)
print("ready", flush=True)
while True:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        if os.getppid() != parent:  # pytest went away
            sys.exit(0)
        continue
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, new_fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        if not chunk:
            break
        data, fds = data + chunk, fds + new_fds
    if len(fds) != 3 or os.fork():
        conn.close()
        for fd in fds:
            os.close(fd)
        continue
    server.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
        os.close(fd)
    request = json.loads(data)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    code = 0
    try:
        if "code" in request:  # python -c CODE ARGS
            sys.path[0] = ""
            exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})
        else:
            sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
            runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as e:
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        import atexit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        conn.sendall(b"%d\n" % code)
        os._exit(code)
"""
FORK_CLIENT = r"""
import json, os, socket, sys
script = len(sys.argv) > 1 and sys.argv[1].endswith(".py") and os.path.isfile(sys.argv[1])
code = len(sys.argv) > 2 and sys.argv[1] == "-c"
if (script or code) and "TFPOSEGEN_FORK_SERVER" in os.environ:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(os.environ["TFPOSEGEN_FORK_SERVER"])
    request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
    if code:
        request.update(argv=["-c", *sys.argv[3:]], code=sys.argv[2])
    request = json.dumps(request)
    socket.send_fds(conn, [request.encode() + b"\n"], [0, 1, 2])
    reply = b""
    while chunk := conn.recv(64):
        reply += chunk
    if not reply.strip():
        print(f"python (fork server): {sys.argv[1]} died without an exit status",
              file=sys.stderr)
    sys.exit(int(reply) if reply.strip() else 1)
os.execv(sys.executable, [sys.executable] + sys.argv[1:])
"""


class WarmPython:
    """``python``: the fork server's client (an executable); ``env(**extra)``: an environment
    whose ``python`` (PATH) is that client."""

    def __init__(self, folder):
        self.folder = folder
        self.python = os.path.join(folder, "bin", "python")
        os.makedirs(os.path.dirname(self.python))
        with open(self.python, "w") as f:
            f.write(f"#!{sys.executable} -S\n{FORK_CLIENT}")
        os.chmod(self.python, 0o755)
        self.socket = os.path.join(folder, "s")
        self.log = open(os.path.join(folder, "server.log"), "w+")  # noqa: SIM115
        self.server = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, self.socket], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        if self.server.stdout.readline().strip() != "ready":
            self.server.wait()
            self.log.seek(0)
            pytest.fail(f"fork server did not start:\n{self.log.read()[-3000:]}")

    def env(self, **extra):
        path = os.pathsep.join([os.path.dirname(self.python), os.environ.get("PATH", "")])
        return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PATH=path,
                    TFPOSEGEN_FORK_SERVER=self.socket, **extra)

    def close(self):
        self.server.kill()
        self.server.wait()
        self.server.stdout.close()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_SERVER = []


def server():
    """This test process's :class:`WarmPython`, started on first use (closed at exit; its
    socket in a short /tmp path: AF_UNIX paths are short)."""
    if not _SERVER:
        _SERVER.append(WarmPython(tempfile.mkdtemp(prefix="tfpgfork")))
        atexit.register(_SERVER[0].close)
    return _SERVER[0]
