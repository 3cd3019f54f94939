"""torch's intra-op threads: ``env_cfg.torch_threads`` resolution (pure), FERRunner applying it, workers at 1."""
import pytest
import torch
from torch.utils.data import Dataset

from fertools.utils import threads
from fertools.utils.threads import loader_workers, resolve_torch_threads
from toy_plugin.helpers import build_runner, toy_cfg


@pytest.mark.parametrize('setting, workers, cpus, local, env, expected', [
    ('auto', 1, 2, 1, {}, 1),      # the main job on 2 cores: main process + 1 worker -> 1 thread each
    ('auto', 0, 2, 1, {}, 1),      # no workers on 2 cores: one core left to the rest of the machine
    ('auto', 0, 8, 1, {}, 7),
    ('auto', 3, 2, 1, {}, 1),      # more processes than cores: never below 1
    ('auto', 1, 17, 2, {}, 4),     # 2 ranks on the node x (1 + 1 worker) share 17 - 1 cores
    ('auto', 0, 16, 1, {'OMP_NUM_THREADS': '3'}, 3),  # the user's OMP_NUM_THREADS wins
    (5, 1, 2, 1, {'OMP_NUM_THREADS': '1'}, 5),        # an explicit int wins over everything
    (None, 1, 2, 1, {}, None),     # leave torch alone
])
def test_resolve_torch_threads(setting, workers, cpus, local, env, expected):
    threads_, reason = resolve_torch_threads(setting, num_workers=workers, cpus=cpus, local_world_size=local,
                                             environ=env)
    assert threads_ == expected
    assert reason  # logged next to the number


@pytest.mark.parametrize('bad', [0, -2, 'two', True, 1.5])
def test_bad_setting_names_the_key(bad):
    with pytest.raises(ValueError, match=r"env_cfg\.torch_threads=.*'auto', a positive int or None"):
        resolve_torch_threads(bad, environ={})


def test_bad_omp_num_threads_is_named():
    with pytest.raises(ValueError, match='OMP_NUM_THREADS='):
        resolve_torch_threads('auto', environ={'OMP_NUM_THREADS': 'all'})


def test_loader_workers_takes_the_most_of_configs_and_loaders():
    built = torch.utils.data.DataLoader(list(range(4)), num_workers=2)
    assert loader_workers([dict(num_workers=1), None, built, dict(batch_size=2)]) == 2
    assert loader_workers([None, None]) == 0


def test_runner_applies_auto_and_logs_it(tmp_path, monkeypatch, keep_threads):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    monkeypatch.setattr(threads, 'usable_cpus', lambda: 5)
    torch.set_num_threads(1)
    runner = build_runner(toy_cfg(tmp_path, **{'train_dataloader.num_workers': 1, 'log_level': 'INFO'}))
    assert torch.get_num_threads() == 2  # (5 CPUs - 1) / (1 process x (1 main + 1 worker))
    assert runner._torch_threads.startswith('2 (auto: (5 CPUs - 1 kept free)')
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'torch_threads: 2 (auto: (5 CPUs - 1 kept free) / (1 process(es) x (1 + 1 data worker(s))))' in log


def test_runner_int_and_none(tmp_path, keep_threads):
    build_runner(toy_cfg(tmp_path / 'a', **{'env_cfg.torch_threads': 3}))
    assert torch.get_num_threads() == 3
    torch.set_num_threads(2)
    build_runner(toy_cfg(tmp_path / 'b', **{'env_cfg.torch_threads': None}))
    assert torch.get_num_threads() == 2


class _ThreadCount(Dataset):
    """Each item: the intra-op thread count of the process that loads it."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return torch.get_num_threads()


def test_data_workers_run_with_one_thread(keep_threads):
    from fertools.engine import FERRunner
    torch.set_num_threads(2)
    loader = FERRunner.build_dataloader(dict(batch_size=2, num_workers=1, dataset=_ThreadCount(),
                                             sampler=dict(type='DefaultSampler', shuffle=False)))
    assert [int(n) for batch in loader for n in batch] == [1, 1, 1, 1]
    assert torch.get_num_threads() == 2  # the main process keeps its own
