"""Write SynthFace as RAF-DB *basic* (see :class:`fertools.datasets.RAFDBDataset` for the layout)."""
import os
import os.path as osp

import cv2
import numpy as np

from fertools.datasets.expressions import BASIC_EXPRESSIONS, RAFDB_CLASSES

from ._render import Renderer, subject_split, write_image


def write_rafdb(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                images_per_expression: int = 1, test_fraction: float = 0.25) -> dict:
    """Lay out ``out_dir/basic/{EmoLabel/list_patition_label.txt, Image/aligned, Image/original}``.

    Every subject gets ``images_per_expression`` faces of each of the 7 basic expressions (distinct
    variations). Subjects are split train/test (RAF-DB itself has no identities; keeping them disjoint
    avoids leakage). Names follow RAF-DB: ``train_00001.jpg`` (5 digits), ``test_0001.jpg`` (4 digits),
    aligned copies ``<name>_aligned.jpg``; ``original`` holds the face on a larger canvas (uncropped photo).
    Labels are RAF-DB codes 1-7 (Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral).
    """
    root = osp.join(out_dir, 'basic')
    train_s, test_s = subject_split(num_subjects, (1 - test_fraction, test_fraction), rng)
    lines, counts = [], {}
    for split, subjects, digits in (('train', train_s, 5), ('test', test_s, 4)):
        jobs = [(s, e, v) for s in subjects for e in BASIC_EXPRESSIONS for v in range(images_per_expression)]
        jobs = [jobs[i] for i in rng.permutation(len(jobs))]
        out = renderer.render([j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs])
        for n, ((s, e, v), img) in enumerate(zip(jobs, out['vis']), 1):
            name = f'{split}_{n:0{digits}d}'
            write_image(osp.join(root, 'Image', 'aligned', f'{name}_aligned.jpg'), img)
            h, w = img.shape[:2]
            canvas = cv2.copyMakeBorder(img, h // 4, h // 4, w // 4, w // 4, cv2.BORDER_REPLICATE)
            write_image(osp.join(root, 'Image', 'original', f'{name}.jpg'), canvas)
            lines.append(f'{name}.jpg {RAFDB_CLASSES.index(e) + 1}')
        counts[split] = len(jobs)
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return dict(data_root=root, counts=counts, subjects=dict(train=train_s, test=test_s))
