"""MMI Facial Expression Database (Pantic, Valstar, Rademaker & Maat, ICME 2005), read from the release as
downloaded: one video and its XML metadata per session folder; frames are decoded with OpenCV on demand."""
import csv
import logging
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Dict, NamedTuple, Optional

from mmengine.logging import print_log

from fertools.registry import DATASETS

from .expressions import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, canonical_expression
from .reader_utils import DatasetLayoutError, FERReaderBase, select_frames
from .splits import natural_key, split_subjects
from .video_frames import VideoDecodeError, VideoFrames

__all__ = ['MMIDataset', 'MMI_CLASSES', 'MMI_EMOTION_CODES', 'MMI_VIEWS', 'MMISession', 'MMISessionInfo',
           'mmi_expression', 'read_mmi_session_xml', 'read_mmi_media_xml', 'read_mmi_session']

#: MMI's emotion codes (``<Metatag Name="Emotion" Value="N"/>`` of the media XML): 1..6.
MMI_EMOTION_CODES = {1: ANGER, 2: DISGUST, 3: FEAR, 4: HAPPINESS, 5: SADNESS, 6: SURPRISE}
#: Default class order (code order).
MMI_CLASSES = tuple(MMI_EMOTION_CODES[i] for i in sorted(MMI_EMOTION_CODES))
#: ``<track view="N">`` of ``session.xml`` → view name. Not documented by the release; inferred from the
#: recordings (frontal, profile and dual view = frontal + mirrored profile side by side in one frame) and from
#: public parsers, which keep views 0 and 2 for frontal faces.
MMI_VIEWS = {'0': 'frontal', '1': 'profile', '2': 'dual'}
#: Video file extensions of a session folder (compared lower-case).
VIDEO_EXTENSIONS = ('.avi', )

_SUBJECT_IN_STEM = re.compile(r'^S(\d+)-', re.IGNORECASE)


class MMISessionInfo(NamedTuple):
    """What ``session.xml`` says: subject id, ``<track view>`` code, annotation file name (each may be None)."""
    subject: Optional[str]
    view: Optional[str]
    annotation: Optional[str]


class MMISession(NamedTuple):
    """One session folder: its name, video path, subject id, view code and raw Emotion value (None = AU only)."""
    session: str
    video: str
    subject: str
    view: Optional[str]
    emotion: Optional[str]


def _xml_elements(path: str):
    """``[(local tag lower-case, {attribute lower-case: value})]`` of every element of an XML file."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DatasetLayoutError(f'MMI metadata file {path!r} is not valid XML: {e}') from None
    return [(el.tag.rsplit('}', 1)[-1].lower(), {k.lower(): v for k, v in el.attrib.items()}) for el in root.iter()]


def _subject_id(text: str) -> str:
    """Subject id as a string, leading zeros dropped from a number (``'015'`` → ``'15'``)."""
    text = str(text).strip()
    return str(int(text)) if text.isdigit() else text


def mmi_expression(value, emotion_codes: Optional[Dict[int, str]] = None) -> Optional[str]:
    """Expression of an Emotion value (``'6'`` → ``'surprise'``); None when it is not a code of ``emotion_codes``
    (default :data:`MMI_EMOTION_CODES`) or not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return (emotion_codes or MMI_EMOTION_CODES).get(int(number)) if number.is_integer() else None


def read_mmi_session_xml(path: str) -> MMISessionInfo:
    """:class:`MMISessionInfo` from an MMI ``session.xml``.

    The subject is the ``id`` of the first ``<subject>`` element, the view the ``view`` attribute of the first
    ``<track>`` element and the annotation the ``filename`` of the last ``<annotation>`` element (tags and
    attribute names in any case).
    """
    subject = view = annotation = None
    for tag, attrs in _xml_elements(path):
        if tag == 'subject' and subject is None and attrs.get('id'):
            subject = _subject_id(attrs['id'])
        elif tag == 'track' and view is None and 'view' in attrs:
            view = attrs['view'].strip()
        elif tag == 'annotation' and 'filename' in attrs:
            annotation = attrs['filename']
    return MMISessionInfo(subject, view, annotation)


def read_mmi_media_xml(path: str) -> Optional[str]:
    """The ``Value`` of the ``<Metatag Name="Emotion" .../>`` of an MMI media XML (``S001-001.xml``), or None."""
    for tag, attrs in _xml_elements(path):
        if tag == 'metatag' and attrs.get('name', '').strip().lower() == 'emotion':
            value = attrs.get('value', '').strip()
            return value or None
    return None


def read_mmi_session(session_dir: str, session_file: str = 'session.xml') -> Optional[MMISession]:
    """Read one MMI session folder; ``None`` when it holds no video (a still-image session).

    The video is the folder's one ``.avi``; its media XML has the same stem (``S001-001.avi`` →
    ``S001-001.xml``) and gives the emotion; ``session_file`` (optional) gives subject and view; without a
    subject there, the subject is the number of the ``S<digits>-`` stem.

    Raises:
        FileNotFoundError: the media XML is missing.
        DatasetLayoutError: several videos, invalid XML, or no subject anywhere.
    """
    videos = sorted(f for f in os.listdir(session_dir)
                    if not f.startswith('.') and f.lower().endswith(VIDEO_EXTENSIONS))
    if not videos:
        return None
    if len(videos) > 1:
        raise DatasetLayoutError(f'MMI session folder {session_dir!r} holds {len(videos)} videos {videos}; the '
                                 'release has one per session.')
    stem = osp.splitext(videos[0])[0]
    media = osp.join(session_dir, stem + '.xml')
    if not osp.isfile(media):
        raise FileNotFoundError(f'MMI media XML {media!r} (same name as the video) is missing.')
    session_xml = osp.join(session_dir, session_file)
    info = read_mmi_session_xml(session_xml) if osp.isfile(session_xml) else MMISessionInfo(None, None, None)
    subject = info.subject
    if subject is None:
        match = _SUBJECT_IN_STEM.match(stem)
        if match is None:
            raise DatasetLayoutError(f'MMI session {session_dir!r} names no subject: no <subject id=".."/> in '
                                     f'{session_file} and the video {videos[0]!r} is not named S<digits>-...')
        subject = _subject_id(match.group(1))
    return MMISession(osp.basename(osp.normpath(session_dir)), osp.join(session_dir, videos[0]), subject,
                      info.view, read_mmi_media_xml(media))


@DATASETS.register_module()
class MMIDataset(FERReaderBase):
    """MMI: posed onset-apex-offset videos; the usual FER protocol takes the 3 middle (apex) frames of each
    emotion-labelled session and runs 10-fold person-independent cross-validation.

    Layout of the release as downloaded (every name in ``data_root`` is configurable)::

        data_root/
          Sessions/                         # sessions_dir
            1767/                           # one folder per session (its id)
              S015-003.avi                  # the video: neutral -> apex -> neutral
              S015-003.xml                  # media XML, same stem: <Metatag Name="Emotion" Value="6"/>
              session.xml                   # session_file: <subject id="15"/>, <track view="0">,
                                            #   <annotation filename="S015-003-oao_aucs.xml"/>
              S015-003-oao_aucs.xml         # FACS onset/apex/offset markers (not used)
          frames_cache/                     # cache_dir, written by this reader or extract_frames.py
            1767/S015-003/                  #   frames.json, 000000.png ... (fertools.datasets.video_frames)
          annotations.csv                   # OPTIONAL ann_file "session,subject,emotion": overrides the labels

    Labels: the ``Emotion`` metatag of the media XML: ``1`` anger, ``2`` disgust, ``3`` fear, ``4`` happiness,
    ``5`` sadness, ``6`` surprise (``MMI_CLASSES``; ``emotion_codes`` overrides the map). Sessions without it
    (MMI's many AU-only sessions) are not used, and sessions whose value is outside the map (the release has
    values above 6, which public parsers skip) are skipped; both counts are logged, the latter on its own line
    with the values seen. ``subject_id`` is the ``<subject id>`` of ``session.xml``, else the number of the
    video's ``S<digits>-`` stem (``'15'`` either way); ``modality`` is ``'vis'``; each sample carries
    ``session`` and ``view`` (a name of ``view_names``, the raw code if unmapped, None without ``session.xml``).
    Session folders without a video (MMI's still-image sessions) are counted and skipped. After loading,
    ``self.exclusions`` holds the skipped-session counts (``unlabelled_sessions``, ``emotion_out_of_map``,
    ``sessions_without_video``, ``other_view_sessions``), ``self.out_of_map`` the out-of-map values seen and
    ``self.decoded_videos`` how many videos this build had to decode.

    Views: ``<track view="N">`` of ``session.xml`` maps through ``view_names`` (default :data:`MMI_VIEWS`:
    ``'0'`` frontal, ``'1'`` profile, ``'2'`` dual = frontal and mirrored profile side by side in one frame;
    inferred, not documented by the release). ``view='frontal'`` keeps frontal sessions only,
    ``view=('frontal', 'dual')`` every session with a frontal face; other sessions are counted and skipped.

    Frames: decoded from the video with OpenCV into ``cache_dir`` (relative to ``data_root`` unless absolute;
    point it elsewhere when the release is read-only): only the frames a sample uses, each file written
    atomically; the cache records the video's size and modification time, so a changed video is decoded again,
    and a rerun reuses the frames. ``tools/dataset_converters/extract_frames.py`` fills the same cache
    beforehand (in parallel); with ``decode=False`` a missing frame is an error that names that tool.
    ``frame_mode`` / ``num_frames`` choose the labelled frames of the whole video (``'middle'``: the apex of
    onset-apex-offset videos).

    ``with_neutral=True`` adds ``neutral_img_path``: the first frame of the sample's own video (MMI videos
    start neutral; same subject, session and camera), which ``LoadFERImage`` loads as ``neutral_img``
    (IDFERM's query / neutral-reference pairs).

    Args:
        data_root (str): folder holding ``sessions_dir``.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        ann_file (str): optional CSV (relative to ``data_root``) ``session,subject,emotion`` (code or name) that
            replaces subject and label and selects the sessions; ``''`` = read the XML files.
        sessions_dir, session_file (str): names in the layout above.
        cache_dir (str): frame cache folder.
        decode (bool): decode frames missing from the cache while building the data list.
        view (str | sequence | None): view name(s) to keep; None keeps every session.
        view_names (dict | None): ``<track view>`` code → name, default :data:`MMI_VIEWS`.
        frame_mode (str), num_frames (int): labelled frames per video (``'middle'``, 3 by default; see
            :func:`~fertools.datasets.reader_utils.select_frames`).
        emotion_codes (dict | None): code → expression name, default :data:`MMI_EMOTION_CODES`.
        with_neutral (bool): add ``neutral_img_path`` = the video's first frame.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
    """

    METAINFO = dict(classes=MMI_CLASSES)
    LAYOUT = ('data_root/Sessions/<session id>/{S001-001.avi, S001-001.xml (<Metatag Name="Emotion" Value="1-6"/>: '
              'anger, disgust, fear, happiness, sadness, surprise), session.xml (<subject id=".."/>, <track '
              'view="0|1|2">)}; frames are decoded into data_root/frames_cache (cache_dir)')

    def __init__(self, data_root: str, split: str = 'train', ann_file: str = '', sessions_dir: str = 'Sessions',
                 session_file: str = 'session.xml', cache_dir: str = 'frames_cache', decode: bool = True,
                 view=None, view_names: Optional[Dict] = None, frame_mode: str = 'middle', num_frames: int = 3,
                 emotion_codes: Optional[Dict] = None, with_neutral: bool = False, fold: int = 0,
                 num_folds: int = 10, split_seed=None, test_subjects=None, **kwargs):
        self.split, self.sessions_dir, self.session_file = split, sessions_dir, session_file
        self.cache_dir, self.decode = cache_dir, decode
        self.frame_mode, self.num_frames, self.with_neutral = frame_mode, num_frames, with_neutral
        self.emotion_codes = {int(k): canonical_expression(v) for k, v in
                              (emotion_codes or MMI_EMOTION_CODES).items()}
        self.view_names = {str(k): str(v) for k, v in (view_names or MMI_VIEWS).items()}
        if view is not None:
            view = (view, ) if isinstance(view, str) else tuple(view)
            unknown = sorted(set(view) - set(self.view_names.values()))
            if unknown:
                raise ValueError(f'MMIDataset: view {unknown} is not one of {sorted(set(self.view_names.values()))} '
                                 f'(session.xml <track view> codes: {self.view_names}); fix view or view_names.')
        self.view = view
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    # ------------------------------------------------------------------ labels
    def _csv_labels(self) -> Dict[str, tuple]:
        """``{session: (subject, emotion, where)}`` from ``ann_file``; rows without an emotion are left out."""
        self.require_file(self.ann_file, 'annotation CSV')
        out = {}
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            fields = [h.strip().lower() for h in reader.fieldnames or []]
            if not {'session', 'subject', 'emotion'} <= set(fields):
                raise DatasetLayoutError(f'MMIDataset: {self.ann_file!r} has columns {reader.fieldnames}, expected '
                                         f'session,subject,emotion. Expected layout: {self.LAYOUT}.')
            for line_no, row in enumerate(reader, 2):
                row = {k.strip().lower(): (v or '').strip() for k, v in row.items() if k}
                if row['emotion']:
                    out[row['session']] = (_subject_id(row['subject']), row['emotion'],
                                           f'{self.ann_file}:{line_no}')
        return out

    def _csv_expression(self, value: str, where: str) -> Optional[str]:
        """A CSV emotion (code or expression name); anything else goes to :meth:`bad`."""
        expression = mmi_expression(value, self.emotion_codes)
        if expression is None:
            try:
                expression = canonical_expression(value)
            except KeyError:
                return self.bad(where, f'emotion {value!r} is neither a code {sorted(self.emotion_codes)} nor a '
                                'known expression name')
        return expression

    def _sessions(self, sessions_root: str):
        """``[(MMISession, expression, view name)]`` of the labelled sessions that pass the view filter; the others
        are counted in ``self.exclusions`` / ``self.out_of_map``."""
        overrides = self._csv_labels() if self.ann_file else None
        names = [n for n in sorted(os.listdir(sessions_root), key=natural_key)
                 if not n.startswith('.') and osp.isdir(osp.join(sessions_root, n))]
        if overrides is not None:
            for name in sorted(set(overrides) - set(names), key=natural_key):
                self.bad(osp.join(sessions_root, name), f'session listed in {self.ann_file} has no folder',
                         FileNotFoundError)
            names = [n for n in names if n in overrides]
        out = []
        for name in names:
            sdir = osp.join(sessions_root, name)
            try:
                session = read_mmi_session(sdir, self.session_file)
            except (DatasetLayoutError, FileNotFoundError) as e:
                self.bad(sdir, str(e), type(e))
                continue
            if session is None:
                self.exclusions['sessions_without_video'] += 1
                continue
            if overrides is not None:
                subject, value, where = overrides[name]
                expression = self._csv_expression(value, where)
                session = session._replace(subject=subject)
            elif session.emotion is None:
                self.exclusions['unlabelled_sessions'] += 1
                continue
            else:
                expression = mmi_expression(session.emotion, self.emotion_codes)
                if expression is None:
                    self.out_of_map[session.emotion] += 1
            if expression is None:
                continue
            view = None if session.view is None else self.view_names.get(session.view, session.view)
            if self.view is not None and view not in self.view:
                self.exclusions['other_view_sessions'] += 1
                continue
            out.append((session, expression, view))
        return out

    # ------------------------------------------------------------------ frames
    def _frames(self, session: MMISession, cache_root: str):
        """``(VideoFrames, labelled frame indices)`` with those frames (and frame 0 with ``with_neutral``)
        in the cache, or None after :meth:`bad`."""
        frames = VideoFrames(session.video, osp.join(cache_root, session.session))
        try:
            n = frames.num_frames if self.decode else frames.cached_num_frames()
            picked = [] if n is None else select_frames(range(n), self.frame_mode, self.num_frames)
            need = picked + [0] if self.with_neutral else picked
            if self.decode:
                self.decoded_videos += bool(frames.extract(need))
            elif n is None or frames.missing(need):
                return self.bad(frames.dir, f'frames of {session.video!r} are not in the cache; run `python tools/'
                                f'dataset_converters/extract_frames.py {self.data_root}` or pass decode=True',
                                FileNotFoundError)
        except VideoDecodeError as e:
            return self.bad(session.video, str(e), VideoDecodeError)
        return frames, picked

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root')
        sessions_root = self.require_dir(osp.join(self.data_root, self.sessions_dir), 'sessions folder')
        self.exclusions, self.out_of_map, self.decoded_videos = Counter(), Counter(), 0
        sessions = self._sessions(sessions_root)
        out_of_map = sum(self.out_of_map.values())
        if out_of_map:
            print_log(f'MMIDataset(data_root={self.data_root!r}): skipped {out_of_map} session(s) '
                      f'whose Emotion value is outside {sorted(self.emotion_codes)} (values seen: '
                      f'{dict(sorted(self.out_of_map.items()))})', logger='current', level=logging.INFO)
        if not sessions:
            raise FileNotFoundError(f'MMIDataset: no usable emotion-labelled session with a video under '
                                    f'{sessions_root!r} ({dict(self.exclusions)}, Emotion values outside the map: '
                                    f'{out_of_map}, view filter: {self.view}). '
                                    f'Expected layout: {self.LAYOUT}.')
        keep = split_subjects([s.subject for s, _, _ in sessions], self.split, self.fold, self.num_folds,
                              self.split_seed, self.test_subjects)
        cache_root = self.cache_dir if osp.isabs(self.cache_dir) else osp.join(self.data_root, self.cache_dir)
        data_list = []
        for session, expression, view in sessions:
            if session.subject not in keep:
                continue
            label = self.label_index(expression)
            if label is None:
                continue
            got = self._frames(session, cache_root)
            if got is None:
                continue
            frames, picked = got
            for i in picked:
                path = frames.path(i)
                if not self.image_ok(path):
                    continue
                info = dict(img_path=path, gt_label=label, subject_id=session.subject, modality='vis',
                            session=session.session, view=view)
                if self.with_neutral:
                    info['neutral_img_path'] = frames.path(0)
                data_list.append(info)
        self.report(dict(self.exclusions, decoded_videos=self.decoded_videos))
        self.exclusions['emotion_out_of_map'] = out_of_map
        return data_list
