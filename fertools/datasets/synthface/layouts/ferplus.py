"""Write SynthFace as FER2013 + FERPlus (see :class:`fertools.datasets.FERPlusDataset` for the layout)."""
import csv
import os
import os.path as osp

import cv2
import numpy as np

from fertools.datasets.expressions import CONTEMPT, DISGUST, FER2013_CLASSES, FERPLUS_CLASSES

from ._render import Renderer, subject_split, to_grey, write_image

_USAGES = ('Training', 'PublicTest', 'PrivateTest')
_PNG_DIRS = dict(Training='FER2013Train', PublicTest='FER2013Valid', PrivateTest='FER2013Test')
VOTE_HEADER = ['Usage', 'Image name', 'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear',
               'contempt', 'unknown', 'NF']


def _votes(true_col: int, rng: np.random.Generator, not_face: bool):
    """Ten taggers' votes: mostly the true column, the rest spread (incl. unknown); NF rows mostly NF."""
    votes = np.zeros(10, np.int64)
    if not_face:
        votes[9] = rng.integers(7, 11)
    else:
        votes[true_col] = rng.integers(4, 11)
    for _ in range(10 - votes.sum()):
        votes[rng.integers(0, 9)] += 1
    return votes


def write_ferplus(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                  images_per_expression: int = 1, not_face_every: int = 15, png: bool = True,
                  label_fields: int = 12) -> dict:
    """Lay out ``out_dir/fer2013.csv`` + ``out_dir/fer2013new.csv`` (+ ``FER2013{Train,Valid,Test}`` PNGs).

    Faces of the 8 FERPlus emotions (contempt included) are rendered, made grey and resized to 48x48 as
    FER2013's. Subjects are split into Training / PublicTest / PrivateTest. ``fer2013.csv``'s ``emotion`` is
    the FER2013 code of the rendered expression (contempt, absent from FER2013, is written as disgust).
    Votes of 10 simulated taggers go to ``fer2013new.csv``: the rendered emotion gets 4-10 votes, the rest
    spread at random over the 8 emotions and 'unknown'; every ``not_face_every``-th row is a non-face
    row (NF 7-10 votes). With ``png`` the FERPlus repository's ``data/`` layout is written too
    (``FER2013Train/fer0000000.png`` + header-less ``label.csv``) with ``label_fields`` 12 (rows
    ``name,"(0, 0, 48, 48)",<10 votes>``, the files the repository ships) or 11 (rows ``name,<10 votes>``, as
    later versions of its ``generate_training_data.py`` write them).
    """
    if label_fields not in (11, 12):
        raise ValueError(f'label_fields must be 12 (name, box, 10 votes) or 11 (name, 10 votes), got {label_fields}.')
    parts = subject_split(num_subjects, (0.6, 0.2, 0.2), rng)
    jobs = [(s, e, v, usage) for usage, subjects in zip(_USAGES, parts) for s in subjects
            for e in FERPLUS_CLASSES for v in range(images_per_expression)]
    jobs = [jobs[i] for i in rng.permutation(len(jobs))]
    jobs.sort(key=lambda j: _USAGES.index(j[3]))  # FER2013 lists Training, then PublicTest, then PrivateTest
    out = renderer.render([j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs])
    os.makedirs(out_dir, exist_ok=True)
    fer_rows, new_rows, png_rows = [], [], {u: [] for u in _USAGES}
    for i, ((s, e, v, usage), img) in enumerate(zip(jobs, out['vis'])):
        grey = cv2.resize(to_grey(img), (48, 48), interpolation=cv2.INTER_AREA)
        fer_code = FER2013_CLASSES.index(DISGUST if e == CONTEMPT else e)
        fer_rows.append([fer_code, ' '.join(map(str, grey.reshape(-1).tolist())), usage])
        name = f'fer{i:07d}.png'
        votes = _votes(FERPLUS_CLASSES.index(e), rng, not_face=(i % not_face_every == not_face_every - 1))
        new_rows.append([usage, name] + votes.tolist())
        if png:
            write_image(osp.join(out_dir, _PNG_DIRS[usage], name), grey, rgb=False)
            png_rows[usage].append([name] + ['(0, 0, 48, 48)'] * (label_fields == 12) + votes.tolist())
    with open(osp.join(out_dir, 'fer2013.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['emotion', 'pixels', 'Usage'])
        w.writerows(fer_rows)
    with open(osp.join(out_dir, 'fer2013new.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(VOTE_HEADER)
        w.writerows(new_rows)
    if png:
        for usage, rows in png_rows.items():
            os.makedirs(osp.join(out_dir, _PNG_DIRS[usage]), exist_ok=True)
            with open(osp.join(out_dir, _PNG_DIRS[usage], 'label.csv'), 'w', newline='') as f:
                csv.writer(f).writerows(rows)
    return dict(data_root=out_dir, num_rows=len(jobs),
                counts={u: sum(j[3] == u for j in jobs) for u in _USAGES},
                subjects=dict(zip(('train', 'val', 'test'), parts)))
