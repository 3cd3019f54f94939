"""Write SynthFace as KDEF (see :class:`fertools.datasets.KDEFDataset` for the layout)."""
import os.path as osp

import cv2
import numpy as np

from fertools.datasets.expressions import KDEF_CODES
from fertools.datasets.kdef import KDEF_ERRATA

from ._render import Renderer, write_image

ANGLES = ('FL', 'HL', 'S', 'HR', 'FR')
#: Head yaw per KDEF angle in degrees (left = negative generator yaw).
YAW_DEG = {'FL': -60.0, 'HL': -35.0, 'S': 0.0, 'HR': 35.0, 'FR': 60.0}
#: Fallback when the generator cannot turn heads: horizontal compression towards the turned side.
_YAW = {'FL': (-1, 0.55), 'HL': (-1, 0.8), 'S': (0, 1.0), 'HR': (1, 0.8), 'FR': (1, 0.55)}


def _turn(img: np.ndarray, angle: str) -> np.ndarray:
    side, scale = _YAW[angle]
    if side == 0:
        return img
    h, w = img.shape[:2]
    shift = (w - w * scale) if side > 0 else 0.0
    m = np.float32([[scale, 0, shift], [0, 1, 0]])
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def kdef_subject(i: int, id_offset: int = 0):
    """Subject index → (gender, two-digit id): F01, M01, F02, M02, ... (ids shifted by ``id_offset``)."""
    return ('F' if i % 2 == 0 else 'M'), f'{i // 2 + 1 + id_offset:02d}'


def write_kdef(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
               angles=ANGLES, id_offset: int = 0, errata: bool = False, black_images: int = 0) -> dict:
    """Lay out ``out_dir/KDEF/<A|B><F|M><NN>/<folder><AF|AN|DI|HA|NE|SA|SU><FL|HL|S|HR|FR>.JPG``.

    Subjects alternate female/male (F01, M01, F02, ...; ids start at ``id_offset + 1``, at most 35 per
    gender as in KDEF); sessions A and B are two variations of the same person. Each angle sets the head yaw
    to :data:`YAW_DEG` through the generator's public ``render(..., yaw_deg=...)`` (pitch, roll and light keep
    the variation's jitter); a generator without ``yaw_deg`` gets a horizontal compression towards the turned
    side instead.

    The release's flaws can be written too: ``errata=True`` stores the pictures the KDEF release misnames
    under its wrong names (``AF31/AF31V.JPG`` for AF31SAHL, ``AM31/AM31H.JPG`` for AM31SUHR, see
    :data:`fertools.datasets.kdef.KDEF_ERRATA`; needs person 31 written, e.g. ``id_offset=30``, and the HL / HR
    angles), and ``black_images`` random pictures are replaced by near-black placeholders (grey levels 0-3).
    The returned dict lists them under ``errata`` (written name → stem it stands for) and ``black`` (paths).
    """
    if num_subjects // 2 + num_subjects % 2 + id_offset > 35:
        raise ValueError(f'KDEF has at most 35 people per gender: num_subjects={num_subjects} with '
                         f'id_offset={id_offset} goes past 35.')
    root = osp.join(out_dir, 'KDEF')
    jobs = [(i, sess, code, angle) for i in range(num_subjects) for sess in 'AB' for code in KDEF_CODES
            for angle in angles]
    variations = [('AB'.index(sess) * 16 + ANGLES.index(angle)) for _, sess, _, angle in jobs]
    yaw = [YAW_DEG[j[3]] for j in jobs] if renderer.can_turn else None
    out = renderer.render([j[0] for j in jobs], [KDEF_CODES[j[2]] for j in jobs], variations, yaw_deg=yaw)
    wrong_names = {v: k for k, v in KDEF_ERRATA.items()} if errata else {}
    black = set(rng.choice(len(jobs), size=black_images, replace=False).tolist()) if black_images else set()
    written_errata, black_paths = {}, []
    for n, ((i, sess, code, angle), img) in enumerate(zip(jobs, out['vis'])):
        if yaw is None:
            img = _turn(img, angle)
        gender, pid = kdef_subject(i, id_offset)
        folder = f'{sess}{gender}{pid}'
        stem = f'{folder}{code}{angle}'
        name = wrong_names.get(stem, stem) + '.JPG'
        if name != stem + '.JPG':
            written_errata[name] = stem
        if n in black:
            img = rng.integers(0, 4, size=img.shape, dtype=np.uint8)
            black_paths.append(osp.join(root, folder, name))
        write_image(osp.join(root, folder, name), img)
    if errata and not written_errata:
        raise ValueError('errata=True writes AF31V.JPG / AM31H.JPG, which needs person 31 (e.g. id_offset=30, '
                         'num_subjects=2) and the HL / HR angles.')
    return dict(data_root=root, num_images=len(jobs), errata=written_errata, black=black_paths,
                subjects=[''.join(kdef_subject(i, id_offset)) for i in range(num_subjects)])
