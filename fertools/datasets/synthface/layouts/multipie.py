"""Write SynthFace as Multi-PIE's multiview tree (see :class:`fertools.datasets.MultiPIEDataset` for the layout)."""
import os.path as osp

import numpy as np

from fertools.datasets.expressions import ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SURPRISE
from fertools.datasets.multipie import CAMERA_YAW, FRONTAL_RANGE_CAMERAS, RECORDING_EXPRESSIONS, multipie_file_name

from ._render import Renderer, write_image

#: SynthFace expression rendered for each Multi-PIE expression. SynthFace has no squint or scream prototype:
#: squint is rendered as anger (brows lowered, lids tightened) and scream as fear (jaw drop, lips stretched,
#: eyes wide), stand-ins that the reader drops by default anyway.
RENDERED = {'neutral': NEUTRAL, 'smile': HAPPINESS, 'surprise': SURPRISE, 'disgust': DISGUST, 'squint': ANGER,
            'scream': FEAR}
#: Shots without flash (ambient light only).
AMBIENT_SHOTS = (0, 19)


def shot_shading(shot: int, width: int) -> np.ndarray:
    """``float32[width]`` horizontal light factor of an emulated illumination shot (see :func:`write_multipie`).

    Shot 07 is flat (1.0); other flash shots tilt the light linearly across the face, the tilt growing with
    ``|shot - 7|`` (sign = side) up to ±50% at the image border; ambient shots (00, 19) are a flat 0.6.
    """
    if shot in AMBIENT_SHOTS:
        return np.full(width, 0.6, np.float32)
    tilt = 0.5 * np.clip((shot - 7) / 6.0, -1.0, 1.0)
    return (1.0 + tilt * np.linspace(-1.0, 1.0, width)).astype(np.float32)


def write_multipie(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
                   sessions=(1, 2, 3, 4), cameras=FRONTAL_RANGE_CAMERAS, shots=(6, 7)) -> dict:
    """Lay out ``out_dir/Multi-PIE/data/session0N/multiview/<subject>/<recording>/<camera>/<file>.png``.

    Every subject attends every session in ``sessions`` and gives every recording of it
    (:data:`~fertools.datasets.multipie.RECORDING_EXPRESSIONS`; squint and scream are stand-ins, see
    :data:`RENDERED`). One recording is one capture (one SynthFace variation: expression intensity, pitch,
    roll, light): all its cameras and shots show that same instant, as Multi-PIE's synchronised cameras do.

    - **Cameras are real head turns**: each camera renders the capture with the generator's
      ``render(..., yaw_deg=CAMERA_YAW[camera])`` (camera 05_1 → 0°, 08_0 → −45° ...; landmarks follow).
      SynthFace's cylinder warp holds up to about ±60°; at ±75° and ±90° the face collapses to a sliver, so the
      default is the ±45° range. A generator without ``yaw_deg`` raises (no fake turns are written).
    - **Shots are emulated, not Multi-PIE's flash geometry**: every shot of a camera is the same render times
      :func:`shot_shading` (07 flat, others a left/right light tilt, 00 and 19 dimmer ambient-only), so shots
      differ in light only.

    The reader's neutral references need camera 05_1 and shot 07 or 06 among those written (the defaults).
    Images are colour PNGs of ``image_size`` pixels (real Multi-PIE: 640x480). ``rng`` is unused: nothing
    here is drawn at random (the generator's seed decides every face).
    """
    if not 1 <= num_subjects <= 999:
        raise ValueError(f'Multi-PIE subject ids have 3 digits: num_subjects must be in [1, 999], got {num_subjects}.')
    bad = [c for c in cameras if c not in CAMERA_YAW]
    if bad:
        raise ValueError(f'write_multipie: unknown cameras {bad}; choose from {tuple(CAMERA_YAW)}.')
    bad = [s for s in shots if not 0 <= s < 20] + [s for s in sessions if s not in (1, 2, 3, 4)]
    if bad:
        raise ValueError(f'write_multipie: shots must be in 0..19 and sessions in 1..4; got {bad}.')
    root = osp.join(out_dir, 'Multi-PIE', 'data')
    captures = [(s, sess, rec) for s in range(num_subjects) for sess in sessions
                for rec in sorted(r for ss, r in RECORDING_EXPRESSIONS if ss == sess)]
    jobs = [(s, sess, rec, cam) for s, sess, rec in captures for cam in cameras]
    out = renderer.render([j[0] for j in jobs], [RENDERED[RECORDING_EXPRESSIONS[j[1:3]]] for j in jobs],
                          [10 * sess + rec for _, sess, rec, _ in jobs], yaw_deg=[CAMERA_YAW[j[3]] for j in jobs])
    width = out['vis'].shape[2]
    shading = {shot: shot_shading(shot, width)[None, :, None] for shot in shots}
    for (s, sess, rec, cam), vis in zip(jobs, out['vis']):
        folder = osp.join(root, f'session{sess:02d}', 'multiview', f'{s + 1:03d}', f'{rec:02d}', cam)
        for shot in shots:
            img = np.clip(np.rint(vis.astype(np.float32) * shading[shot]), 0, 255).astype(np.uint8)
            write_image(osp.join(folder, multipie_file_name(s + 1, sess, rec, cam, shot)), img)
    return dict(data_root=root, num_images=len(jobs) * len(shots), num_captures=len(captures),
                subjects=[f'{s + 1:03d}' for s in range(num_subjects)], sessions=tuple(sessions),
                cameras=tuple(cameras), shots=tuple(shots))
