"""Write SynthFace in the CFEE layout :class:`fertools.datasets.CFEEDataset` assumes."""
import os.path as osp

import numpy as np

from fertools.datasets.cfee import CFEE_CATEGORIES

from ._render import Renderer, write_image


def write_cfee(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator) -> dict:
    """Lay out ``out_dir/CFEE/<subject>/<subject>_<index>.jpg`` for category indices 1-7 (neutral and the
    six basic expressions; SynthFace renders no compound expression, so indices 8-22 are absent)."""
    root = osp.join(out_dir, 'CFEE')
    jobs = [(s, idx) for s in range(num_subjects) for idx in range(1, 8)]
    out = renderer.render([s for s, _ in jobs], [CFEE_CATEGORIES[idx - 1] for _, idx in jobs], [0] * len(jobs))
    for (s, idx), img in zip(jobs, out['vis']):
        subj = f'{s + 1:03d}'
        write_image(osp.join(root, subj, f'{subj}_{idx:02d}.jpg'), img)
    return dict(data_root=root, num_images=len(jobs), subjects=[f'{s + 1:03d}' for s in range(num_subjects)])
