"""Write SynthFace as the MMI release (see :class:`fertools.datasets.MMIDataset` for the layout): per session
folder one ``.avi`` video, its same-stem media XML, ``session.xml`` and the ``-oao_aucs.xml`` FACS file."""
import os
import os.path as osp
from collections import Counter

import cv2
import numpy as np

from fertools.datasets.expressions import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE
from fertools.datasets.mmi import MMI_EMOTION_CODES, MMI_VIEWS

from ._render import Renderer
from .kdef import YAW_DEG

#: Emotion value written for ``other_emotion_per_subject`` sessions: above 6, outside the reader's map.
OTHER_EMOTION = '7'
#: Head yaw of the profile view (SynthFace's full profile, as KDEF's ``FR``).
PROFILE_YAW = YAW_DEG['FR']
#: Prototypic action units of each expression (EMFACS), written to the ``-oao_aucs.xml`` files.
PROTOTYPE_AUS = {ANGER: (4, 5, 7, 23), DISGUST: (9, 15, 16), FEAR: (1, 2, 4, 5, 7, 20, 26), HAPPINESS: (6, 12),
                 SADNESS: (1, 4, 15), SURPRISE: (1, 2, 5, 26)}


def _write_text(path: str, text: str) -> None:
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('<?xml version="1.0" encoding="utf-8"?>\n' + text)


def write_video(path: str, frames, fps: float = 24.0, fourcc: str = 'MJPG') -> None:
    """Write RGB frames ``uint8 [T, H, W, 3]`` as a video with OpenCV; raise naming the file and codec."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write a {fourcc} video to {path!r}; choose another fourcc (MJPG is built in).')
    for frame in frames:
        writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    writer.release()


def _session_files(sdir: str, sid: int, subject: int, stem: str, value, view: str, expression: str, num_frames: int):
    """The three XML files of one session, in the release's form."""
    tag = f'  <Metatag Name="Emotion" Value="{value}" />\n' if value is not None else ''
    _write_text(osp.join(sdir, f'{stem}.xml'), f'<Metatags>\n{tag}</Metatags>\n')
    _write_text(osp.join(sdir, 'session.xml'),
                f'<session sessionId="{sid}">\n  <subject id="{subject}" />\n  <track id="0" view="{view}">\n'
                f'    <annotation id="1" type="FACS" filename="{stem}-oao_aucs.xml" />\n  </track>\n</session>\n')
    markers = ((min(2, num_frames), 1), (num_frames // 2 + 1, 2), (num_frames, 3))  # 1-based (frame, type)
    aus = ''.join(f'  <ActionUnit Number="{au}">\n' + ''.join(f'    <Marker Frame="{f}" Type="{t}" />\n'
                                                                for f, t in markers) + '  </ActionUnit>\n'
                  for au in PROTOTYPE_AUS[expression])
    _write_text(osp.join(sdir, f'{stem}-oao_aucs.xml'), f'<ActionUnits>\n{aus}</ActionUnits>\n')


def write_mmi(out_dir: str, renderer: Renderer, num_subjects: int, rng: np.random.Generator,
              frames_per_session: int = 9, unlabelled_per_subject: int = 1, other_emotion_per_subject: int = 0,
              views=('0', ), fps: float = 24.0, fourcc: str = 'MJPG') -> dict:
    """Lay out ``out_dir/MMI/Sessions/<session id>/{S001-002.avi, S001-002.xml, session.xml,
    S001-002-oao_aucs.xml}``.

    Per subject: one onset→apex→offset session per MMI emotion code 1-6 (anger, disgust, fear, happiness,
    sadness, surprise), ``other_emotion_per_subject`` sessions with Emotion value :data:`OTHER_EMOTION` (outside
    the map, as some real sessions) and ``unlabelled_per_subject`` AU-only sessions (no Emotion metatag), in
    random order. Session folder ids count up from 100 in random order; video stems are ``S<subject:03d>-<k:03d>``
    (k counts the subject's sessions from 1). Each session is one capture (pose, light) whose expression rises
    and falls over ``frames_per_session`` frames (intensity ``sin(pi t)^2``: the middle frame is the apex, the
    first and last are neutral), written with OpenCV's ``fourcc`` codec at ``fps``.

    Files, as the release has them: the media XML ``<Metatags><Metatag Name="Emotion" Value="6" /></Metatags>``;
    ``session.xml`` ``<session sessionId=".."><subject id="1" /><track id="0" view="0"><annotation id="1"
    type="FACS" filename="S001-002-oao_aucs.xml" /></track></session>``; the FACS file ``<ActionUnits>`` with one
    ``<ActionUnit Number="12">`` per prototypic AU of the expression holding ``<Marker Frame="f" Type="t" />`` at
    onset (t=1), apex (2) and offset (3), frames 1-based. The root element names are assumed (readers do not
    rely on them).

    Views: session k of subject i gets view code ``views[(i + k) % len(views)]`` of :data:`MMI_VIEWS`: ``'0'``
    frontal (the variation's own yaw), ``'1'`` profile (yaw :data:`PROFILE_YAW`), ``'2'`` dual: the frontal and
    the profile frame side by side (twice as wide). Profiles need a generator that turns heads.

    Returns:
        dict(data_root, num_sessions, num_labelled, num_other_emotion, labelled_by_view (view code → count),
        subjects, sessions: [dict(session, stem, subject, emotion, view)]).
    """
    unknown = sorted(set(views) - set(MMI_VIEWS))
    if unknown or not views:
        raise ValueError(f'views must be codes of {MMI_VIEWS}, got {tuple(views)}.')
    if set(views) != {'0'} and not renderer.can_turn:
        raise ValueError('MMI profile and dual views need a generator whose render() accepts yaw_deg.')
    root = osp.join(out_dir, 'MMI')
    inten = np.sin(np.pi * np.linspace(0, 1, frames_per_session))**2  # 0 → 1 (middle) → 0
    sessions = []
    for i in range(num_subjects):
        values = [str(c) for c in MMI_EMOTION_CODES] + [OTHER_EMOTION] * other_emotion_per_subject
        values += [None] * unlabelled_per_subject
        for n, k in enumerate(rng.permutation(len(values)), 1):
            in_map = values[k] is not None and int(values[k]) in MMI_EMOTION_CODES
            code = int(values[k]) if in_map else int(rng.integers(1, 7))  # AU-only / other: any face
            sessions.append(dict(subject=i, stem=f'S{i + 1:03d}-{n:03d}', emotion=values[k],
                                 expression=MMI_EMOTION_CODES[code], view=views[(i + n) % len(views)]))
    for s, sid in zip(sessions, rng.permutation(len(sessions))):
        s['session'] = str(100 + int(sid))
    # one render per (session, frame, part): part 0 = frontal (views 0, 2), part 1 = profile (views 1, 2)
    jobs = [(k, f, part) for k, s in enumerate(sessions) for f in range(frames_per_session)
            for part in ((0, ) if s['view'] == '0' else (1, ) if s['view'] == '1' else (0, 1))]
    yaw = [np.nan if part == 0 else PROFILE_YAW for _, _, part in jobs] if renderer.can_turn else None
    job_sessions = [sessions[k] for k, _, _ in jobs]
    out = renderer.render([s['subject'] for s in job_sessions], [s['expression'] for s in job_sessions],
                          [int(s['session']) for s in job_sessions], intensity=[inten[f] for _, f, _ in jobs],
                          yaw_deg=yaw)
    parts = {(k, f, part): img for (k, f, part), img in zip(jobs, out['vis'])}
    for k, s in enumerate(sessions):
        sdir = osp.join(root, 'Sessions', s['session'])
        os.makedirs(sdir, exist_ok=True)
        frames = [np.concatenate([parts[(k, f, p)] for p in (0, 1) if (k, f, p) in parts], axis=1)
                  for f in range(frames_per_session)]
        write_video(osp.join(sdir, s['stem'] + '.avi'), frames, fps, fourcc)
        _session_files(sdir, s['session'], s['subject'] + 1, s['stem'], s['emotion'], s['view'], s['expression'],
                       frames_per_session)
    labelled = [s for s in sessions if s['emotion'] is not None and s['emotion'] != OTHER_EMOTION]
    return dict(data_root=root, num_sessions=len(sessions), num_labelled=len(labelled),
                num_other_emotion=other_emotion_per_subject * num_subjects,
                labelled_by_view=dict(Counter(s['view'] for s in labelled)),
                subjects=[str(i + 1) for i in range(num_subjects)],
                sessions=[dict(session=s['session'], stem=s['stem'], subject=str(s['subject'] + 1),
                               emotion=s['emotion'], view=s['view']) for s in sessions])
