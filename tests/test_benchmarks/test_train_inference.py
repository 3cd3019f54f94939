"""The training / inference benchmarks run end to end on a tiny image-folder set and a tiny timm model."""
import argparse
import os.path as osp
import re

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    import mmcv
    root = tmp_path_factory.mktemp('folder_set')
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        for name in ('neutral', 'happy', 'sad'):
            for i in range(4):
                mmcv.imwrite(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8), str(root / split / name / f'{i}.png'))
    cfg = tmp_path_factory.mktemp('cfg') / 'tiny_folder.py'
    cfg.write_text(f'''
_base_ = ['{ROOT}/configs/_base_/datasets/fer_folder.py', '{ROOT}/configs/_base_/schedules/adamw_cosine_iter.py',
          '{ROOT}/configs/_base_/default_runtime.py']
data_root = '{root}'
input_size = 16
model = dict(type='FERClassifier', data_preprocessor=dict(type='FERDataPreprocessor'),
             backbone=dict(type='TimmBackbone', model_name='test_resnet'), neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=7, in_channels=96))
_pipe = [dict(type='LoadFERImage'), dict(type='ResizeFER', scale=(16, 16)), dict(type='PackFERInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=_pipe))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root, pipeline=_pipe))
test_dataloader = val_dataloader
''')
    return str(cfg)


def _args(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_train_benchmark_prints_both_and_ratio_last(tiny_config, capsys):
    from fertools.benchmarks import train
    line = train.run(_args(train, [tiny_config, '--iters', '3', '--warmup', '1']))
    out = capsys.readouterr().out
    assert re.fullmatch(r'fertools/plain ratio: \d+\.\d\d', line)
    fer = float(re.search(r'fertools \(Runner \+ pipeline \+ hooks\): ([\d.]+) img/s', out).group(1))
    plain = float(re.search(r'plain PyTorch \(resident batches\): +([\d.]+) img/s', out).group(1))
    assert fer > 0 and plain > 0
    assert float(line.split(': ')[1]) == pytest.approx(fer / plain, rel=0.05, abs=0.01)


def test_inference_benchmark(tiny_config, capsys):
    from fertools.benchmarks import inference
    line = inference.run(_args(inference, [tiny_config, '--batch-size', '4', '--iters', '2', '--warmup', '1']))
    assert re.fullmatch(r'inference: \d+\.\d img/s', line)
    assert 'input 16x16' in capsys.readouterr().out


def test_inference_benchmark_lrdif_gets_heatmaps_and_encodes_every_batch(tmp_path, capsys, monkeypatch):
    """LRDif (S2, label-free) reads landmark heatmaps from its samples: the benchmark supplies them, and the
    frozen-CLIP feature cache is off so every timed batch is encoded."""
    from fertools.benchmarks import inference
    from fertools.models.backbones.open_clip_encoder import OpenCLIPEncoder
    encoded = []
    raw = OpenCLIPEncoder._encode_image_raw
    monkeypatch.setattr(OpenCLIPEncoder, '_encode_image_raw', lambda self, x: encoded.append(len(x)) or raw(self, x))
    cfg = tmp_path / 'lrdif_s2.py'
    cfg.write_text(f"_base_ = ['{ROOT}/configs/lrdif/lrdif_synthface-udc_s2.py']\nmodel = dict(s1_checkpoint=None)\n")
    line = inference.run(_args(inference, [str(cfg), '--batch-size', '3', '--iters', '2', '--warmup', '1']))
    assert re.fullmatch(r'inference: \d+\.\d img/s', line)
    assert 'input 64x64' in capsys.readouterr().out
    assert encoded == [3, 3, 3]
