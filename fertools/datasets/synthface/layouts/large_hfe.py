"""Write SynthFace in the Large-HFE layout :class:`fertools.datasets.LargeHFEDataset` assumes."""
import os.path as osp

import numpy as np

from fertools.datasets.expressions import OULU_CASIA_CLASSES

from ._render import Renderer, write_image


def write_large_hfe(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                    images_per_expression: int = 2) -> dict:
    """Lay out ``out_dir/Large-HFE/{VIS,NIR}/<subject 001>/<Expression>/<0001>.jpg``: paired renders of the six
    basic expressions, the same relative path in both modality folders (NIR as grey JPEG)."""
    root = osp.join(out_dir, 'Large-HFE')
    jobs = [(s, e, v) for s in range(num_subjects) for e in OULU_CASIA_CLASSES for v in range(images_per_expression)]
    out = renderer.render([j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs])
    for (s, e, v), vis, nir in zip(jobs, out['vis'], out['nir']):
        rel = osp.join(f'{s + 1:03d}', e.capitalize(), f'{v + 1:04d}.jpg')
        write_image(osp.join(root, 'VIS', rel), vis)
        write_image(osp.join(root, 'NIR', rel), nir, rgb=False)
    return dict(data_root=root, num_images=len(jobs), subjects=[f'{s + 1:03d}' for s in range(num_subjects)])
