"""Write SynthFace as a generic ``<split>/<class>/<image>`` tree (:class:`fertools.datasets.FERFolderDataset`)."""
import os.path as osp

import numpy as np

from fertools.datasets.expressions import BASIC_EXPRESSIONS, RAFDB_CLASSES

from ._render import Renderer, subject_split, write_image


def write_folder(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                 images_per_expression: int = 2, test_fraction: float = 0.25, numbered: bool = False) -> dict:
    """Lay out ``out_dir/folder/{train,test}/<expression>/S001_<n>.png`` (subject-disjoint splits; read with
    ``subject_pattern=r'^(?P<subject>S\\d+)_'``).

    ``numbered=True`` names the class folders ``1`` ... ``7`` by RAF-DB's label (``RAFDB_CLASSES`` index + 1,
    1 surprise ... 7 neutral), as RAF-DB repacks do; the returned ``class_map`` (folder → expression) is what
    :class:`fertools.datasets.FERFolderDataset` then needs.
    """
    folder_of = {e: (str(RAFDB_CLASSES.index(e) + 1) if numbered else e) for e in BASIC_EXPRESSIONS}
    root = osp.join(out_dir, 'folder')
    train_s, test_s = subject_split(num_subjects, (1 - test_fraction, test_fraction), rng)
    counts = {}
    for split, subjects in (('train', train_s), ('test', test_s)):
        jobs = [(s, e, v) for s in subjects for e in BASIC_EXPRESSIONS for v in range(images_per_expression)]
        out = renderer.render([j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs])
        for (s, e, v), img in zip(jobs, out['vis']):
            write_image(osp.join(root, split, folder_of[e], f'S{s + 1:03d}_{v + 1}.png'), img)
        counts[split] = len(jobs)
    return dict(data_root=root, counts=counts, class_map={f: e for e, f in folder_of.items()},
                subjects=dict(train=[f'S{s + 1:03d}' for s in train_s], test=[f'S{s + 1:03d}' for s in test_s]))
