"""A bounded job queue with one worker thread and results that expire.

The model runs one job at a time on the worker thread while the web server's threads keep
answering (submit, status, health). A job is known by a random id (``secrets.token_hex``);
nothing a client sends becomes part of a file path or an id. Finished jobs (results or
errors) are dropped ``ttl`` seconds after they finished.
"""

import collections
import secrets
import threading
import time


class QueueFull(RuntimeError):
    """The queue holds ``max_queue`` waiting jobs; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after):
        super().__init__(f"the queue is full; retry in {retry_after} s")
        self.retry_after = retry_after


class Job:
    """One unit of work: ``state`` is "queued", "running", "done" or "error"; ``result``
    the function's return value when done; ``error`` (message, HTTP status) on failure."""

    def __init__(self, fn, args):
        self.id = secrets.token_hex(16)
        self.fn, self.args = fn, args
        self.state = "queued"
        self.result = self.error = None
        self.finished = None
        self.done = threading.Event()


class JobQueue:
    """Run submitted functions one at a time on a worker thread.

    Args:
        max_queue: how many jobs may wait (the running one not counted).
        ttl: seconds a finished job is kept.
        expected_errors: exception types whose message (and ``status`` attribute, default
            422) is reported to the client; any other exception becomes "500: the service
            failed", its text logged, not shown.
        log: callable(str) for unexpected errors.
    """

    def __init__(self, max_queue=8, ttl=600.0, expected_errors=(), log=print):
        self.max_queue, self.ttl = int(max_queue), float(ttl)
        self.expected_errors = tuple(expected_errors)
        self.log = log
        self._jobs = {}
        self._waiting = collections.deque()
        self._lock = threading.Condition()
        self._seconds_per_job = 1.0
        self._worker = threading.Thread(target=self._run, name="model-worker", daemon=True)
        self._worker.start()

    def submit(self, fn, *args):
        """Queue ``fn(*args)``; returns its :class:`Job`. Raises :class:`QueueFull`."""
        return self.submit_all(fn, [args])[0]

    def submit_all(self, fn, arg_tuples):
        """Queue ``fn(*args)`` for every tuple of ``arg_tuples``, all or none; returns the
        jobs in order. Raises :class:`QueueFull` when they do not all fit."""
        with self._lock:
            self._expire()
            if len(self._waiting) + len(arg_tuples) > self.max_queue:
                raise QueueFull(max(1, round(self._seconds_per_job * (len(self._waiting) + 1))))
            jobs = [Job(fn, args) for args in arg_tuples]
            for job in jobs:
                self._jobs[job.id] = job
                self._waiting.append(job)
            self._lock.notify()
        return jobs

    def get(self, job_id):
        """The job of that id, or None (unknown or expired)."""
        with self._lock:
            self._expire()
            return self._jobs.get(job_id)

    def position(self, job):
        """0 when running or finished, else 1 + the number of jobs ahead of it."""
        with self._lock:
            try:
                return 1 + self._waiting.index(job)
            except ValueError:
                return 0

    def stats(self):
        """{"waiting": n, "max_queue": n, "known_jobs": n, "seconds_per_job": s}."""
        with self._lock:
            return {"waiting": len(self._waiting), "max_queue": self.max_queue,
                    "known_jobs": len(self._jobs),
                    "seconds_per_job": round(self._seconds_per_job, 3)}

    def _expire(self):
        now = time.monotonic()
        for key in [k for k, j in self._jobs.items()
                    if j.finished is not None and now - j.finished > self.ttl]:
            del self._jobs[key]

    def _run(self):
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                job = self._waiting.popleft()
                job.state = "running"
            start = time.monotonic()
            try:
                job.result, job.state = job.fn(*job.args), "done"
            except self.expected_errors as e:
                job.error, job.state = (str(e), getattr(e, "status", 422)), "error"
            except Exception as e:  # the worker must survive any job
                self.log(f"job {job.id} failed: {type(e).__name__}: {e}")
                job.error, job.state = ("Sorry, the service failed on this request.", 500), \
                    "error"
            with self._lock:
                seconds = time.monotonic() - start
                self._seconds_per_job = 0.8 * self._seconds_per_job + 0.2 * seconds
                job.finished = time.monotonic()
                job.fn = job.args = None
            job.done.set()
