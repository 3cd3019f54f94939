"""current_visualizer() is the running runner's visualiser, not a stale one of another runner of the process."""
import glob
import os.path as osp

from toy_plugin.helpers import build_runner, toy_cfg

from fertools.visualization import current_message_hub, current_visualizer, run_context

FER_TEST = {'test_evaluator.type': 'FERMetric', 'test_evaluator.tag': 'test', 'log_level': 'ERROR'}


def _cms(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(str(work_dir), '*', 'confusion_matrix_test_*.png')))


def test_figures_go_to_the_runner_that_runs(tmp_path):
    # A: a FERVisualizer; B (built last): MMEngine's plain Visualizer. The old search preferred any subclass
    # instance, so B's figures landed in A's folder; MMEngine's "latest created" would send A's to B's.
    fer_cfg = toy_cfg(tmp_path / 'a', **FER_TEST)
    fer_cfg.visualizer.type = 'FERVisualizer'
    runner_a = build_runner(fer_cfg)
    runner_b = build_runner(toy_cfg(tmp_path / 'b', **FER_TEST))
    assert type(runner_a.visualizer).__name__ == 'FERVisualizer' and type(runner_b.visualizer).__name__ == 'Visualizer'
    assert current_visualizer() is runner_b.visualizer  # outside a run: the latest created (MMEngine's semantics)

    runner_a.test()
    assert _cms(tmp_path / 'a') == ['confusion_matrix_test_iter0.png'] and _cms(tmp_path / 'b') == []
    runner_b.test()
    assert _cms(tmp_path / 'a') == ['confusion_matrix_test_iter0.png']
    assert _cms(tmp_path / 'b') == ['confusion_matrix_test_iter0.png']


def test_run_context_nests_and_restores(tmp_path):
    runner = build_runner(toy_cfg(tmp_path, log_level='ERROR'))
    outer = (current_visualizer(), current_message_hub())
    with run_context(runner.visualizer, runner.message_hub):
        assert current_visualizer() is runner.visualizer and current_message_hub() is runner.message_hub
        with run_context(outer[0], outer[1]):
            assert current_visualizer() is outer[0]
        assert current_visualizer() is runner.visualizer
    assert (current_visualizer(), current_message_hub()) == outer
