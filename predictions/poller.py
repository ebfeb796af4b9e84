"""The worker's poller: the creates and polls that are due are claimed from the database a batch
at a time and sent to DeerAPI from a few I/O threads inside the worker, instead of through a
Celery message each (services.create_messages).

A thread wakes every TICK seconds and claims the due rows (one `UPDATE … RETURNING`, see
pipeline.due_polls_claim: each row's lease moves past the poll's time limit, so another
worker's poller or the beat sweep leaves it alone), then hands them to POLL_THREADS threads,
each with its own kept-alive connection to DeerAPI (deerapi.client.get_client) and to the
database. A prediction found done is stored by the thread that polled it. No more rows are
claimed than the threads can start on at once, so a claim never sits in a queue while its
lease runs out; a worker stopped warmly gives back the claims it had not started on. A worker
killed mid-poll leaves its claims to expire: the sweep re-sends them (pipeline.predictions_sweep).

Started with the worker (predictions.tasks: `worker_ready`), in its main process: the worker
runs a thread pool (Procfile), so nothing forks while these threads run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from common.db import connections_check, connections_keep_if_usable
from ops.logging import prediction_context
from predictions import pipeline
from predictions.models import Prediction
from predictions.pacing import CreatePace

logger = logging.getLogger(__name__)

# Seconds between two looks for due rows when none is waiting: how late, at most, a poll
# falls due before it is claimed.
TICK = 0.1

# While creates are paced, none is sent while a due poll waits longer than this for a thread:
# the worker is behind (the pace is measured in CPU, and other processes may take the core).
PACE_BACKLOG = 0.5

# Seconds between two log lines saying creates are being paced.
PACE_LOG_EVERY = 5.0

# A thread whose database connection sat unused this long checks it before its next unit of
# work (a create must not be sent on a connection that cannot then record it).
CHECK_AFTER_IDLE = 2.0


@dataclass(frozen=True)
class _Claim:
    prediction: Prediction
    lease: datetime | None  # a poll's, which `stop` gives back; None for a create


class Poller:
    """Claims due polls and runs them on `threads` I/O threads."""

    def __init__(self, threads: int, *, tick: float = TICK) -> None:
        self.threads = threads
        self.tick = tick
        self._jobs: queue.Queue[_Claim | None] = queue.Queue()
        self._idle = threading.Semaphore(threads)  # one per thread free to start a poll
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        # Counts database errors met by any thread: the others check their connection before
        # their next unit of work (PostgreSQL restarted, say: every kept connection is dead).
        self._database_errors = 0
        self._claimer: threading.Thread | None = None
        self.pace = CreatePace(enabled=settings.PACE_CREATES)  # creates no faster than this process stores
        self._pace_logged = 0.0

    def start(self) -> None:
        self._workers = [
            threading.Thread(target=self._work, name=f"deerweb-poll-{n}", daemon=True) for n in range(self.threads)
        ]
        self._claimer = threading.Thread(target=self._claim_loop, name="deerweb-poller", daemon=True)
        for thread in [*self._workers, self._claimer]:
            thread.start()
        pipeline.poll_messages_send(False)
        logger.info("poller started: %d threads", self.threads)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, give back the claims no thread started on, let running polls end."""
        pipeline.poll_messages_send(True)
        self._stopping.set()
        if self._claimer is not None:
            self._claimer.join(timeout)
        unstarted: list[_Claim] = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                unstarted.append(job)
        polls = [(job.prediction.pk, job.lease) for job in unstarted if job.lease is not None]
        if polls:
            pipeline.poll_claims_release(polls)
        creates = [job.prediction.pk for job in unstarted if job.lease is None]
        if creates:
            pipeline.create_claims_release(creates)
        for _thread in self._workers:
            self._jobs.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        close_old_connections()

    def _claim_loop(self) -> None:
        idle = False
        while not self._stopping.is_set():
            free = self._free_threads()
            if not free:
                continue
            claimed = 0
            try:
                if not idle or pipeline.work_due():  # idle: a read, not a write, every tick
                    claimed = self._claim(free)
            except DatabaseError:
                logger.exception("poller: could not claim due work")
                self._database_errors += 1
                connection.close()
            for _unused in range(free - claimed):
                self._idle.release()
            idle = claimed == 0
            if claimed < free:  # nothing more is due: look again in a tick
                self._stopping.wait(self.tick)
        connection.close()

    def _claim(self, free: int) -> int:
        """Claim due polls and due creates for the `free` threads; queue them, polls first.

        Unpaced (DEERWEB_PACE_CREATES off, or before the pace is measured), creates take only the
        threads the due polls left: a burst of submissions never delays the predictions already
        at DeerAPI. Paced, the creates the pace allows are claimed first: the pace already keeps
        them to what the worker stores, and holding them back while a wave of results is stored
        left the worker with nothing to store a run time later (creates and results took turns)."""
        creates: list[Prediction] = []
        paced = self.pace.paced()
        if paced and pipeline.polls_late_by() <= PACE_BACKLOG:
            creates = self._creates_claim(free)
        lease, polls = pipeline.due_polls_claim(free - len(creates)) if len(creates) < free else (None, [])
        if not paced and len(polls) < free:
            creates = self._creates_claim(free - len(polls))
        for prediction in polls:
            self._jobs.put(_Claim(prediction, lease))
        for prediction in creates:
            self._jobs.put(_Claim(prediction, None))
        return len(polls) + len(creates)

    def _creates_claim(self, room: int) -> list[Prediction]:
        """Up to `room` due creates, as many as the pace allows now."""
        allowed = self.pace.take(room)
        creates = pipeline.due_creates_claim(allowed) if allowed else []
        self.pace.give_back(allowed - len(creates))
        if allowed < room and time.monotonic() - self._pace_logged > PACE_LOG_EVERY:
            self._pace_logged = time.monotonic()
            logger.info(
                "poller: creates paced at %.1f a second (a prediction costs %.1f ms of this worker's CPU)",
                self.pace.rate() or 0.0,
                (self.pace.cost() or 0.0) * 1000,
            )
        return creates

    def _free_threads(self) -> int:
        """Take every thread that is free now (at least one, waiting a tick for it)."""
        if not self._idle.acquire(timeout=self.tick):
            return 0
        free = 1
        while free < self.threads and self._idle.acquire(blocking=False):
            free += 1
        return free

    def _work(self) -> None:
        errors_seen, last_used = self._database_errors, time.monotonic()
        while True:
            job = self._jobs.get()
            if job is None:
                break
            if errors_seen != self._database_errors or time.monotonic() - last_used > CHECK_AFTER_IDLE:
                connections_check()
                errors_seen = self._database_errors
            started = time.thread_time()
            try:
                ended = self._run(job)
                spent = time.thread_time() - started
                if job.lease is None:
                    self.pace.create_done(spent)
                else:
                    self.pace.poll_done(spent, ended=ended)
            except DatabaseError:
                self._database_errors += 1
                errors_seen = self._database_errors
                connection.close()
                if job.lease is not None:  # a poll is asked again at once, on a fresh connection
                    self._run_logged(job)
                else:  # the create may be at DeerAPI: its claim runs out into the sweep
                    logger.exception("prediction=%s create failed", job.prediction.pk)
            except Exception:
                logger.exception("prediction=%s %s failed", job.prediction.pk, "poll" if job.lease else "create")
            finally:
                connections_keep_if_usable()
                last_used = time.monotonic()
                self._idle.release()
        close_old_connections()

    def _run(self, job: _Claim) -> bool:
        """Send the create or the poll; True when a poll ended the prediction."""
        with prediction_context(job.prediction.pk):
            if job.lease is None:
                pipeline.prediction_submit_claimed(job.prediction)
                return False
            return pipeline.prediction_poll_claimed(job.prediction)

    def _run_logged(self, job: _Claim) -> None:
        try:
            self._run(job)
        except Exception:  # the claim's lease runs out and a poller takes it up again
            logger.exception("prediction=%s poll failed", job.prediction.pk)
            connection.close()


_poller: Poller | None = None


def poller_start() -> Poller | None:
    """Start this process's poller (settings.POLL_THREADS; 0: a Celery message per poll)."""
    global _poller
    if _poller is None and settings.POLL_THREADS > 0:
        _poller = Poller(settings.POLL_THREADS)
        _poller.start()
    return _poller


def poller_stop() -> None:
    global _poller
    if _poller is not None:
        _poller.stop()
        _poller = None
