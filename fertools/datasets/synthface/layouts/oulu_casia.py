"""Write SynthFace as Oulu-CASIA NIR&VIS (see :class:`fertools.datasets.OuluCASIADataset` for the layout)."""
import os.path as osp

import numpy as np

from fertools.datasets.expressions import OULU_CASIA_CLASSES

from ._render import Renderer, write_image

ILLUMINATIONS = ('Dark', 'Weak', 'Strong')
#: Illumination → (VIS gain, NIR gain): the NIR camera has its own active light, so it barely changes.
_GAIN = dict(Dark=(0.2, 0.9), Weak=(0.55, 0.95), Strong=(1.0, 1.0))
FOLDERS = tuple(e.capitalize() for e in OULU_CASIA_CLASSES)  # Anger Disgust Fear Happiness Sadness Surprise


def ramp(num_frames: int) -> np.ndarray:
    """Expression intensity of a neutral→apex sequence: 0 at the first frame, 1 at the last (smoothstep)."""
    t = np.linspace(0.0, 1.0, num_frames)
    return t * t * (3 - 2 * t)


def write_oulu_casia(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                     frames_per_sequence: int = 6, illuminations=ILLUMINATIONS, ni_missing_frames: int = 0) -> dict:
    """Lay out ``out_dir/OriginalImg/{NI,VL}/{Dark,Weak,Strong}/P001/<Expression>/000.jpeg ...``.

    One neutral→apex sequence per subject, expression and illumination; the NI frame and the VL frame with
    the same path are the same rendered instant (paired). Illumination scales the VIS image strongly and the
    NIR image little. NI frames are written as single-channel grey JPEGs. The two cameras' sequences may
    differ in length in the release: ``ni_missing_frames`` drops that many last NI frames of every sequence
    of P001 (their VL frames have no NI partner; the count is returned as ``unpaired``).
    """
    if not 0 <= ni_missing_frames < frames_per_sequence:
        raise ValueError(f'ni_missing_frames must be in [0, frames_per_sequence={frames_per_sequence}), '
                         f'got {ni_missing_frames}.')
    root = osp.join(out_dir, 'OriginalImg')
    inten = ramp(frames_per_sequence)
    jobs = [(s, il, e, f) for s in range(num_subjects) for il in illuminations for e in OULU_CASIA_CLASSES
            for f in range(frames_per_sequence)]
    out = renderer.render([j[0] for j in jobs], [j[2] for j in jobs],
                          [ILLUMINATIONS.index(j[1]) for j in jobs], intensity=[inten[j[3]] for j in jobs])
    unpaired = 0
    for (s, il, e, f), vis, nir in zip(jobs, out['vis'], out['nir']):
        rel = osp.join(il, f'P{s + 1:03d}', FOLDERS[OULU_CASIA_CLASSES.index(e)], f'{f:03d}.jpeg')
        gv, gn = _GAIN[il]
        write_image(osp.join(root, 'VL', rel), np.clip(vis.astype(np.float32) * gv, 0, 255).astype(np.uint8))
        if s == 0 and f >= frames_per_sequence - ni_missing_frames:
            unpaired += 1
            continue
        write_image(osp.join(root, 'NI', rel), np.clip(nir.astype(np.float32) * gn, 0, 255).astype(np.uint8),
                    rgb=False)
    return dict(data_root=root, num_sequences=len(jobs) // frames_per_sequence, unpaired=unpaired,
                subjects=[f'P{s + 1:03d}' for s in range(num_subjects)])
