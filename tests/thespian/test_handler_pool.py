"""HandlerPool: bounded daemon threads, made on demand and reused, running all work."""

from __future__ import annotations

import threading

from ember.compat.thespian._handler_pool import HandlerPool


def test_work_runs_on_at_most_size_daemon_threads_reused_when_idle() -> None:
    pool = HandlerPool(3, "test-pool")
    release = threading.Event()
    started = threading.Semaphore(0)
    names: set[str] = set()
    daemons: set[bool] = set()
    done = threading.Semaphore(0)

    def blocking() -> None:
        names.add(threading.current_thread().name)
        daemons.add(threading.current_thread().daemon)
        started.release()
        release.wait(5.0)
        done.release()

    for _ in range(5):  # two more than threads: they wait for one
        pool.submit(blocking)
    for _ in range(3):
        assert started.acquire(timeout=5.0)
    assert not started.acquire(timeout=0.05)  # the fourth waits: only 3 threads
    release.set()
    for _ in range(5):
        assert done.acquire(timeout=5.0)
    assert len(names) == 3
    assert daemons == {True}
    pool.submit(done.release)  # an idle thread takes it: no fourth thread
    assert done.acquire(timeout=5.0)
    assert len({t.name for t in threading.enumerate() if t.name.startswith("test-pool")}) == 3
    pool.close()
