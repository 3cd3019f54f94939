"""fertools.utils.jobs.run_tasks: dependency order, and the thread count each task gets."""
import threading

from fertools.utils.jobs import run_tasks


def test_tasks_share_the_cores_and_a_lone_task_gets_them_all():
    started, gate = {}, threading.Event()

    def task(name, wait=False):
        def run(threads):
            started[name] = threads
            if wait:
                gate.wait(5)
            return name
        return run

    def report(key, _):
        if key == 'b':
            gate.set()

    tasks = {'a': (task('a', wait=True), ()), 'b': (task('b'), ()), 'c': (task('c'), ('a', 'b'))}
    results = run_tasks(tasks, jobs=2, report=report, cores=4)
    assert results == {'a': 'a', 'b': 'b', 'c': 'c'}
    assert started == {'a': 2, 'b': 2, 'c': 4}  # a and b side by side; c alone after both
    started.clear()
    gate.clear()
    run_tasks(tasks, jobs=2, report=report, threads=1, cores=4)
    assert started == {'a': 1, 'b': 1, 'c': 1}  # an explicit count wins
