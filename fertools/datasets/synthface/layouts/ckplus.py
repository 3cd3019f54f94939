"""Write SynthFace as CK+ (see :class:`fertools.datasets.CKPlusDataset` for the layout)."""
import os
import os.path as osp

import numpy as np

from fertools.datasets.ckplus import CKPLUS_FOLDERS
from fertools.datasets.expressions import CKPLUS_CLASSES

from ._render import Renderer, to_grey, write_image
from .oulu_casia import ramp


def ckplus_subject(i: int) -> str:
    """Subject index → CK+-style id with gaps: S005, S010, S015, ..."""
    return f'S{5 * (i + 1):03d}'


def write_ckplus(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                 frames_per_sequence: int = 6, unlabelled_per_subject: int = 1, nested: bool = False) -> dict:
    """Lay out ``out_dir/CK+/{cohn-kanade-images,Emotion,Landmarks}/S005/001/...``.

    Per subject: one neutral→apex sequence for each CK+ emotion code 1-7 (anger, contempt, disgust, fear,
    happy, sadness, surprise) in random order, plus ``unlabelled_per_subject`` sequences with no emotion file
    (as most of CK+'s 593 sequences); sequences are numbered 001, 002, ... Frames are grey PNGs
    ``S005_001_00000001.png``; the last frame's ``S005_001_000000NN_emotion.txt`` holds the code as
    ``"   3.0000000e+00"``; every frame has ``..._landmarks.txt`` with 68 lines ``"   x   y"`` (``%.7e``).
    Unlabelled sequences alternately get an empty ``Emotion/<S>/<seq>`` folder or none. ``nested=True``
    writes each part inside a folder named after its release zip, as many copies are unpacked
    (``extended-cohn-kanade-images/cohn-kanade-images``, ``Emotion_labels/Emotion``, ``Landmarks/Landmarks``).
    """
    root = osp.join(out_dir, 'CK+')
    parts = {k: osp.join(root, v[0] if nested else v[-1]) for k, v in CKPLUS_FOLDERS.items()}
    inten = ramp(frames_per_sequence)
    seqs = []
    for i in range(num_subjects):
        codes = [int(c) for c in rng.permutation(np.arange(1, 8))]
        codes += [None] * unlabelled_per_subject
        codes = [codes[k] for k in rng.permutation(len(codes))]
        seqs += [(i, n + 1, code) for n, code in enumerate(codes)]
    jobs = [(i, n, code, f) for i, n, code in seqs for f in range(frames_per_sequence)]
    exprs = [CKPLUS_CLASSES[code if code is not None else int(rng.integers(1, 8))] for i, n, code in seqs]
    out = renderer.render([j[0] for j in jobs], [exprs[k // frames_per_sequence] for k in range(len(jobs))],
                          [j[1] for j in jobs], intensity=[inten[j[3]] for j in jobs])
    labelled = 0
    for k, ((i, n, code, f), vis, lmk) in enumerate(zip(jobs, out['vis'], out['landmarks'])):
        subj, seq = ckplus_subject(i), f'{n:03d}'
        stem = f'{subj}_{seq}_{f + 1:08d}'
        write_image(osp.join(parts['image'], subj, seq, stem + '.png'), to_grey(vis), rgb=False)
        lmk_dir = osp.join(parts['landmark'], subj, seq)
        os.makedirs(lmk_dir, exist_ok=True)
        with open(osp.join(lmk_dir, stem + '_landmarks.txt'), 'w') as fh:
            fh.write(''.join(f'   {x:.7e}   {y:.7e}\n' for x, y in lmk))
        if f == frames_per_sequence - 1:
            emo_dir = osp.join(parts['emotion'], subj, seq)
            if code is not None:
                labelled += 1
                os.makedirs(emo_dir, exist_ok=True)
                with open(osp.join(emo_dir, stem + '_emotion.txt'), 'w') as fh:
                    fh.write(f'   {float(code):.7e}\n')
            elif n % 2 == 0:
                os.makedirs(emo_dir, exist_ok=True)
    return dict(data_root=root, num_sequences=len(seqs), num_labelled=labelled,
                subjects=[ckplus_subject(i) for i in range(num_subjects)])
