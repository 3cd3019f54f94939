"""tools/translate.py under torchrun with 2 CPU processes: the source list is cut into fixed batches and rank r takes
batches b with b % 2 == r (no process group: RANK / WORLD_SIZE only), so every image is translated and written by
exactly one rank, and batch b samples with seed + b whatever rank runs it: the files equal a single-process run's."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import mmcv
import numpy as np
import torch

from fertools.apis import get_model
from toy_plugin.helpers import REPO_ROOT

TINY = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_score_config.py')
LINE = re.compile(r'translate: (\d+) images, (\d+) already written, (\d+) to do \(rank (\d+)/(\d+)')
WROTE = re.compile(r'translate: wrote (\d+) images')
NUM_IMAGES, BATCH = 9, 2  # 5 batches: rank 0 takes 0, 2, 4 (5 images), rank 1 takes 1, 3 (4 images)


def _files(root):
    return {osp.relpath(p, root): open(p, 'rb').read() for p in glob.glob(osp.join(root, '**', '*'), recursive=True)
            if osp.isfile(p)}


def test_two_ranks_translate_each_image_once_and_match_one_process(tmp_path):
    torch.manual_seed(0)
    model = get_model(TINY)
    torch.nn.init.normal_(model.unet.out[-1].weight, std=0.1)  # not the zero-initialised last conv: ε̂ depends on x
    ckpt = str(tmp_path / 'score.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    rng = np.random.default_rng(0)
    for i in range(NUM_IMAGES):
        face = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
        mmcv.imwrite(face, str(tmp_path / 'src' / f'c{i % 3}' / f'{i}.png'))

    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get('PYTHONPATH', '')]))
    tool = [osp.join(REPO_ROOT, 'tools', 'translate.py'), TINY, ckpt, '--src', str(tmp_path / 'src'),
            '--batch-size', str(BATCH), '--device', 'cpu']
    logs = tmp_path / 'logs'
    dist = subprocess.Popen(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--log-dir', str(logs),
         '--redirects', '3', *tool, '--out', str(tmp_path / 'dist')],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    single = subprocess.run([sys.executable, *tool, '--out', str(tmp_path / 'single')], env=env, capture_output=True,
                            text=True, timeout=120)
    dist_out = dist.communicate(timeout=120)[0]
    assert single.returncode == 0, single.stdout[-2000:] + single.stderr[-2000:]
    assert dist.returncode == 0, dist_out[-3000:]

    ranks = {}
    for log in glob.glob(str(logs / '**' / 'stdout.log'), recursive=True):
        text = open(log).read()
        (total, done, todo, rank, world), = LINE.findall(text)
        (wrote, ) = WROTE.findall(text)
        ranks[int(rank)] = (int(total), int(done), int(todo), int(world), int(wrote))
    # each rank sees the whole list, takes its own batches and writes each of them once
    assert ranks == {0: (NUM_IMAGES, 0, 5, 2, 5), 1: (NUM_IMAGES, 0, 4, 2, 4)}
    assert sum(r[2] for r in ranks.values()) == sum(r[4] for r in ranks.values()) == NUM_IMAGES

    dist_files, single_files = _files(tmp_path / 'dist'), _files(tmp_path / 'single')
    images = sorted(n for n in dist_files if n.startswith('c'))
    assert len(images) == NUM_IMAGES and set(dist_files) == set(single_files)  # + grid.png, translate_settings.json
    assert all(dist_files[n] == single_files[n] for n in dist_files)  # byte-identical files, same pixels
    assert len({dist_files[n] for n in images}) == NUM_IMAGES  # distinct translations (not a constant image)
