"""Weights-only checkpoints: plain encoding round trip, refusal of pickled objects, atomic writes,
clear errors for a missing file and for a checkpoint of another model."""
import collections
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from fertools.engine.checkpoint import (CheckpointError, CheckpointMismatchError, atomic_save, check_state_dict,
                                        from_plain, load_weights_only, to_plain)


class Custom:  # a pickled custom class must never be loaded
    def __init__(self):
        self.x = 1


def test_plain_round_trip_loads_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    buffer.update(2.5, count=2)
    obj = collections.OrderedDict(
        hub=dict(loss=buffer), arr=np.arange(6, dtype=np.float32).reshape(2, 3), scalar=np.float64(0.25),
        dtype=np.dtype('int16'), names=('a', 'b'), strings=np.array(['x', 'y']), t=torch.ones(2))
    path = str(tmp_path / 'c.pth')
    atomic_save(to_plain(obj), path)
    torch.load(path, weights_only=True)  # the raw file is weights-only loadable
    back = load_weights_only(path)
    assert isinstance(back['hub']['loss'], HistoryBuffer)
    assert back['hub']['loss'].mean() == buffer.mean() and back['hub']['loss'].current() == 2.5
    assert back['arr'].dtype == np.float32 and np.array_equal(back['arr'], obj['arr'])
    assert back['scalar'] == 0.25 and type(back['scalar']) is float
    assert back['dtype'] == np.dtype('int16') and back['names'] == ('a', 'b')
    assert list(back['strings']) == ['x', 'y'] and torch.equal(back['t'], torch.ones(2))


def test_to_plain_names_the_key_of_an_unstorable_value():
    with pytest.raises(TypeError, match=r'checkpoint\.meta\.bad holds a .*Custom'):
        to_plain(dict(meta=dict(bad=Custom())))


def test_pickled_custom_class_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=Custom()), path)
    with pytest.raises(CheckpointError, match='Refusing to load checkpoint .*weights_only=True'):
        CheckpointLoader.load_checkpoint(path)  # MMEngine's entry point uses our loader


def test_missing_checkpoint_is_named(tmp_path):
    (tmp_path / 'iter_4.pth').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r"iter_5\.pth' does not exist\. Checkpoints in .*iter_4\.pth"):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'iter_5.pth'))


def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / 'latest.pth')
    atomic_save(dict(state_dict=dict(w=torch.zeros(3))), path)

    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b'PK\x03\x04 partial bytes')  # part of a file, then the "kill"
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(torch, 'save', crashing_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_save(dict(state_dict=dict(w=torch.ones(3))), path)
    monkeypatch.setattr(torch, 'save', real_save)
    assert os.listdir(tmp_path) == ['latest.pth']  # no temp file left behind
    assert torch.equal(load_weights_only(path)['state_dict']['w'], torch.zeros(3))


def test_truncated_checkpoint_is_reported(tmp_path):
    path = tmp_path / 'bad.pth'
    path.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='not a readable torch file'):
        load_weights_only(str(path))


def test_state_dict_mismatch_lists_names():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    state = {'0.weight': torch.zeros(5, 4), 'head.bias': torch.zeros(3)}
    with pytest.raises(CheckpointMismatchError) as info:
        check_state_dict(model, state, 'other.pth')
    message = str(info.value)
    assert "'other.pth'" in message and '0.weight (5, 4) vs model (3, 4)' in message
    assert 'missing in checkpoint: 0.bias' in message and 'not in model: head.bias' in message
    assert 'load_from_strict = False' in message
    assert len(check_state_dict(model, state, 'other.pth', strict=False)) == 3
    assert check_state_dict(model, model.state_dict(), 'same.pth') == []


def test_from_plain_leaves_plain_values():
    assert from_plain({'a': [1, (2, 3)], 'b': None}) == {'a': [1, (2, 3)], 'b': None}
