"""tools/analysis/clip_linear_probe.py: the probe separates separable features and not random ones."""
import importlib.util
import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    spec = importlib.util.spec_from_file_location('clip_linear_probe',
                                                  osp.join(ROOT, 'tools', 'analysis', 'clip_linear_probe.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_probe_reads_class_information_only_where_there_is_some():
    probe = load_tool().linear_probe
    g = torch.Generator().manual_seed(0)
    y_train, y_test = torch.arange(140) % 7, torch.arange(70) % 7
    centres = torch.randn(7, 16, generator=g) * 3
    feats = lambda y: centres[y] + torch.randn(len(y), 16, generator=g)  # noqa: E731
    train_acc, test_acc = probe(feats(y_train), y_train, feats(y_test), y_test, 7, 1e-3)
    assert train_acc > 95 and test_acc > 90
    noise = lambda y: torch.randn(len(y), 16, generator=g)  # noqa: E731
    _, test_acc = probe(noise(y_train), y_train, noise(y_test), y_test, 7, 1e-3)
    assert test_acc < 35
