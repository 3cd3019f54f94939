"""Write SynthFace in the MMI layout :class:`fertools.datasets.MMIDataset` assumes (frames + session.xml)."""
import os
import os.path as osp

import numpy as np

from fertools.datasets.mmi import MMI_EMOTION_CODES

from ._render import Renderer, write_image


def write_mmi(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
              frames_per_session: int = 9, unlabelled_per_subject: int = 1) -> dict:
    """Lay out ``out_dir/MMI/Sessions/<session id>/{session.xml, frames/000.png ...}``.

    Per subject one onset→apex→offset session per MMI emotion code 1-6 (anger, disgust, fear, happiness,
    sadness, surprise) and ``unlabelled_per_subject`` AU-only sessions (no ``Emotion`` metatag). Session
    ids count up from 100 in random order; ``session.xml`` is
    ``<session sessionId=".." mediaFile="S001-001.avi"><subject id="1"/><Metatag Name="Emotion" Value="6"/>
    </session>``.
    """
    root = osp.join(out_dir, 'MMI')
    t = np.linspace(0, 1, frames_per_session)
    inten = np.sin(np.pi * t) ** 2  # 0 → 1 (middle) → 0
    sessions = []
    for i in range(num_subjects):
        codes = list(MMI_EMOTION_CODES) + [None] * unlabelled_per_subject
        sessions += [(i, codes[k]) for k in rng.permutation(len(codes))]
    order = rng.permutation(len(sessions))
    sessions = [(100 + int(order[k]), s, code) for k, (s, code) in enumerate(sessions)]
    exprs = [MMI_EMOTION_CODES[code] if code else MMI_EMOTION_CODES[int(rng.integers(1, 7))]
             for _, _, code in sessions]
    jobs = [(k, f) for k in range(len(sessions)) for f in range(frames_per_session)]
    out = renderer.render([sessions[k][1] for k, _ in jobs], [exprs[k] for k, _ in jobs],
                          [sessions[k][0] for k, _ in jobs], intensity=[inten[f] for _, f in jobs])
    for (k, f), vis in zip(jobs, out['vis']):
        sid, s, code = sessions[k]
        write_image(osp.join(root, 'Sessions', str(sid), 'frames', f'{f:03d}.png'), vis)
    for n, (sid, s, code) in enumerate(sessions):
        tag = f'  <Metatag Name="Emotion" Value="{code}"/>\n' if code else ''
        sdir = osp.join(root, 'Sessions', str(sid))
        os.makedirs(sdir, exist_ok=True)
        with open(osp.join(sdir, 'session.xml'), 'w') as fh:
            fh.write('<?xml version="1.0" encoding="utf-8"?>\n'
                     f'<session sessionId="{sid}" mediaFile="S{s + 1:03d}-{n + 1:03d}.avi">\n'
                     f'  <subject id="{s + 1}"/>\n{tag}</session>\n')
    return dict(data_root=root, num_sessions=len(sessions), num_labelled=sum(c is not None for *_, c in sessions),
                subjects=[str(s + 1) for s in range(num_subjects)])
