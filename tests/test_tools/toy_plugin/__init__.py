"""Test-only fertools plugin: a tiny randomly-augmenting dataset, a small CNN with dropout, a metric and a
hook recording which samples each rank trained on — imported by ``custom_imports`` (tests/test_tools on
``PYTHONPATH``) so the engine/tool tests run fast and without the real model/dataset packages."""
import json
import os
import os.path as osp
import random

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from mmengine.dist import get_rank
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch import nn

from fertools.registry import DATASETS, HOOKS, METRICS, MODELS
from fertools.structures.fer_data_sample import FERDataSample

CLASSES = ('neutral', 'happy', 'sad', 'angry')


@DATASETS.register_module(force=True)
class ToyFaceDataset(BaseDataset):
    """``num_samples`` 3×8×8 'faces', label ``idx % 4``; with ``augment`` each fetch adds numpy noise, a
    python-random flip and a torch-random brightness (all three global generators are exercised)."""

    METAINFO = dict(classes=CLASSES)

    def __init__(self, num_samples=32, augment=True, pipeline=None, **kwargs):
        self.num_samples, self.augment = num_samples, augment
        self.pipeline_cfg = pipeline  # kept for meta extraction only
        super().__init__(pipeline=[], **kwargs)

    def load_data_list(self):
        return [dict(sample_idx=i, gt_label=i % len(CLASSES), img_path=f'toy/{i:04d}.png')
                for i in range(self.num_samples)]

    def prepare_data(self, idx):
        info = self.get_data_info(idx)
        g = torch.Generator().manual_seed(int(info['sample_idx']))
        img = torch.rand(3, 8, 8, generator=g) + 0.5 * info['gt_label']
        if self.augment:
            img = img + torch.from_numpy(np.random.normal(0, 0.1, size=(3, 8, 8)).astype(np.float32))
            if random.random() < 0.5:
                img = img.flip(-1)
            img = img * (0.8 + 0.4 * torch.rand(1))
        sample = FERDataSample(metainfo=dict(sample_idx=info['sample_idx'], img_path=info['img_path']))
        sample.set_gt_label(info['gt_label'])
        return dict(inputs=img, data_samples=sample)


@MODELS.register_module(force=True)
class ToyNet(BaseModel):
    """conv → dropout → linear; ``nan_at`` makes the ``nan_at``-th training forward return a NaN
    ``loss_aux`` (to test the NaN guard)."""

    def __init__(self, num_classes=4, dropout=0.5, nan_at=-1, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8, num_classes)
        self.nan_at, self._calls = nan_at, 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = F.relu(self.conv(inputs)).mean(dim=(2, 3))
        logits = self.fc(self.drop(x))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            self._calls += 1
            labels = torch.cat([s.gt_label for s in data_samples])
            aux = logits.pow(2).mean() * 1e-3
            if self._calls == self.nan_at:
                aux = aux * float('nan')
            return dict(loss_cls=F.cross_entropy(logits, labels), loss_aux=aux)
        scores = logits.softmax(-1)
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score).set_pred_label(int(score.argmax()))
        return data_samples


@METRICS.register_module(force=True)
class ToyAccuracy(BaseMetric):
    default_prefix = 'toy'

    def process(self, data_batch, data_samples):
        for s in data_samples:
            self.results.append(int(s['pred_label'].item() == s['gt_label'].item()))  # samples come as dicts

    def compute_metrics(self, results):
        return dict(accuracy=100.0 * sum(results) / max(len(results), 1))


@HOOKS.register_module(force=True)
class RecordBatchHook(Hook):
    """Append ``{"iter": i, "idx": [...]}`` per train iteration to ``work_dir/batches_rank{rank}.jsonl``."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        path = osp.join(runner.work_dir, f'batches_rank{get_rank()}.jsonl')
        idx = [int(s.metainfo['sample_idx']) for s in data_batch['data_samples']]
        with open(path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter, idx=idx, pid=os.getpid())) + '\n')


@HOOKS.register_module(force=True)
class StopAtHook(Hook):
    """Stop training after iteration ``stop_at`` (after its checkpoint is written) — simulates a run
    killed there, with the full schedule (``max_iters``) still configured."""

    priority = 'LOWEST'

    def __init__(self, stop_at):
        self.stop_at = stop_at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 >= self.stop_at:
            runner.train_loop.stop_training = True
