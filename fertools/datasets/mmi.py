"""MMI Facial Expression Database (Pantic, Valstar, Rademaker & Maat, ICME 2005), video sessions as frames."""
import csv
import os
import os.path as osp
import xml.etree.ElementTree as ET

from fertools.registry import DATASETS

from .expressions import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, canonical_expression
from .reader_utils import DatasetLayoutError, FERReaderBase, list_images, select_frames
from .splits import natural_key, split_subjects

__all__ = ['MMIDataset', 'MMI_CLASSES', 'MMI_EMOTION_CODES', 'read_mmi_session_xml']

#: MMI's emotion codes (the ``Emotion`` metatag): 1..6.
MMI_EMOTION_CODES = {1: ANGER, 2: DISGUST, 3: FEAR, 4: HAPPINESS, 5: SADNESS, 6: SURPRISE}
#: Default class order (code order).
MMI_CLASSES = tuple(MMI_EMOTION_CODES[i] for i in sorted(MMI_EMOTION_CODES))


def read_mmi_session_xml(path: str):
    """``(subject_id or None, emotion value or None)`` from an MMI ``session.xml``.

    Looks for any element whose tag is ``Metatag`` (any case) with ``Name="Emotion"`` and takes its
    ``Value``; the subject is the ``id`` attribute of a ``subject`` element, else a ``subjectId`` /
    ``subject`` attribute of the root.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DatasetLayoutError(f'MMI session file {path!r} is not valid XML: {e}') from None
    emotion = subject = None
    for el in root.iter():
        tag = el.tag.rsplit('}', 1)[-1].lower()
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        if tag == 'metatag' and attrs.get('name', '').lower() == 'emotion':
            emotion = attrs.get('value')
        elif tag == 'subject' and subject is None and 'id' in attrs:
            subject = attrs['id']
    if subject is None:
        attrs = {k.lower(): v for k, v in root.attrib.items()}
        subject = attrs.get('subjectid', attrs.get('subject'))
    return subject, emotion


@DATASETS.register_module()
class MMIDataset(FERReaderBase):
    """MMI: posed onset-apex-offset videos; the usual FER protocol takes the 3 middle (apex) frames of each
    emotion-labelled session and runs 10-fold person-independent cross-validation.

    The public download is a set of session folders with an ``.avi`` and XML metadata; fertools does not
    decode video, so this reader ASSUMES the frames were extracted next to the metadata (any tool; file
    names sort in temporal order). Assumed layout (every name is configurable)::

        data_root/
          Sessions/                             # sessions_dir
            1767/                               # one folder per session (its id)
              session.xml                       # session_file: <session ...> <subject id="15"/> ...
                                                #   <Metatag Name="Emotion" Value="6"/> ... </session>
              frames/000.png 001.png ...        # frame_dir ('' = images directly in the session folder)
          annotations.csv                       # OPTIONAL ann_file, overrides session.xml when given:
                                                #   session,subject,emotion
                                                #   1767,15,6

    Emotion coding: ``1`` anger, ``2`` disgust, ``3`` fear, ``4`` happiness, ``5`` sadness, ``6`` surprise
    (``MMI_CLASSES``; ``emotion_codes`` overrides it); an emotion given as a name (``'Happy'``) is also
    accepted. Sessions without an emotion (MMI has many AU-only sessions) are not used and their number is
    logged; an unknown code is an error. ``subject_id`` is the subject id as written (``'15'``), ``modality``
    ``'vis'``; each sample carries ``session`` too.

    ``with_neutral=True`` adds ``neutral_img_path``: the first frame of the sample's own session (MMI videos
    start neutral, onset -> apex -> offset; same subject, session and camera), which ``LoadFERImage`` loads
    as ``neutral_img`` (IDFERM's query / neutral-reference pairs).

    Args:
        data_root (str): folder holding ``sessions_dir``.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        ann_file (str): optional CSV (relative to ``data_root``); ``''`` = read each ``session_file``.
        sessions_dir, session_file, frame_dir (str): names in the layout above.
        frame_mode (str), num_frames (int): labelled frames per session (``'middle'``, 3 by default).
        emotion_codes (dict | None): code → expression name, default :data:`MMI_EMOTION_CODES`.
        with_neutral (bool): add ``neutral_img_path`` = the session's first frame.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
    """

    METAINFO = dict(classes=MMI_CLASSES)
    LAYOUT = ('data_root/Sessions/<session id>/session.xml (<subject id=".."/>, <Metatag Name="Emotion" '
              'Value="1-6"/>) + data_root/Sessions/<session id>/frames/<frames in temporal order>, or '
              'data_root/annotations.csv "session,subject,emotion" (codes 1-6 = anger, disgust, fear, '
              'happiness, sadness, surprise)')

    def __init__(self, data_root: str, split: str = 'train', ann_file: str = '', sessions_dir: str = 'Sessions',
                 session_file: str = 'session.xml', frame_dir: str = 'frames', frame_mode: str = 'middle',
                 num_frames: int = 3, emotion_codes=None, with_neutral: bool = False, fold: int = 0,
                 num_folds: int = 10, split_seed=None, test_subjects=None, **kwargs):
        self.split, self.sessions_dir, self.session_file, self.frame_dir = split, sessions_dir, session_file, \
            frame_dir
        self.frame_mode, self.num_frames, self.with_neutral = frame_mode, num_frames, with_neutral
        self.emotion_codes = {int(k): canonical_expression(v) for k, v in
                              (emotion_codes or MMI_EMOTION_CODES).items()}
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    def _decode(self, value, where):
        value = str(value).strip()
        try:
            code = int(float(value))
        except ValueError:
            try:
                return canonical_expression(value)
            except KeyError:
                return self.bad(where, f'emotion {value!r} is neither a code {sorted(self.emotion_codes)} nor a '
                                'known expression name')
        if code not in self.emotion_codes:
            return self.bad(where, f'emotion code {code} is not one of {sorted(self.emotion_codes)}')
        return self.emotion_codes[code]

    def _annotations(self, sessions_root):
        """``[(session, subject, expression, where)]`` and the count of unlabelled sessions."""
        out, unlabelled = [], 0
        if self.ann_file:
            self.require_file(self.ann_file, 'annotation CSV')
            with open(self.ann_file, newline='', encoding='utf-8') as f:
                reader = csv.DictReader(f)
                fields = [h.strip().lower() for h in reader.fieldnames or []]
                if not {'session', 'subject', 'emotion'} <= set(fields):
                    raise DatasetLayoutError(f'MMIDataset: {self.ann_file!r} has columns {reader.fieldnames}, '
                                             f'expected session,subject,emotion. Expected layout: {self.LAYOUT}.')
                for line_no, row in enumerate(reader, 2):
                    row = {k.strip().lower(): (v or '').strip() for k, v in row.items() if k}
                    if not row['emotion']:
                        unlabelled += 1
                        continue
                    out.append((row['session'], row['subject'], row['emotion'], f'{self.ann_file}:{line_no}'))
            return out, unlabelled
        for session in sorted(os.listdir(sessions_root), key=natural_key):
            sdir = osp.join(sessions_root, session)
            if session.startswith('.') or not osp.isdir(sdir):
                continue
            xml_path = osp.join(sdir, self.session_file)
            if not osp.isfile(xml_path):
                self.bad(xml_path, 'session metadata file is missing', FileNotFoundError)
                continue
            try:
                subject, emotion = read_mmi_session_xml(xml_path)
            except DatasetLayoutError as e:
                self.bad(xml_path, str(e))
                continue
            if emotion is None or not str(emotion).strip():
                unlabelled += 1
                continue
            if subject is None:
                self.bad(xml_path, 'no <subject id=".."/> element (nor subjectId attribute)')
                continue
            out.append((session, subject, emotion, xml_path))
        return out, unlabelled

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root')
        sessions_root = self.require_dir(osp.join(self.data_root, self.sessions_dir), 'sessions folder')
        annotations, unlabelled = self._annotations(sessions_root)
        sessions = []
        for session, subject, emotion, where in annotations:
            expression = self._decode(emotion, where)
            if expression is None:
                continue
            fdir = osp.join(sessions_root, session, self.frame_dir)
            if not osp.isdir(fdir) or not list_images(fdir):
                self.bad(fdir, 'session has no extracted frames', FileNotFoundError)
                continue
            sessions.append((session, str(subject), expression, fdir, list_images(fdir)))
        if not sessions:
            raise FileNotFoundError(f'MMIDataset: no emotion-labelled session with frames under '
                                    f'{sessions_root!r} ({unlabelled} unlabelled). Expected layout: {self.LAYOUT}.')
        keep = split_subjects([s[1] for s in sessions], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        data_list = []
        for session, subject, expression, fdir, frames in sessions:
            if subject not in keep:
                continue
            label = self.label_index(expression)
            if label is None:
                continue
            for frame in select_frames(frames, self.frame_mode, self.num_frames):
                path = osp.join(fdir, frame)
                if not self.image_ok(path):
                    continue
                info = dict(img_path=path, gt_label=label, subject_id=subject, modality='vis', session=session)
                if self.with_neutral:
                    info['neutral_img_path'] = osp.join(fdir, frames[0])
                data_list.append(info)
        self.report(dict(unlabelled_sessions=unlabelled))
        return data_list
