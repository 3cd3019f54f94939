"""Write SynthFace as KDEF (see :class:`fertools.datasets.KDEFDataset` for the layout)."""
import os.path as osp

import cv2
import numpy as np

from fertools.datasets.expressions import KDEF_CODES

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


def kdef_subject(i: int):
    """Subject index → (gender, two-digit id): F01, M01, F02, M02, ..."""
    return ('F' if i % 2 == 0 else 'M'), f'{i // 2 + 1:02d}'


def write_kdef(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
               angles=ANGLES) -> dict:
    """Lay out ``out_dir/KDEF/<A|B><F|M><NN>/<folder><AF|AN|DI|HA|NE|SA|SU><FL|HL|S|HR|FR>.JPG``.

    Subjects alternate female/male (F01, M01, F02, ...; at most 35 per gender as in KDEF); sessions A and B
    are two variations of the same person. Each angle sets the head yaw to :data:`YAW_DEG` through the
    generator's public ``render(..., yaw_deg=...)`` (pitch, roll and light keep the variation's jitter); a
    generator without ``yaw_deg`` gets a horizontal compression towards the turned side instead.
    """
    if num_subjects > 70:
        raise ValueError('KDEF has at most 70 people (35 per gender).')
    root = osp.join(out_dir, 'KDEF')
    jobs = [(i, sess, code, angle) for i in range(num_subjects) for sess in 'AB' for code in KDEF_CODES
            for angle in angles]
    variations = [('AB'.index(sess) * 16 + ANGLES.index(angle)) for _, sess, _, angle in jobs]
    yaw = [YAW_DEG[j[3]] for j in jobs] if renderer.can_turn else None
    out = renderer.render([j[0] for j in jobs], [KDEF_CODES[j[2]] for j in jobs], variations, yaw_deg=yaw)
    for (i, sess, code, angle), img in zip(jobs, out['vis']):
        if yaw is None:
            img = _turn(img, angle)
        gender, pid = kdef_subject(i)
        folder = f'{sess}{gender}{pid}'
        write_image(osp.join(root, folder, f'{folder}{code}{angle}.JPG'), img)
    return dict(data_root=root, num_images=len(jobs), subjects=[''.join(kdef_subject(i)) for i in range(num_subjects)])
