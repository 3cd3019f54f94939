"""tools/analysis/clip_linear_probe.py: zero-shot accuracy (class prompts, no training), the clean pipeline, and
the whole tool on a tiny LRDif config with a CLIP weights file next to the random CLIP."""
import importlib.util
import os.path as osp
import re

import pytest
import torch

from fertools.registry import MODELS
from fertools.utils import REPO_ROOT, register_all_modules

register_all_modules()
spec = importlib.util.spec_from_file_location('clip_linear_probe',
                                              osp.join(REPO_ROOT, 'tools', 'analysis', 'clip_linear_probe.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def test_zero_shot_accuracy_closed_form():
    text = torch.eye(4)                                     # class k's prompt embedding = e_k
    labels = torch.tensor([0, 1, 2, 3, 3, 2])
    image = 3.0 * text[labels] + 0.1 * torch.randn(6, 4)   # scale-free: cosine similarity
    assert tool.zero_shot_accuracy(image, text, labels) == 100.0
    assert tool.zero_shot_accuracy(image, text, torch.tensor([1, 1, 1, 1, 1, 1])) == pytest.approx(100 / 6)
    with pytest.raises(ValueError, match='4-d'):
        tool.zero_shot_accuracy(torch.randn(2, 3), text, labels[:2])


def test_clean_pipeline_drops_only_the_synthetic_degradations():
    steps = [dict(type='LoadFERImage'), dict(type='UDCDegradation', seed=1, fixed_per_sample=True),
             dict(type='LandmarkHeatmaps', size=8), dict(type='PackFERInputs')]
    assert [s['type'] for s in tool.without_degradations(steps)] == ['LoadFERImage', 'LandmarkHeatmaps',
                                                                     'PackFERInputs']


def test_tool_reports_probe_and_zero_shot_for_random_and_given_clip(tmp_path, capsys):
    torch.manual_seed(3)
    weights = tmp_path / 'clip.pt'
    torch.save(MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test')).clip.state_dict(), weights)
    config = tmp_path / 'tiny.py'
    config.write_text(
        f"_base_ = ['{REPO_ROOT}/configs/lrdif/lrdif_synthface-udc.py']\n"
        f"clip_pretrained = '{weights}'\n"
        f"model = dict(clip=dict(model_name='fertools-clip-test'), clip_pretrained='{weights}')\n"
        "test_dataloader = dict(dataset=dict(num_subjects=7, samples_per_expression=1))\n")
    tool.main([str(config), '--test-split', 'val'])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith('| ') and not line.startswith('| features')]
    assert [r.split('|')[2].strip() for r in rows] == ['degraded'] * 3 + ['clean'] * 3
    assert 'random init' in rows[1] and 'clip.pt' in rows[2]
    zero_shot = [float(r.split('|')[6]) for r in rows if 'CLIP' in r]
    assert all(0 <= z <= 100 for z in zero_shot)
    assert re.search(r'\d+ train / 7 test images', out) and 'chance 14.3 %' in out
